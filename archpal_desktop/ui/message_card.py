"""The live part of a bubble: selectable text and real buttons, for the few rows that need them.

The chat view paints every bubble (fast for thousands); the row under the mouse, the current
row, the last reply and any row waiting on the student (stopped, failed, no reply yet) also get
a :class:`MessageCard` as a persistent editor: a read-only text browser over the painted text
(select with mouse or keyboard, links by the safe-link policy) and QToolButtons a keyboard and a
screen reader reach (Copy, Ask again, Retry, Continue, Stop, Edit as a new message, Ask now,
Show all, the alternatives switch and one "Copy code" per code block).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QRect, Qt, QUrl
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QFrame, QHBoxLayout, QTextBrowser, QToolButton, QWidget

from archpal_desktop.core.cache import Message
from archpal_desktop.ui import a11y, markdown, theme
from archpal_desktop.ui.chat_model import sprint_line
from archpal_desktop.ui.timetext import time_text

if TYPE_CHECKING:
    from archpal_desktop.ui.chat_view import ChatView


RING = 2   # the focus ring's width round a card's text
#: the buttons' words in a narrow window (their accessible names and tooltips stay whole)
SHORT = {"copy_md": "Markdown", "ask_again": "Again", "edit": "Edit", "ask_now": "Answer",
         "show_all": "All", "continue": "Go on"}

#: what a card's text tells a screen-reader user after its name (the keys are also in F1)
CARD_HELP = "Arrow keys read the message; Tab goes on to its buttons."


class BubbleText(QTextBrowser):
    """Read-only, selectable, never loads a resource, follows a link only through the view."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("bubbleText")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportMargins(0, 0, 0, 0)
        self.viewport().setAutoFillBackground(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)

    def loadResource(self, kind: int, url: QUrl):  # noqa: N802 - nothing is ever fetched
        return None

    def wheelEvent(self, event) -> None:  # noqa: N802 - the conversation scrolls, not the bubble
        event.ignore()


def _button(parent: QWidget, text: str, name: str, slot: Callable[[], None], tip: str = "") -> QToolButton:
    b = QToolButton(parent)
    b.setText(text)
    b.setObjectName("messageAction")
    b.setAccessibleName(name)
    b.setToolTip(tip or name)
    b.setAutoRaise(True)
    b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    b.clicked.connect(slot)
    return b


