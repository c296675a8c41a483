"""Message bubbles: a QListView with a painting delegate, fast with thousands of messages.

Each bubble is a :class:`~archpal_desktop.ui.markdown.SafeDocument` laid out at the bubble's
width. Documents and heights are cached per (message, text, width), so scrolling and a
streaming reply only lay out what changed. The few rows a person is working with carry a
:class:`~archpal_desktop.ui.message_card.MessageCard` (selectable text, real buttons) as a
persistent editor; the rest are only painted.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from archpal_desktop.core.cache import Message
from archpal_desktop.ui import a11y, chat_actions, markdown, theme
from archpal_desktop.ui.bubble_delegate import STATE_TEXT, Geometry, MessageDelegate
from archpal_desktop.ui.chat_model import MessageModel, MessageRole
from archpal_desktop.ui.message_card import KeepCardFocus, MessageCard

__all__ = ["ChatView", "MessageDelegate", "STATE_TEXT"]

class ChatView(QListView):
    """The conversation pane. Signals say what the user asked for; the window acts on them."""

    retry_requested = Signal(str)      # message_id of the failed reply
    continue_requested = Signal(str)   # message_id of the stopped reply
    ask_again_requested = Signal(str)  # message_id of the student's question
    ask_now_requested = Signal(str)    # message_id of a question with no reply yet
    edit_requested = Signal(str)       # a sent message's text, for the composer
    stop_requested = Signal()
    sprint_start_requested = Signal(object)   # the coach's offer (its message) the student accepted
    sprint_decline_requested = Signal(str)    # message_id of the offer: "Not now"
    link_refused = Signal(str)      # a link the app will not open (not https/mailto)
    message_copied = Signal(str)

    MAX_CARDS = 8

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("chatView")
        self.setAccessibleName("Conversation messages")
        self.setAccessibleDescription("Use the arrow keys to move between messages, Tab to reach a "
                                      "message's text and buttons; Ctrl+C copies one.")
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(True)
        self.setUniformItemSizes(False)
        self.cards: dict[str, MessageCard] = {}
        self.sprint_answered: set[str] = set()   # offers started or declined (core/sprints)
        self.sprint_running = False
        self._hover: str | None = None
        self.chat_model = MessageModel(self)
        self.setModel(self.chat_model)
        self.delegate = MessageDelegate(self)
        self.setItemDelegate(self.delegate)
        self._stick = True
        self._loading_older = False
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.chat_model.rowsInserted.connect(self._rows_inserted)
        self.chat_model.modelReset.connect(self._model_reset)
        self._keep_focus = KeepCardFocus(self)
        self._unhighlight = QTimer(self, singleShot=True, interval=2500)
        self._unhighlight.timeout.connect(self._clear_highlight)
        # AT-SPI calls the current message "focused": current only with focus (the selection stays)
        a11y.current_item_on_focus(self, last=True)
        a11y.describe_when_empty(self, self.EMPTY_TEXT)
        a11y.reader_on_enter(self, MessageRole)
        self._cards_timer = QTimer(self, singleShot=True, interval=0)
        self._cards_timer.timeout.connect(self.sync_cards)
        self.chat_model.rowsInserted.connect(lambda *_a: self._cards_timer.start())
        self.chat_model.dataChanged.connect(lambda *_a: self._cards_timer.start())
        self.selectionModel().currentChanged.connect(lambda *_a: self._cards_timer.start())

    # -- content ------------------------------------------------------------------------------
    def show_messages(self, conversation_id: str | None, messages: list[Message]) -> None:
        self.delegate.highlight_id = None
        self.chat_model.set_messages(conversation_id, messages)
        self._stick = True
        self.doItemsLayout()
        self.scrollToBottom()
        # the cards come a turn later (the reset started their timer): the painted bubbles look
        # the same, and opening a conversation paints first

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

    def set_stopped(self, ids) -> None:
        """Which failed replies the student stopped (shown "Stopped", with Continue)."""
        ids = set(ids)
        if ids != self.chat_model.stopped:
            self.chat_model.stopped = ids
            self.delegate._sizes.clear()
            for card in list(self.cards.values()):
                card._key = None
                if card.msg is not None:
                    card.set_message(card.msg)
            self.viewport().update()

    def set_answering(self, busy: bool) -> None:
        self.chat_model.answering = busy
        for card in list(self.cards.values()):
            if card.msg is not None:
                card.set_message(card.msg)
        self.viewport().update()

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

    def _model_reset(self) -> None:
        # the view deletes every editor on a reset; forget them and open the wanted ones again
        self.cards.clear()
        self._cards_timer.start()

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

    def current_message(self) -> Message | None:   # current, or (focus elsewhere) selected
        idx = self._at_index()
        return idx.data(MessageRole) if idx.isValid() else None

    def sprint_offer_open(self, msg: Message) -> bool:
        """The coach's sprint offer still waits for the student's Start or Not now."""
        offer = msg.sprint if msg.role == "assistant" else None
        return bool(offer) and offer.get("outcome") == "proposed" and not self.sprint_running \
            and msg.local_state is None and offer.get("sprint_id") not in self.sprint_answered

    def set_sprint_state(self, answered: set[str], running: bool) -> None:
        if answered == self.sprint_answered and running == self.sprint_running:
            return
        self.sprint_answered, self.sprint_running = set(answered), running
        for card in list(self.cards.values()):
            if card.msg is not None:
                card.set_message(card.msg)
        self._cards_timer.start()

    def _at_index(self):
        idx = self.currentIndex()
        if not idx.isValid() and self.selectionModel() is not None:
            chosen = self.selectionModel().selectedIndexes()
            if chosen:
                idx = chosen[0]
        return idx

    def refresh_look(self) -> None:
        self.delegate.reset_caches()
        for card in list(self.cards.values()):
            card._key = None
            if card.msg is not None:
                card.set_message(card.msg)
        self.doItemsLayout()
        self.viewport().update()

    # -- cards ----------------------------------------------------------------------------------
    def _wanted(self) -> list[int]:
        """Rows that carry real widgets: the ones a person is at or must act on."""
        model = self.chat_model
        n = model.rowCount()
        rows: list[int] = []

        def want(row: int) -> None:
            if 0 <= row < n and row not in rows:
                rows.append(row)
        cur = self._at_index()
        if cur.isValid():
            want(cur.row())
        if self._hover:
            want(model.row_of(self._hover, reveal=False))
        for row in range(n - 1, max(-1, n - 12), -1):   # the newest few rows
            msg = model.index(row).data(MessageRole)
            st = self.delegate.state(msg)
            if msg.role == "assistant" and (model.is_last_run(msg) or st in ("failed", "stopped", "streaming")):
                want(row)
            elif st == "unanswered" or self.sprint_offer_open(msg):
                want(row)
        return rows[:self.MAX_CARDS]

    def sync_cards(self) -> None:
        model = self.chat_model
        wanted = self._wanted()
        keep = {model.index(r).data(MessageRole).message_id for r in wanted}
        for mid in [m for m in self.cards if m not in keep]:
            row = model.row_of(mid, reveal=False)
            card = self.cards.pop(mid)
            if row >= 0:
                self.closePersistentEditor(model.index(row))
            else:
                card.deleteLater()
        for row in wanted:
            idx = model.index(row)
            if idx.data(MessageRole).message_id not in self.cards:
                self.openPersistentEditor(idx)
        self._chain_focus()
        self._keep_focus.restore()
        self.viewport().update()

    def _chain_focus(self) -> None:
        """Tab goes from the list into the cards' text and buttons, in reading order, then on."""
        after = self.nextInFocusChain()
        while after is not None and after is not self and self.isAncestorOf(after):
            after = after.nextInFocusChain()
        order = sorted(self.cards.values(), key=lambda c: c.y())
        prev: QWidget = self
        for card in order:
            for w in card.focusables():
                QWidget.setTabOrder(prev, w)
                prev = w
        if after is not None and after is not self and prev is not self:
            QWidget.setTabOrder(prev, after)

    def card(self, message_id: str) -> MessageCard | None:
        return self.cards.get(message_id)

    # -- actions --------------------------------------------------------------------------------
    def copy_message(self, msg: Message | None = None) -> None:
        chat_actions.copy_message(self, msg)

    def copy_markdown(self, msg: Message | None) -> None:
        chat_actions.copy_markdown(self, msg)

    def copy_text(self, text: str, msg: Message | None) -> None:
        chat_actions.copy_text(self, text, msg)

    def ask_again(self, reply_id: str) -> None:
        msg = self.chat_model.message(reply_id)
        question = self.chat_model.question_of(msg) if msg else None
        if question is not None:
            self.ask_again_requested.emit(question.message_id)

    def show_alternative(self, message_id: str, step: int) -> None:
        msg = self.chat_model.message(message_id)
        if msg is None:
            return
        alts = self.chat_model.alternatives(msg)
        pos = next(i for i, m in enumerate(alts) if m.message_id == message_id) + step
        if 0 <= pos < len(alts):
            target = alts[pos].message_id
            stick = self._at_bottom()
            row = self.chat_model.choose(target)
            self._relayout(stick)
            self.sync_cards()
            card = self.cards.get(target)
            if card is not None:   # keep the keyboard where it was
                b = card.buttons.get("prev" if step < 0 else "next")
                if b is not None and b.isEnabled():
                    b.setFocus()
                elif card.buttons.get("count") is not None:
                    (card.buttons.get("next") or card.buttons["prev"]).setFocus()
            if row >= 0:
                self.setCurrentIndex(self.chat_model.index(row))

    def show_all(self, msg: Message | None) -> None:
        chat_actions.show_all(self, msg)

    def open_attachment(self, msg: Message | None, i: int) -> None:
        chat_actions.open_attachment(self, msg, i)

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
        msg, _g = self._hit(pos)
        hover = msg.message_id if msg is not None else None
        if hover != self._hover:
            # the row under the mouse gets its card, so a press lands on selectable text
            self._hover = hover
            self._cards_timer.start()
        over = bool(self.anchor_at(pos))
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        super().leaveEvent(event)
        if self._hover is not None:   # the mouse left the conversation: its card can go
            self._hover = None
            self._cards_timer.start()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            href = self.anchor_at(pos)
            if href:
                self.activate_link(href, self._anchor_text_at(pos))
                return
        super().mouseReleaseEvent(event)

    def _anchor_text_at(self, pos: QPoint) -> str:
        msg, g = self._hit(pos)
        if msg is None or g is None:
            return ""
        doc = self.delegate.document(msg, self.viewport().width())
        return markdown.anchor_text_at(doc, QPointF(pos - g.text.topLeft()))

    def activate_link(self, href: str, text: str = "") -> bool:
        return chat_actions.activate_link(self, href, text)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        chat_actions.context_menu(self, event)

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
        for card in list(self.cards.values()):   # their text is laid out for the old width
            card._key = None
            if card.msg is not None:
                card.set_message(card.msg)
        if stick:
            QTimer.singleShot(0, self, self.scrollToBottom)
