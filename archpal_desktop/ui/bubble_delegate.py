"""How a message bubble is laid out and painted (the chat view's delegate).

Documents and heights are cached per (message, text, width), so scrolling and a streaming reply
only lay out what changed. The rows that carry a :class:`~archpal_desktop.ui.message_card.MessageCard`
are created here too (as persistent editors) and painted without their text, which the card's
browser draws.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QAbstractTextDocumentLayout, QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from archpal_desktop.core.assistant import provider_label
from archpal_desktop.core.cache import Message
from archpal_desktop.ui import companion, markdown, theme
from archpal_desktop.ui.chat_model import MessageRole
from archpal_desktop.ui.message_card import MessageCard
from archpal_desktop.ui.timetext import time_text

if TYPE_CHECKING:
    from archpal_desktop.ui.chat_view import ChatView

AVATAR = 40
MARGIN = 12
PAD = 10
GAP = 10
DOC_CACHE = 400
BAR_H = 28          # the line under a bubble at the system's size (it grows with the text)
READABLE_CHARS = 75  # a bubble's longest line on a wide screen, in average characters
USER_INDENT = 48    # how far a student's bubble may come from the left of the column

STATE_TEXT = {
    "waiting": "Waiting for ArchPal: saved here, answered when a connection is back",
    # a question with no reply that this device did not queue (another device, or a web-app
    # conversation whose reply was lost): not ours to answer automatically
    "unanswered": "No reply yet",
    # the coach answered with an error (its card, under the messages, says why and what to do)
    "refused": "Not answered: ArchPal could not answer (see below); saved here",
    "answering": "Sent",
    "streaming": "ArchPal is writing… (Esc to stop)",
    "failed": "This reply did not finish; the partial text is kept.",
    "stopped": "Stopped",
}


def sprint_label(msg: Message) -> str:
    """The line under a sprint's card: what kind of sprint message it is."""
    sprint = msg.sprint if msg.role == "assistant" else None
    if not sprint:
        return ""
    outcome, minutes = sprint.get("outcome"), sprint.get("minutes")
    if outcome == "proposed":
        return f"Sprint offer, {minutes} min"
    if outcome == "started":
        return f"Sprint, {minutes} min"
    words = sprint.get("words")
    tail = f", {words:,} words" if isinstance(words, int) and words else ""
    return ("Sprint stopped" if outcome == "stopped" else "Sprint over") + tail


@dataclass
class Geometry:
    bubble: QRect
    text: QRect
    avatar: QRect | None
    meta: QRect


