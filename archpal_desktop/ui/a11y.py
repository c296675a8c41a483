"""What a screen-reader user needs from every screen, in one place for every team to call.

Qt exposes widgets to AT-SPI (Linux), UI Automation (Windows) and NSAccessibility (macOS) from
their accessible name, description, role and text. The rules this module encodes:

- A label that shows a value (a title, "Offline", "3 changes waiting") keeps its *text* as what is
  read: giving it an accessible name hides the text behind that name. What the value *is* goes in
  the accessible description instead (:func:`value_label`).
- A field is named by its visible label (:func:`label_for` sets the buddy too, so the label's
  mnemonic focuses the field); errors and "required" go in its description, where Orca reads them
  after the name (:func:`set_field_error`, :func:`mark_required`).
- Status changes are spoken through announcements (:func:`announce`), politely: they never take
  focus and wait for the current speech to finish.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QAbstractItemView, QLabel, QWidget

log = logging.getLogger(__name__)

REQUIRED = "Required."
_BASE_DESC = "a11y_base_description"
_LAST_SAID = "a11y_last_announcement"


class _Hub(QObject):
    """Every announcement, also as a Qt signal: in-process tests (offscreen, where no screen
    reader listens) and a future "speak replies" setting can follow what was said."""

    announced = Signal(str, bool)   # text, polite


_hub: _Hub | None = None


def hub() -> _Hub:
    global _hub
    if _hub is None:
        _hub = _Hub()
    return _hub


def announce(widget: QWidget, text: str, polite: bool = True, *, repeat: bool = False) -> None:
    """Have the screen reader say ``text`` (QAccessibleAnnouncementEvent, Qt 6.8+).

    Polite waits for the current speech and never moves focus; assertive (``polite=False``) is
    for errors the person must hear now. The same text from the same widget twice in a row is said
    once (a status bar re-shows its state on every sync tick), unless ``repeat``.
    """
    text = " ".join((text or "").split())
    if not text or widget is None:
        return
    if not repeat and widget.property(_LAST_SAID) == text:
        return
    widget.setProperty(_LAST_SAID, text)
    event = QAccessibleAnnouncementEvent(widget, text)
    event.setPoliteness(QAccessible.AnnouncementPoliteness.Polite if polite
                        else QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)
    hub().announced.emit(text, polite)


def forget_announcement(widget: QWidget) -> None:
    """Let the next announcement from ``widget`` be said even if it repeats the last one."""
    widget.setProperty(_LAST_SAID, None)




def value_label(label: QLabel, what: str) -> QLabel:
    """Turn a label that shows a value into one that reads its value: no accessible name (the
    text is the name AT-SPI reports), what it is in the description."""
    label.setAccessibleName("")
    label.setAccessibleDescription(what)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def clean_label_text(text: str) -> str:
    """"&E-mail:" -> "E-mail" (a mnemonic and the trailing colon are not part of a name)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").strip().rstrip(":").strip()


def label_for(text: str, field: QWidget, parent: QWidget | None = None) -> QLabel:
    """The visible label of ``field``: its buddy, and the field's accessible name.

    A combo box or spin box is named by this label, not by its current value. (On Linux Qt's
    AT-SPI bridge reports a combo box's *value* as its name, as GTK does, whatever is set here;
    the label reaches Orca through the labelled-by relation the buddy creates, which Orca speaks
    first: "College year, combo box, Second Year". Windows and macOS use this name.)
    """
    label = QLabel(text, parent)
    label.setBuddy(field)
    field.setAccessibleName(clean_label_text(text))
    return label




def _base_description(field: QWidget) -> str:
    base = field.property(_BASE_DESC)
    if base is None:
        base = field.accessibleDescription()
        field.setProperty(_BASE_DESC, base)
    return str(base)


def _set_description(field: QWidget, *parts: str) -> None:
    field.setAccessibleDescription(" ".join(p for p in parts if p))


def mark_required(field: QWidget, required: bool = True) -> None:
    """Say "Required." after the field's name (Qt has no public AT-SPI "required" state)."""
    field.setProperty("required", bool(required))
    base = _base_description(field)
    if required and REQUIRED not in base:
        base = f"{REQUIRED} {base}".strip()
        field.setProperty(_BASE_DESC, base)
    _set_description(field, base)


