"""Where the student writes: Enter sends, Shift+Enter breaks the line, the draft is kept."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from archpal_desktop.ui import a11y


class MessageEdit(QPlainTextEdit):
    send_requested = Signal()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
            if not mods & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier):
                self.send_requested.emit()
                return
        super().keyPressEvent(event)


class Composer(QWidget):
    """Text box + Send/Stop, and a line saying why sending is not possible right now."""

    send = Signal(str)
    stop = Signal()
    draft_changed = Signal(str)   # debounced: the window saves it to the cache

    def __init__(self, parent=None):
        super().__init__(parent)
        self.edit = MessageEdit(self)
        self.edit.setObjectName("composer")
        self.edit.setAccessibleName("Message to ArchPal")
        self.edit.setAccessibleDescription("Enter sends, Shift+Enter starts a new line.")
        self.edit.setPlaceholderText("Write to ArchPal…  (Enter sends, Shift+Enter for a new line)")
        self.edit.setTabChangesFocus(True)
        lines = QFontMetrics(self.edit.font()).lineSpacing()
        self.edit.setFixedHeight(lines * 4 + 16)
        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("primary")
        self.send_button.setAccessibleName("Send message")
        self.send_button.setToolTip("Send (Enter)")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setAccessibleName("Stop the reply")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.stop_button.hide()
        self.hint = QLabel(self)
        self.hint.setObjectName("composerHint")
        a11y.value_label(self.hint, "Composer status")
        self.hint.setWordWrap(True)
        self.hint.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        buttons = QVBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        row.addLayout(buttons)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 10)
        lay.addWidget(self.hint)
        lay.addLayout(row)

        self._reason = ""
        self._busy = False
        self._loading_draft = False
        self._draft_timer = QTimer(self, singleShot=True, interval=400)
        self._draft_timer.timeout.connect(lambda: self.draft_changed.emit(self.edit.toPlainText()))
        self.edit.send_requested.connect(self._send)
        self.send_button.clicked.connect(self._send)
        self.stop_button.clicked.connect(self.stop.emit)
        self.edit.textChanged.connect(self._text_changed)
        self._update()

    # -- state --------------------------------------------------------------------------------
    def set_disabled_reason(self, reason: str) -> None:
        """Empty = can send. Otherwise the words shown to say why not (e.g. no conversation)."""
        self._reason = reason
        self._update()

    def set_busy(self, busy: bool) -> None:
        """A reply is streaming: Stop instead of Send (the student may keep typing)."""
        self._busy = busy
        self._update()

    def set_notice(self, text: str) -> None:
        """A non-blocking remark (e.g. offline: messages will wait)."""
        self._notice = text
        self._update()

    _notice = ""

    def _update(self) -> None:
        blocked = bool(self._reason)
        self.edit.setReadOnly(blocked)
        self.send_button.setVisible(not self._busy)
        self.stop_button.setVisible(self._busy)
        self.send_button.setEnabled(not blocked and not self._busy and bool(self.edit.toPlainText().strip()))
        text = self._reason or ("ArchPal is writing — press Esc or Stop to end the reply." if self._busy
                                else self._notice)
        self.hint.setText(text)
        self.hint.setVisible(bool(text))
        a11y.announce(self.hint, text)
        if blocked:
            self.send_button.setToolTip(self._reason)
        else:
            self.send_button.setToolTip("Send (Enter)" if self.edit.toPlainText().strip()
                                        else "Write a message first")

    @property
    def can_send(self) -> bool:
        return not self._reason and not self._busy

    def _send(self) -> None:
        text = self.edit.toPlainText().strip()
        if not text or not self.can_send:
            return
        self.send.emit(text)

    def clear(self) -> None:
        self.edit.clear()
        self._draft_timer.stop()
        self.draft_changed.emit("")

    def load_draft(self, text: str) -> None:
        self._loading_draft = True
        try:
            self.edit.setPlainText(text)
            cursor = self.edit.textCursor()
            cursor.movePosition(cursor.MoveOperation.End)
            self.edit.setTextCursor(cursor)
        finally:
            self._loading_draft = False
        self._draft_timer.stop()
        self._update()

    def flush_draft(self) -> None:
        if self._draft_timer.isActive():
            self._draft_timer.stop()
            self.draft_changed.emit(self.edit.toPlainText())

    def _text_changed(self) -> None:
        self._update()
        if not self._loading_draft:
            self._draft_timer.start()