class MessageDelegate(QStyledItemDelegate):
    def __init__(self, view: "ChatView"):
        super().__init__(view)
        self._view = view
        self._docs: OrderedDict[tuple, markdown.SafeDocument] = OrderedDict()
        self._sizes: dict[str, tuple[tuple, QSize]] = {}
        self.highlight_id: str | None = None
        self._fonts(view.font())

    def _fonts(self, font: QFont) -> None:
        """Every size here follows the view's font (the text size setting and zoom)."""
        self.font = QFont(font)
        self.small = QFont(self.font)
        self.small.setPointSizeF(max(7.0, self.font.pointSizeF() * 0.85))
        fm = QFontMetrics(self.font)
        # the average character of prose, lower case and spaces (averageCharWidth() counts capitals)
        sample = "the quick brown fox jumps over a lazy dog "
        self.readable = int(fm.horizontalAdvance(sample) * READABLE_CHARS / len(sample))
        self.bar_h = max(BAR_H, fm.height() + 12)   # the card's buttons sit in it

    def reset_caches(self) -> None:
        self._docs.clear()
        self._sizes.clear()
        self._fonts(self._view.font())

    # -- layout -------------------------------------------------------------------------------
    def column_width(self) -> int:
        """The conversation's widest column: a readable reply beside its avatar, and room for a
        student's bubble to sit right of it."""
        return self.readable + 2 * PAD + AVATAR + 9 + 2 * MARGIN + USER_INDENT

    def column(self, rect: QRect) -> QRect:
        """All of a narrow pane; on a wide one a centred column (bubbles keep a readable width
        and the conversation stays in the middle, as the web apps do)."""
        col = self.column_width()
        if rect.width() <= col:
            return rect
        return QRect(rect.left() + (rect.width() - col) // 2, rect.top(), col, rect.height())

    def _max_text_width(self, width: int, role: str) -> int:
        width = min(width, self.column_width())
        room = width - 2 * MARGIN - (AVATAR + 8 if role == "assistant" else USER_INDENT)
        return max(120, min(int(room), self.readable) - 2 * PAD)

    def key(self, msg: Message, width: int) -> tuple:
        return (msg.message_id, hash(msg.content), len(msg.content), width, theme.current().name,
                self.font.pointSizeF(), self.font.family())

    def document(self, msg: Message, width: int, *, fresh: bool = False) -> markdown.SafeDocument:
        """The bubble's laid-out text; ``fresh`` makes one the caller owns (a card's)."""
        key = self.key(msg, width)
        doc = None if fresh else self._docs.get(key)
        if doc is not None:
            self._docs.move_to_end(key)
            return doc
        tw = self._max_text_width(width, msg.role)
        source = markdown.display_source(msg.content or ("…" if msg.local_state == "streaming" else ""))
        doc = markdown.make_document(source.text, markdown=msg.role == "assistant", width=tw, font=self.font)
        ideal = doc.idealWidth()
        if ideal < tw:  # short messages get a snug bubble
            doc.setTextWidth(max(ideal + 1, 24))
        if doc.code_blocks:   # room for the "Copy code" buttons
            doc.setTextWidth(max(doc.textWidth(), min(tw, 320)))
        if not fresh:
            self._docs[key] = doc
            if len(self._docs) > DOC_CACHE:
                self._docs.popitem(last=False)
        return doc

    def state(self, msg: Message) -> str:
        model = self._view.chat_model
        if msg.role == "user" and model.is_waiting(msg):
            if msg.local_state != "waiting":
                return "unanswered"
            if model.answering:
                return "answering"
            return "refused" if model.coach_refused else "waiting"
        if msg.role != "assistant":
            return ""
        if msg.local_state == "failed" and msg.message_id in model.stopped:
            return "stopped"
        return msg.local_state or ""

    def meta_text(self, msg: Message) -> str:
        who = "You" if msg.role == "user" else provider_label(msg.model)
        when = time_text(msg.timestamp)
        state = STATE_TEXT.get(self.state(msg))
        # an open sprint offer's card carries Start / Not now instead (room on a narrow window)
        sprint = "" if self._view.sprint_offer_open(msg) else sprint_label(msg)
        parts = [who, when] + ([state] if state else []) + [sprint]
        if msg.role == "assistant":
            alts = self._view.chat_model.alternatives(msg)
            if len(alts) > 1 and self._view.cards.get(msg.message_id) is None:
                # the switch is on the card; a painted row still says there is more than one
                pos = next(i for i, m in enumerate(alts) if m.message_id == msg.message_id)
                parts.append(f"answer {pos + 1} of {len(alts)}")
        if len(msg.content) > markdown.DISPLAY_LIMIT:
            parts.append(f"{len(msg.content):,} characters, the start shown")
        return "  ·  ".join(p for p in parts if p)

    def geometry(self, rect: QRect, msg: Message) -> Geometry:
        doc = self.document(msg, rect.width())
        rect = self.column(rect)
        dw, dh = int(doc.textWidth()), int(doc.size().height())
        meta_h = self.bar_h
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
        return Geometry(bubble, text, avatar, meta)

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:  # noqa: N802
        msg: Message = index.data(MessageRole)
        width = self._view.viewport().width()
        key = self.key(msg, width) + (msg.local_state, self.state(msg))
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
        state = self.state(msg)
        if state in ("waiting", "refused"):
            fill = QColor(c.waiting_bubble)   # its own colour: translucency lost text contrast
        width = 1
        if msg.sprint and not user:   # a writing sprint's card: the accent border
            border, width = QColor(c.accent), 2
        if self.highlight_id == msg.message_id:
            border, width = QColor(c.warn), 2
        selected = bool(option.state & QStyle.StateFlag.State_Selected) and self._view.hasFocus()
        painter.setPen(QPen(border, width))
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(g.bubble).adjusted(0.5, 0.5, -0.5, -0.5), 12, 12)
        if selected:   # the focus ring, outside the bubble, on the window colour (>= 3:1)
            painter.setPen(QPen(QColor(c.focus), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(g.bubble).adjusted(-3, -3, 3, 3), 14, 14)

        card = self._view.cards.get(msg.message_id)
        if card is None or not card.has_text:   # a card's text browser draws its own text
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
        # stopped is the student's own choice: neutral, not a warning
        meta_color = QColor(c.warn if state in ("waiting", "refused", "failed") else c.muted)
        painter.setPen(meta_color)
        align = Qt.AlignmentFlag.AlignLeft if not user else Qt.AlignmentFlag.AlignRight
        painter.drawText(g.meta, align | Qt.AlignmentFlag.AlignVCenter, self.meta_text(msg))
        painter.restore()

    # -- the cards (persistent editors) ----------------------------------------------------------
    def createEditor(self, parent: QWidget, option, index) -> QWidget:  # noqa: N802
        return MessageCard(self._view, parent)

    def setEditorData(self, editor: QWidget, index) -> None:  # noqa: N802
        msg = index.data(MessageRole)
        if isinstance(editor, MessageCard) and msg is not None:
            if editor.msg is not None and editor.msg.message_id != msg.message_id:
                self._view.cards.pop(editor.msg.message_id, None)
            self._view.cards[msg.message_id] = editor
            editor.set_message(msg)

    def updateEditorGeometry(self, editor: QWidget, option, index) -> None:  # noqa: N802
        editor.setGeometry(option.rect)

    def destroyEditor(self, editor: QWidget, index) -> None:  # noqa: N802
        if isinstance(editor, MessageCard) and editor.msg is not None:
            if self._view.cards.get(editor.msg.message_id) is editor:
                del self._view.cards[editor.msg.message_id]
        super().destroyEditor(editor, index)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        # cards are not editors: Tab, Enter and Esc must not "commit and close" them
        return False