def error_label(name: str = "", parent: QWidget | None = None) -> QLabel:
    """The line under a field that says what is wrong. Its text is what is read (no name), its
    colour comes from the theme (``QLabel[a11yError="true"]``); its words, not its colour, say
    that something is wrong."""
    label = QLabel(parent)
    if name:
        label.setObjectName(name)
    label.setProperty("a11yError", True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.hide()
    return label


def set_field_error(field: QWidget | None, label: QLabel | None, text: str) -> None:
    """Show (or clear, with "") a field's error: under the field, in the field's accessible
    description (read when focus reaches it), and as the field's ``invalid`` property, which the
    theme draws as a thicker border (a change of shape, not only of colour)."""
    text = (text or "").strip()
    if label is not None:
        label.setText(text)
        label.setVisible(bool(text))
    if field is None:
        return
    base = _base_description(field)
    was = bool(field.property("invalid"))
    field.setProperty("invalid", bool(text))
    _set_description(field, f"Error: {text}" if text else "", base)
    if was != bool(text):
        field.style().unpolish(field)
        field.style().polish(field)




class _CurrentOnlyWithFocus(QObject):
    """A list's current item is what AT-SPI reports as "focused" (Qt marks the current cell so,
    focus or not). So the current index lives only while the list has focus: leaving the list
    (not for a menu) keeps the selection and drops the current index; coming back makes the
    selected item current again, or the first/last item if none is, so the focus ring shows on
    something and the screen reader names an item rather than just "list"."""

    def __init__(self, view: QAbstractItemView, last: bool, clear: bool):
        super().__init__(view)
        self._view, self._last, self._clear = view, last, clear
        self._clear_later = False
        view.installEventFilter(self)

    def _watch(self) -> None:
        sel = self._view.selectionModel()
        if sel is not None and not sel.property("a11y_watched"):
            sel.setProperty("a11y_watched", True)
            sel.currentChanged.connect(self._current_changed)

    def _current_changed(self, current, _previous) -> None:
        # made current by code while focus is elsewhere (a reload, a new conversation): drop it
        # once every other handler has seen it
        if self._clear and current.isValid() and not self._view.hasFocus() and not self._clear_later:
            from PySide6.QtCore import QTimer
            self._clear_later = True
            QTimer.singleShot(0, self, self._clear_if_unfocused)

    def _clear_if_unfocused(self) -> None:
        self._clear_later = False
        view = self._view
        if not view.hasFocus() and view.selectionModel() is not None:
            from PySide6.QtCore import QItemSelectionModel, QModelIndex
            view.selectionModel().setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        self._watch()
        if event.type() == QEvent.Type.FocusIn:
            view = self._view
            model, sel = view.model(), view.selectionModel()
            if model is not None and sel is not None and not view.currentIndex().isValid():
                from PySide6.QtCore import QItemSelectionModel
                chosen = sel.selectedIndexes()
                if chosen:
                    sel.setCurrentIndex(chosen[0], QItemSelectionModel.SelectionFlag.NoUpdate)
                elif model.rowCount():
                    view.setCurrentIndex(model.index(model.rowCount() - 1 if self._last else 0, 0))
        elif self._clear and event.type() == QEvent.Type.FocusOut \
                and event.reason() != Qt.FocusReason.PopupFocusReason:
            self._clear_if_unfocused()
        return False


def current_item_on_focus(view: QAbstractItemView, *, last: bool = False,
                          only_with_focus: bool = True) -> None:
    """``only_with_focus=False`` keeps a current item while focus is elsewhere (the chat view's
    current message is what Copy and an opened search hit act on)."""
    _CurrentOnlyWithFocus(view, last, only_with_focus)


def plural(n: int, one: str, many: str | None = None) -> str:
    """"1 message", "2 messages"."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


# -- messages as a screen reader reads them ------------------------------------------------------
#: what a message's own state adds after who and when (no "(reply failed)": a stopped reply
#: kept its partial text, and that is what happened)
STATE_WORDS = {"waiting": "waiting for ArchPal", "refused": "not answered: ArchPal could not answer", "streaming": "being written", "stopped": "Stopped",
               "failed": "the reply stopped before the end"}


def markdown_plain(text: str) -> str:
    """A reply's Markdown as the words a reader hears: no #, **, ``` or link syntax."""
    from PySide6.QtGui import QTextDocument
    doc = QTextDocument()
    doc.setMarkdown(text or "", QTextDocument.MarkdownFeature.MarkdownDialectGitHub
                    | QTextDocument.MarkdownFeature.MarkdownNoHTML)
    lines = [ln.rstrip() for ln in doc.toPlainText().replace("\u2029", "\n").splitlines()]
    return "\n".join(ln for ln in lines if ln).strip()


def card_name(role: str, timestamp_text: str, state: str | None) -> str:
    """A message card's text, as focus reaches it: "Your message, 02 Dec 2026, 09:14" or
    "ArchPal's reply, 02 Dec 2026, 09:15, Stopped" (who, when, state; the words are its text)."""
    who = "Your message" if role == "user" else "ArchPal's reply"
    return ", ".join(p for p in (who, timestamp_text, CARD_STATE_WORDS.get(state or "", "")) if p)


#: a card's state as a screen reader hears it (the delegate's states, which include the ones the
#: model derives: a question nobody answered, a question being answered)
CARD_STATE_WORDS = {**STATE_WORDS, "unanswered": "no reply yet", "answering": "ArchPal is answering"}


def message_speech(role: str, timestamp_text: str, content: str, local_state: str | None) -> str:
    """"ArchPal, 02 Dec 2026, 09:14: Start with your claim." (who, when, state, plain text)."""
    who = "You" if role == "user" else "ArchPal"
    head = ", ".join(p for p in (who, timestamp_text, STATE_WORDS.get(local_state or "", "")) if p)
    body = markdown_plain(content) if role == "assistant" else (content or "").strip()
    return f"{head}: {body}" if body else head


def announce_reply(widget: QWidget, content: str, finished: bool) -> None:
    """A reply arrived (or stopped): say it, as plain text, after the current speech."""
    words = markdown_plain(content)
    if finished:
        announce(widget, f"ArchPal replied: {words}" if words else "ArchPal replied.", repeat=True)
    else:
        announce(widget, f"Stopped. The partial reply is kept: {words}" if words
                 else "Stopped.", repeat=True)


class _EmptyDescription(QObject):
    def __init__(self, view: QAbstractItemView, empty_text: str):
        super().__init__(view)
        self._view, self._empty = view, " ".join(empty_text.split())
        self._normal = view.accessibleDescription()
        model = view.model()
        for sig in (model.modelReset, model.rowsInserted, model.rowsRemoved):
            sig.connect(self.update)
        self.update()

    def update(self, *_a) -> None:
        # a painted empty-state text is invisible to a screen reader: say it in the description
        empty = self._view.model().rowCount() == 0
        self._view.setAccessibleDescription(self._empty if empty else self._normal)


def describe_when_empty(view: QAbstractItemView, empty_text: str) -> None:
    _EmptyDescription(view, empty_text)


# -- reading one message: the Text interface, by character, word and line -------------------------
def read_message(parent: QWidget, role: str, timestamp_text: str, content: str,
                 local_state: str | None) -> None:
    """A message in a read-only text view: screen readers read it by word and line, links and
    code blocks are reachable with Tab, and a part of it can be selected and copied."""
    from PySide6.QtGui import QTextCursor
    from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

    from archpal_desktop.ui import markdown

    class _Browser(QTextBrowser):
        def loadResource(self, kind, url):  # noqa: N802 - nothing is ever loaded (design 8)
            return None

    dlg = QDialog(parent)
    dlg.setWindowTitle("Message from ArchPal" if role == "assistant" else "Your message")
    view = _Browser(dlg)
    view.setAccessibleName("Message text")
    view.setOpenLinks(False)
    view.setOpenExternalLinks(False)
    view.anchorClicked.connect(lambda url: markdown.open_link(url.toString()))
    view.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction
                                 | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    doc = markdown.make_document(content or "", markdown=role == "assistant", width=560, font=view.font())
    head = ", ".join(p for p in ("ArchPal" if role == "assistant" else "You", timestamp_text,
                                 STATE_WORDS.get(local_state or "", "")) if p)
    cursor = QTextCursor(doc)
    cursor.movePosition(QTextCursor.MoveOperation.Start)
    cursor.insertText(head)
    cursor.insertBlock()
    doc.setParent(view)
    view.setDocument(doc)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dlg)
    buttons.rejected.connect(dlg.reject)
    lay = QVBoxLayout(dlg)
    lay.addWidget(view)
    lay.addWidget(buttons)
    dlg.resize(620, 440)
    view.setFocus()
    dlg.exec()
    dlg.deleteLater()


