"""The composer's text box: Enter sends, drops and long pastes become attachments, spelling menu."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

from archpal_desktop.core import attachments as core_att

#: a paste longer than this becomes a chip: laid out in the box, 5 MB of text freezes the window
PASTE_AS_ATTACHMENT = 20_000


class MessageEdit(QPlainTextEdit):
    send_requested = Signal()
    files_dropped = Signal(list)     # local paths
    long_paste = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.spelling = None
        self.too_long_bytes = 0

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

    def canInsertFromMimeData(self, source) -> bool:  # noqa: N802
        return source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source) -> None:  # noqa: N802
        files = [u.toLocalFile() for u in source.urls() if u.isLocalFile()] if source.hasUrls() else []
        if files:
            self.files_dropped.emit(files)
            return
        if source.hasText():
            size = source.data("text/plain").size()
            if size > 4 * core_att.MAX_TEXT_CHARS:
                # surely too long (UTF-8 takes at most 4 bytes a character): say so without
                # copying megabytes into Python strings on the UI thread
                self.too_long_bytes = size
                self.long_paste.emit("")
                return
            text = source.text()
            if len(text) > PASTE_AS_ATTACHMENT:
                self.long_paste.emit(text)
                return
        super().insertFromMimeData(source)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            return
        super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            self.insertFromMimeData(event.mimeData())
            event.acceptProposedAction()
            return
        super().dropEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        menu = self.createStandardContextMenu(event.pos())
        hl = self.spelling
        cursor = self.cursorForPosition(event.pos())
        cursor.select(QTextCursor.SelectionType.WordUnderCursor)
        word = cursor.selectedText()
        if hl is not None and word and hl.is_wrong(word):
            first = menu.actions()[0] if menu.actions() else None
            hints = hl.suggestions(word)
            for hint in hints:
                act = QAction(hint, menu)
                act.triggered.connect(lambda _=False, h=hint, c=QTextCursor(cursor): self._replace(c, h))
                menu.insertAction(first, act)
            if not hints:
                none = QAction("No suggestions", menu)
                none.setEnabled(False)
                menu.insertAction(first, none)
            ignore = QAction(f"Ignore “{word}”", menu)
            ignore.triggered.connect(lambda: hl.ignore(word))
            menu.insertAction(first, ignore)
            menu.insertSeparator(first)
        menu.exec(event.globalPos())

    def _replace(self, cursor: QTextCursor, word: str) -> None:
        cursor.beginEditBlock()
        cursor.insertText(word)
        cursor.endEditBlock()
