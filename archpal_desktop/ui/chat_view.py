"""Message bubbles: a QListView with a painting delegate, fast with thousands of messages.

Each bubble is a :class:`~archpal_desktop.ui.markdown.SafeDocument` laid out at the bubble's
width. Documents and heights are cached per (message, text, width), so scrolling and a
streaming reply only lay out what changed.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (QAbstractTextDocumentLayout, QColor, QFont, QFontMetrics, QGuiApplication,
                           QKeySequence, QPainter, QPalette, QPen)
from PySide6.QtWidgets import (QAbstractItemView, QListView, QMenu, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem)

from archpal_desktop.core import layout
from archpal_desktop.core.store import Message
from archpal_desktop.ui import a11y, companion, markdown, theme
from archpal_desktop.ui.chat_model import MessageModel, MessageRole

log = logging.getLogger(__name__)

AVATAR = 40
MARGIN = 12
PAD = 10
GAP = 10
DOC_CACHE = 400

STATE_TEXT = {
    "waiting": "Waiting for ArchPal: saved here, answered when a connection is back",
    # a question with no reply that this device did not queue (another device, or a web-app
    # conversation whose reply was lost): not ours to answer automatically
    "unanswered": "No reply yet",
    "answering": "Sent",
    "streaming": "ArchPal is writing… (Esc to stop)",
    "failed": "This reply stopped before the end; the partial text is kept.",
}
RETRY_TEXT = "Retry"


@dataclass
class Geometry:
    bubble: QRect
    text: QRect
    avatar: QRect | None
    meta: QRect
    retry: QRect | None


def time_text(ts: str) -> str:
    try:
        dt = layout.parse_ts(ts).astimezone()
    except Exception:  # a bad timestamp from another client must not break painting
        return ""
    return dt.strftime("%d %b %Y, %H:%M")


class MessageDelegate(QStyledItemDelegate):
    def __init__(self, view: "ChatView"):
        super().__init__(view)
        self._view = view
        self._docs: OrderedDict[tuple, markdown.SafeDocument] = OrderedDict()
        self._sizes: dict[str, tuple[tuple, QSize]] = {}
        self.highlight_id: str | None = None
        self.font = QFont(view.font())
        self.small = QFont(self.font)
        self.small.setPointSizeF(max(7.0, self.font.pointSizeF() * 0.85))

    def reset_caches(self) -> None:
        self._docs.clear()
        self._sizes.clear()
        self.font = QFont(self._view.font())
        self.small = QFont(self.font)
        self.small.setPointSizeF(max(7.0, self.font.pointSizeF() * 0.85))

    # -- layout -------------------------------------------------------------------------------
    def _max_text_width(self, width: int, role: str) -> int:
        room = width - 2 * MARGIN - (AVATAR + 8 if role == "assistant" else 48)
        return max(120, min(int(room), 760) - 2 * PAD)

    def _key(self, msg: Message, width: int) -> tuple:
        return (msg.message_id, hash(msg.content), len(msg.content), width, theme.current().name,
                self.font.pointSizeF())

    def document(self, msg: Message, width: int) -> markdown.SafeDocument:
        key = self._key(msg, width)
        doc = self._docs.get(key)
        if doc is not None:
            self._docs.move_to_end(key)
            return doc
        tw = self._max_text_width(width, msg.role)
        text = msg.content or ("…" if msg.local_state == "streaming" else "")
        doc = markdown.make_document(text, markdown=msg.role == "assistant", width=tw, font=self.font)
        ideal = doc.idealWidth()
        if ideal < tw:  # short messages get a snug bubble
            doc.setTextWidth(max(ideal + 1, 24))
        self._docs[key] = doc
        if len(self._docs) > DOC_CACHE:
            self._docs.popitem(last=False)
        return doc

    def _state(self, msg: Message) -> str:
        model = self._view.chat_model
        if msg.role == "user" and model.is_waiting(msg):
            if msg.local_state != "waiting":
                return "unanswered"
            return "answering" if model.answering else "waiting"
        return msg.local_state or "" if msg.role == "assistant" else ""

    def _meta_text(self, msg: Message) -> str:
        who = "You" if msg.role == "user" else "ArchPal"
        when = time_text(msg.timestamp)
        state = STATE_TEXT.get(self._state(msg))
        parts = [who, when] + ([state] if state else [])
        return "  ·  ".join(p for p in parts if p)

    def geometry(self, rect: QRect, msg: Message) -> Geometry:
        doc = self.document(msg, rect.width())
        dw, dh = int(doc.textWidth()), int(doc.size().height())
        sfm = QFontMetrics(self.small)
        meta_h = sfm.height() + 4
        bw, bh = dw + 2 * PAD, dh + 2 * PAD
        top = rect.top() + GAP // 2
        if msg.role == "assistant":
            avatar = QRect(rect.left() + MARGIN, top, AVATAR, AVATAR)
            bx = avatar.right() + 9
        else:
            avatar = None
            bx = rect.right() - MARGIN - bw
        bubble = QRect(bx, top, bw, bh)
        text = QRect(bx + PAD, top + PAD, dw, dh)
        meta = QRect(bx if msg.role == "assistant" else rect.left() + MARGIN, bubble.bottom() + 3,
                     rect.width() - 2 * MARGIN - (bx - rect.left() - MARGIN if msg.role == "assistant" else 0),
                     meta_h)
        retry = None
        if msg.local_state == "failed" and msg.role == "assistant":
            mw = sfm.horizontalAdvance(self._meta_text(msg) + "   ")
            retry = QRect(meta.left() + mw, meta.top(), sfm.horizontalAdvance(RETRY_TEXT) + 8, meta_h)
        return Geometry(bubble, text, avatar, meta, retry)

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:  # noqa: N802
        msg: Message = index.data(MessageRole)
        width = self._view.viewport().width()
        key = self._key(msg, width) + (msg.local_state, self._state(msg))
        cached = self._sizes.get(msg.message_id)
        if cached and cached[0] == key:
            return cached[1]
        g = self.geometry(QRect(0, 0, width, 10_000), msg)
        h = max(g.bubble.height(), AVATAR if g.avatar else 0) + g.meta.height() + GAP + 4
        size = QSize(width, h)
        self._sizes[msg.message_id] = (key, size)
        return size

    # -- painting -----------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        msg: Message = index.data(MessageRole)
        c = theme.current()
        g = self.geometry(option.rect, msg)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if g.avatar is not None:
            dpr = self._view.devicePixelRatioF()
            painter.drawPixmap(g.avatar, companion.pixmap(msg.emotion, AVATAR, dpr))
        user = msg.role == "user"
        fill = QColor(c.user_bubble if user else c.reply_bubble)
        border = QColor(c.reply_border)
        state = self._state(msg)
        if state == "waiting":
            fill = QColor(c.waiting_bubble)   # its own colour: translucency lost text contrast
        if self.highlight_id == msg.message_id:
            border = QColor(c.warn)
        selected = bool(option.state & QStyle.StateFlag.State_Selected) and self._view.hasFocus()
        painter.setPen(QPen(border, 2 if self.highlight_id == msg.message_id else 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(g.bubble).adjusted(0.5, 0.5, -0.5, -0.5), 12, 12)
        if selected:   # the focus ring, outside the bubble, on the window colour (>= 3:1)
            painter.setPen(QPen(QColor(c.focus), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(g.bubble).adjusted(-3, -3, 3, 3), 14, 14)

        doc = self.document(msg, option.rect.width())
        painter.translate(g.text.topLeft())
        ctx = QAbstractTextDocumentLayout.PaintContext()
        pal = QPalette(option.palette)
        pal.setColor(QPalette.ColorRole.Text, QColor(c.user_text if user else c.text))
        pal.setColor(QPalette.ColorRole.Link, QColor(c.link))
        ctx.palette = pal
        ctx.clip = QRectF(0, 0, g.text.width(), g.text.height())
        doc.documentLayout().draw(painter, ctx)
        painter.translate(-g.text.topLeft())

        painter.setFont(self.small)
        meta_color = QColor(c.warn if state in ("waiting", "failed") else c.muted)
        painter.setPen(meta_color)
        align = Qt.AlignmentFlag.AlignLeft if not user else Qt.AlignmentFlag.AlignRight
        painter.drawText(g.meta, align | Qt.AlignmentFlag.AlignVCenter, self._meta_text(msg))
        if g.retry is not None:
            f = QFont(self.small)
            f.setUnderline(True)
            f.setBold(True)
            painter.setFont(f)
            painter.setPen(QColor(c.link))
            painter.drawText(g.retry, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, RETRY_TEXT)
        painter.restore()


class ChatView(QListView):
    """The conversation pane. Signals say what the user asked for; the window acts on them."""

    retry_requested = Signal(str)   # message_id of the failed reply
    stop_requested = Signal()
    link_refused = Signal(str)      # a link the app will not open (not https/mailto)
    message_copied = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setAccessibleName("Conversation messages")
        self.setAccessibleDescription("Use the arrow keys to move between messages; Ctrl+C copies one.")
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(True)
        self.setUniformItemSizes(False)
        self.chat_model = MessageModel(self)
        self.setModel(self.chat_model)
        self.delegate = MessageDelegate(self)
        self.setItemDelegate(self.delegate)
        self._stick = True
        self._loading_older = False
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.chat_model.rowsInserted.connect(self._rows_inserted)
        self._unhighlight = QTimer(self, singleShot=True, interval=2500)
        self._unhighlight.timeout.connect(self._clear_highlight)
        a11y.current_item_on_focus(self, last=True, only_with_focus=False)
        a11y.describe_when_empty(self, self.EMPTY_TEXT)
        a11y.reader_on_enter(self)

    # -- content ------------------------------------------------------------------------------
    def show_messages(self, conversation_id: str | None, messages: list[Message]) -> None:
        self.delegate.highlight_id = None
        self.chat_model.set_messages(conversation_id, messages)
        self._stick = True
        self.doItemsLayout()
        self.scrollToBottom()

    def append_message(self, msg: Message) -> None:
        self.chat_model.append(msg)

    def update_message(self, msg: Message) -> None:
        stick = self._at_bottom()
        self.chat_model.update(msg)
        self._relayout(stick)

    def stream_text(self, message_id: str, text: str, emotion: str | None = None) -> None:
        """A delta arrived: grow the bubble in place, keep following the end if we were there."""
        stick = self._at_bottom()
        if self.chat_model.set_text(message_id, text, emotion) >= 0:
            self._relayout(stick)

    def _relayout(self, stick: bool) -> None:
        self.doItemsLayout()
        if stick:
            self.scrollToBottom()

    def _rows_inserted(self, _parent, first: int, _last: int) -> None:
        if self._loading_older:
            return
        if first > 0 and (self._stick or self._at_bottom()):
            self.doItemsLayout()
            self.scrollToBottom()

    def _at_bottom(self) -> bool:
        sb = self.verticalScrollBar()
        return sb.value() >= sb.maximum() - 4

    def _scrolled(self, value: int) -> None:
        sb = self.verticalScrollBar()
        self._stick = value >= sb.maximum() - 4
        if value <= sb.minimum() + 2 and self.chat_model.can_fetch_older() and not self._loading_older:
            self._load_older()

    def _load_older(self) -> None:
        sb = self.verticalScrollBar()
        before_max, before_val = sb.maximum(), sb.value()
        self._loading_older = True
        try:
            self.chat_model.fetch_older()
            self.doItemsLayout()
            sb.setValue(sb.maximum() - before_max + before_val)
        finally:
            self._loading_older = False

    def scroll_to_message(self, message_id: str) -> bool:
        row = self.chat_model.row_of(message_id)
        if row < 0:
            return False
        self.doItemsLayout()
        idx = self.chat_model.index(row)
        self.setCurrentIndex(idx)
        self.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtCenter)
        self._stick = False
        self.delegate.highlight_id = message_id
        self._unhighlight.start()
        self.viewport().update()
        return True

    def _clear_highlight(self) -> None:
        self.delegate.highlight_id = None
        self.viewport().update()

    def current_message(self) -> Message | None:
        idx = self.currentIndex()
        return idx.data(MessageRole) if idx.isValid() else None

    def refresh_look(self) -> None:
        self.delegate.reset_caches()
        self.doItemsLayout()
        self.viewport().update()

    # -- user input ---------------------------------------------------------------------------
    def copy_message(self, msg: Message | None = None) -> None:
        msg = msg or self.current_message() or self.chat_model.last()
        if msg is None:
            return
        QGuiApplication.clipboard().setText(msg.content)
        self.message_copied.emit(msg.message_id)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_message()
            return
        super().keyPressEvent(event)

    def _hit(self, pos: QPoint) -> tuple[Message | None, Geometry | None]:
        idx = self.indexAt(pos)
        if not idx.isValid():
            return None, None
        msg = idx.data(MessageRole)
        return msg, self.delegate.geometry(self.visualRect(idx), msg)

    def anchor_at(self, pos: QPoint) -> str:
        msg, g = self._hit(pos)
        if msg is None or g is None or not g.text.contains(pos):
            return ""
        doc = self.delegate.document(msg, self.viewport().width())
        return doc.documentLayout().anchorAt(pos - g.text.topLeft())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position().toPoint()
        msg, g = self._hit(pos)
        over = bool(self.anchor_at(pos)) or bool(g and g.retry and g.retry.contains(pos))
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            msg, g = self._hit(pos)
            if msg is not None and g is not None and g.retry is not None and g.retry.contains(pos):
                self.retry_requested.emit(msg.message_id)
                return
            href = self.anchor_at(pos)
            if href:
                self.activate_link(href)
                return
        super().mouseReleaseEvent(event)

    def activate_link(self, href: str) -> bool:
        """Links open only on a click, only https:/mailto:, outside the app."""
        if markdown.is_openable_link(href):
            return markdown.open_link(href)
        log.info("refused to open a link with scheme %r", href.split(":", 1)[0])
        self.link_refused.emit(href)
        return False

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        idx = self.indexAt(event.pos())
        if idx.isValid():
            self.setCurrentIndex(idx)
        msg = self.current_message()
        menu = QMenu(self)
        copy = menu.addAction("Copy message")
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setEnabled(msg is not None)
        copy.triggered.connect(lambda: self.copy_message(msg))
        if msg is not None and msg.local_state == "failed":
            menu.addAction("Retry reply").triggered.connect(lambda: self.retry_requested.emit(msg.message_id))
        if msg is not None and msg.local_state == "streaming":
            menu.addAction("Stop reply").triggered.connect(self.stop_requested.emit)
        menu.exec(event.globalPos())

    EMPTY_TEXT = ("Tell ArchPal what you are working on: an assignment to plan, a draft to revise,\n"
                  "or a piece to reflect on. ArchPal coaches your own writing; it never writes it for you.")

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if self.chat_model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(QColor(theme.current().muted))
            painter.drawText(self.viewport().rect().adjusted(24, 24, -24, -24),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.EMPTY_TEXT)
            painter.end()

    def resizeEvent(self, event) -> None:  # noqa: N802
        stick = self._at_bottom()
        super().resizeEvent(event)
        if stick:
            QTimer.singleShot(0, self, self.scrollToBottom)