class _ReadOnEnter(QObject):
    def __init__(self, view: QAbstractItemView, message_role: int):
        super().__init__(view)
        self._role = message_role

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and not event.modifiers():
            view = self.parent()
            idx = view.currentIndex()
            if idx.isValid():
                from archpal_desktop.ui.timetext import time_text
                msg = idx.data(self._role)
                read_message(view, msg.role, time_text(msg.timestamp), msg.content, msg.local_state)
                return True
        return False


def reader_on_enter(view: QAbstractItemView, message_role: int) -> None:
    """Enter on a message opens it in :func:`read_message`; ``message_role`` is the model's role
    that gives the message (chat_model.MessageRole: this module never imports the model, which
    imports it)."""
    view.installEventFilter(_ReadOnEnter(view, message_role))


def tie_form(form) -> None:
    """Every row of a QFormLayout: the row's label becomes the buddy of its field (or of the
    first input inside a field that is a container), so the field is labelled by it."""
    from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QFormLayout, QLineEdit,
                                   QPlainTextEdit, QTextEdit)
    inputs = (QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QTextEdit, QAbstractButton)
    for row in range(form.rowCount()):
        label_item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field_item = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        label = label_item.widget() if label_item is not None else None
        field = field_item.widget() if field_item is not None else None
        if not isinstance(label, QLabel) or field is None or not label.text().strip():
            continue
        target = field if isinstance(field, inputs) else next(
            (w for w in field.findChildren(QWidget) if isinstance(w, inputs)), None)
        if target is not None:
            label.setBuddy(target)