class MessageCard(QWidget):
    def __init__(self, view: "ChatView", parent: QWidget):
        super().__init__(parent)
        self.view = view
        self.msg: Message | None = None
        self._key: tuple | None = None
        self.text = BubbleText(self)
        self.text.anchorClicked.connect(lambda url: view.activate_link(url.toString()))
        self.bar = QWidget(self)
        self.bar.setObjectName("messageActions")
        self._bar = QHBoxLayout(self.bar)
        self._bar.setContentsMargins(0, 0, 0, 0)
        self._bar.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        self.code_buttons: list[QToolButton] = []
        self._shape: tuple = ()
        self.has_text = False

    # -- content --------------------------------------------------------------------------------
    def set_message(self, msg: Message) -> None:
        delegate = self.view.delegate
        state = delegate.state(msg)
        key = delegate.key(msg, self.view.viewport().width()) + (state, msg.local_state,
                                                                  self._alt_key(msg), self.view.chat_model.answering,
                                                                  self.view.sprint_offer_open(msg))
        if key == self._key:
            return
        self._key = key
        self.msg = msg
        # a streaming reply changes ~80 times a second: the delegate paints it, the card only
        # carries its Stop button
        self.has_text = msg.local_state != "streaming"
        self.text.setVisible(self.has_text)
        if self.has_text:
            doc = delegate.document(msg, self.view.viewport().width(), fresh=True)
            doc.setParent(self.text)
            self.text.setDocument(doc)
            c = theme.current()
            fg = c.user_text if msg.role == "user" else c.text
            sel = QColor(c.highlight if msg.role != "user" else "#ffffff")
            # the focus ring round the words, inside the bubble: the theme's focus colour on a
            # reply, the student's text colour on their own bubble (the focus colour is too close
            # to it there); a transparent ring otherwise, so focus never moves the text
            ring = c.user_text if msg.role == "user" else c.focus
            self.text.setStyleSheet(
                f"QTextBrowser#bubbleText {{ background: transparent; border: {RING}px solid transparent; "
                f"border-radius: 4px; padding: 1px; color: {fg}; "
                f"selection-background-color: {sel.name()}; selection-color: {c.text if msg.role == 'user' else fg}; }}"
                f"QTextBrowser#bubbleText:focus {{ border-color: {ring}; }}")
            # who and when in the name; the words themselves are the text (AT-SPI Text: read by
            # word and line, as plain text: the rendered document, not its Markdown)
            self.text.setAccessibleName(a11y.card_name(msg.role, time_text(msg.timestamp), state))
            self.text.setAccessibleDescription(CARD_HELP)
            self._code_buttons(doc)
        focused = next((k for k, b in self.buttons.items() if b.hasFocus()), None)
        self._buttons(msg, state)
        self._place()
        # rebuilt buttons must not drop the keyboard focus, nor the Tab order
        if focused is not None:
            b = self.buttons.get(focused)
            if b is not None and b.isEnabled():
                b.setFocus()
            elif self.has_text:
                self.text.setFocus()
        self.view._chain_focus()

    def _alt_key(self, msg: Message) -> tuple:
        alts = self.view.chat_model.alternatives(msg)
        return (len(alts), self.view.chat_model.is_last_run(msg))

    def _code_buttons(self, doc) -> None:
        for b in self.code_buttons:
            b.deleteLater()
        self.code_buttons = []
        for n, cb in enumerate(getattr(doc, "code_blocks", []) or [], 1):
            label = f"Copy code {n}" if len(doc.code_blocks) > 1 else "Copy code"
            b = _button(self.text.viewport(), "Copy code", label,
                        lambda _=False, text=cb.text: self.view.copy_text(text, self.msg))
            b.setObjectName("copyCode")
            b.setProperty("block", cb.first)
            b.adjustSize()
            self.code_buttons.append(b)
            b.show()

    def _buttons(self, msg: Message, state: str) -> None:
        view, model = self.view, self.view.chat_model
        specs: list[tuple] = []   # (key, text, accessible name, slot, tooltip, enabled, focusable)

        def add(key: str, text: str, name: str, slot, tip: str = "", enabled: bool = True,
                focusable: bool = True) -> None:
            specs.append((key, text, name, slot, tip, enabled, focusable))
        mid = msg.message_id
        if msg.role == "assistant":
            alts = model.alternatives(msg)
            if len(alts) > 1:
                pos = next(i for i, m in enumerate(alts) if m.message_id == mid)
                add("prev", "‹", "Previous answer", lambda: view.show_alternative(mid, -1), enabled=pos > 0)
                add("count", f"{pos + 1} / {len(alts)}", f"Answer {pos + 1} of {len(alts)}", lambda: None,
                    focusable=False)
                add("next", "›", "Next answer", lambda: view.show_alternative(mid, 1),
                    enabled=pos < len(alts) - 1)
            if state == "streaming":
                add("stop", "Stop", "Stop the reply", view.stop_requested.emit, "Stop the reply (Esc)")
            else:
                if self.view.sprint_offer_open(msg):   # the coach's offer: nothing starts unasked;
                    offer = msg.sprint or {}           # first in the bar, so always in view
                    add("sprint_start", "Start", f"Start the {offer.get('minutes')}-minute writing sprint",
                        lambda: view.sprint_start_requested.emit(self.msg),
                        f"Start a {offer.get('minutes')}-minute sprint: {offer.get('goal', '')}")
                    add("sprint_decline", "Not now", "Not now: no sprint",
                        lambda: view.sprint_decline_requested.emit(mid))
                add("copy", "Copy", "Copy the reply", lambda: view.copy_message(self.msg),
                    "Copy the reply (as plain text; Markdown too for apps that take it)")
                add("copy_md", "Copy Markdown", "Copy the reply as Markdown",
                    lambda: view.copy_markdown(self.msg))
                if state == "stopped":
                    add("continue", "Continue", "Continue the reply", lambda: view.continue_requested.emit(mid))
                elif state == "failed":
                    add("retry", "Retry", "Retry the reply", lambda: view.retry_requested.emit(mid))
                if model.is_last_run(msg) and state != "failed" and not sprint_line(msg):
                    add("ask_again", "Ask again", "Ask again: another answer to the same question",
                        lambda: view.ask_again(mid), enabled=not model.answering)
        else:
            add("copy", "Copy", "Copy the message", lambda: view.copy_message(self.msg))
            add("edit", "Edit as new", "Edit as a new message",
                lambda: view.edit_requested.emit(self.msg.content if self.msg else ""),
                "Put this text in the message box to change and send it (nothing sent is rewritten)")
            if state == "unanswered":
                add("ask_now", "Ask now", "Ask ArchPal to answer this now",
                    lambda: view.ask_now_requested.emit(mid), enabled=not model.answering)
        source = markdown.display_source(msg.content)
        if source.truncated:
            add("show_all", "Show all", "Show the whole message", lambda: view.show_all(self.msg),
                f"This message is {len(msg.content):,} characters long; only the start is shown here")
        for i, (name, _text) in enumerate(source.attachments):
            add(f"open_{i}", f"Open {name}", f"Open the attached {name}",
                lambda _=False, i=i: view.open_attachment(self.msg, i))
        shape = (mid,) + tuple((k, t, n) for k, t, n, *_rest in specs)
        if shape == self._shape:   # the same buttons: only their enabled state may change
            for k, *_r, enabled, _f in specs:
                self.buttons[k].setEnabled(enabled)
            return
        self._shape = shape
        while self._bar.count():
            item = self._bar.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.buttons = {}
        for key, text, name, slot, tip, enabled, focusable in specs:
            b = _button(self.bar, text, name, slot, tip)
            b.setEnabled(enabled)
            if not focusable:
                b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.buttons[key] = b
            self._bar.addWidget(b)
        self.bar.adjustSize()

    # -- geometry -------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        if self.msg is None:
            return
        delegate = self.view.delegate
        g = delegate.geometry(QRect(0, 0, self.width(), max(self.height(), 1)), self.msg)
        if self.has_text:
            pad = RING + 1            # the ring and its padding sit round the laid-out text
            self.text.setGeometry(g.text.adjusted(-pad, -pad, pad, pad))
            doc = self.text.document()
            lay = doc.documentLayout()
            for b in self.code_buttons:
                block = doc.findBlockByNumber(int(b.property("block")))
                r = lay.blockBoundingRect(block)
                b.move(max(0, g.text.width() - b.width() - 2), int(r.top()) + 1)
        fm = QFontMetrics(delegate.small)
        meta_w = fm.horizontalAdvance(delegate.meta_text(self.msg)) + 12
        # beside the message's who-and-when; in a narrow window with short words, and if even
        # those do not fit, over the painted line (on the window colour) rather than cut off
        # past the edge, where a focused button would be out of sight
        for compact in (False, True):
            self._compact(compact)
            w, h = self.bar.sizeHint().width(), self.bar.sizeHint().height()
            if self.msg.role == "assistant":
                x = g.meta.left() + meta_w
                fits = x + w <= self.width()
            else:
                x = g.meta.right() - meta_w - w
                fits = x >= 0
            if fits:
                break
        x = max(0, min(x, self.width() - w))
        self.bar.setAutoFillBackground(not fits)
        y = g.meta.top() + (g.meta.height() - h) // 2
        self.bar.setGeometry(x, y, w, h)

    def _compact(self, on: bool) -> None:
        for key, b in self.buttons.items():
            full = b.property("full_text") or b.text()
            b.setProperty("full_text", full)
            b.setText(SHORT.get(key, full) if on else full)
        self.bar.adjustSize()

    def focus_spot(self) -> str | None:
        """Which part of the card has the keyboard: "text", a button's key, "code<n>"."""
        if self.text.hasFocus():
            return "text"
        spot = next((k for k, b in self.buttons.items() if b.hasFocus()), None)
        return spot or next((f"code{i}" for i, b in enumerate(self.code_buttons) if b.hasFocus()), None)

    def restore_focus(self, spot: str) -> bool:
        if spot == "text":
            w: QWidget | None = self.text if self.has_text else None
        elif spot.startswith("code"):
            i = int(spot[4:])
            w = self.code_buttons[i] if i < len(self.code_buttons) else None
        else:
            w = self.buttons.get(spot)
        if w is None or not w.isEnabled() or w.focusPolicy() == Qt.FocusPolicy.NoFocus:
            w = self.text if self.has_text else next(iter(self.focusables()), None)
        if w is None:
            return False
        w.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def focusables(self) -> list[QWidget]:
        out: list[QWidget] = [self.text] if self.has_text else []
        out += [b for b in self.code_buttons]
        out += [b for b in self.buttons.values() if b.focusPolicy() != Qt.FocusPolicy.NoFocus]
        return out

    # clicks beside the text and buttons belong to the conversation (select the row, etc.)
    def mousePressEvent(self, event) -> None:  # noqa: N802
        event.ignore()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        event.ignore()


class KeepCardFocus:
    """A reload (model reset) deletes the view's cards, and the keyboard with them (Qt moved it
    on to the message box): remember which card part had it, give it back once rebuilt."""

    def __init__(self, view: "ChatView"):
        self.view = view
        self.spot: tuple[str, str] | None = None   # (message id, part)
        view.chat_model.modelAboutToBeReset.connect(self.remember)

    def remember(self) -> None:
        self.spot = next(((m, sp) for m, c in self.view.cards.items() if (sp := c.focus_spot())), None)
        if self.spot is not None:
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)   # not lost with the deleted widget

    def restore(self) -> None:
        if self.spot is None:
            return
        (mid, part), self.spot = self.spot, None
        card = self.view.cards.get(mid)
        if card is not None and self.view.hasFocus():   # the person has not gone elsewhere
            card.restore_focus(part)
