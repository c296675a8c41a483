"""Every common action's shortcut in one table: the menus use it and the help dialog lists it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QTableWidget, QTableWidgetItem,
                               QVBoxLayout)

#: action name -> (label, key sequences)
SHORTCUTS: dict[str, tuple[str, list[QKeySequence]]] = {
    "new": ("New conversation", [QKeySequence("Ctrl+N")]),
    "search": ("Search all conversations", [QKeySequence("Ctrl+F"), QKeySequence("Ctrl+K")]),
    "send": ("Send the message", [QKeySequence(Qt.Key.Key_Return)]),
    "newline": ("New line in the message", [QKeySequence("Shift+Return")]),
    "stop": ("Stop the reply", [QKeySequence(Qt.Key.Key_Escape)]),
    "sync": ("Sync now", [QKeySequence("Ctrl+R"), QKeySequence(Qt.Key.Key_F5)]),
    "next": ("Next conversation", [QKeySequence("Ctrl+PgDown"), QKeySequence("Alt+Down")]),
    "prev": ("Previous conversation", [QKeySequence("Ctrl+PgUp"), QKeySequence("Alt+Up")]),
    "rename": ("Rename the conversation", [QKeySequence(Qt.Key.Key_F2)]),
    # one key everywhere (menu, list, F1, README); a text field keeps Delete for its text
    "delete": ("Delete the conversation", [QKeySequence(Qt.Key.Key_Delete)]),
    "undo": ("Undo the delete (while it is offered)", [QKeySequence("Ctrl+Z")]),
    "copy": ("Copy the selected message", [QKeySequence("Ctrl+C")]),
    "focus_composer": ("Go to the message box", [QKeySequence("Ctrl+L")]),
    "export_pdf": ("Export the conversation as PDF", [QKeySequence("Ctrl+E")]),
    "export_md": ("Export the conversation as Markdown", [QKeySequence("Ctrl+Shift+E")]),
    "print": ("Print the conversation", [QKeySequence("Ctrl+P")]),
    "sprint": ("Start a writing sprint", [QKeySequence("Ctrl+Shift+S")]),
    "settings": ("Settings", [QKeySequence("Ctrl+,")]),
    "zoom_in": ("Bigger text", [QKeySequence("Ctrl+="), QKeySequence("Ctrl++")]),
    "zoom_out": ("Smaller text", [QKeySequence("Ctrl+-")]),
    "zoom_reset": ("Text at its usual size", [QKeySequence("Ctrl+0")]),
    "toggle_list": ("Show or hide the conversation list", [QKeySequence("Ctrl+B")]),
    "toggle_companion": ("Show or hide the companion", [QKeySequence("Ctrl+Shift+B")]),
    "help": ("Keyboard shortcuts", [QKeySequence("F1"), QKeySequence("Ctrl+/")]),
    "quit": ("Quit", [QKeySequence("Ctrl+Q")]),
}


def keys(name: str) -> list[QKeySequence]:
    return SHORTCUTS[name][1]


class ShortcutsDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        table = QTableWidget(len(SHORTCUTS), 2, self)
        table.setObjectName("shortcutsTable")
        table.setAccessibleName("Shortcut list")
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (label, seqs) in enumerate(SHORTCUTS.values()):
            table.setItem(row, 0, QTableWidgetItem(label))
            text = "  or  ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in seqs)
            table.setItem(row, 1, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(table)
        lay.addWidget(buttons)
        self._fit_to_text()

    def _fit_to_text(self) -> None:
        """Big enough for every row at the current text size (zoom), within the screen."""
        t = self.table
        t.setWordWrap(False)   # one line a row: its height from the text size, not a wrap guess
        t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.resizeRowsToContents()
        frame = 2 * t.frameWidth()
        head = t.horizontalHeader()
        want_w = sum(max(t.sizeHintForColumn(c), head.sectionSizeHint(c)) for c in range(t.columnCount())) \
            + frame + t.verticalScrollBar().sizeHint().width() + 24
        want_h = t.horizontalHeader().height() + sum(t.rowHeight(r) for r in range(t.rowCount())) + frame
        t.setMinimumWidth(min(want_w, 1400))
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        lay = self.layout()
        m = lay.contentsMargins()
        extra_h = m.top() + m.bottom() + lay.spacing() + lay.itemAt(1).sizeHint().height()
        w = max(520, want_w + m.left() + m.right())
        h = max(360, want_h + extra_h)
        if screen is not None:
            w, h = min(w, int(screen.width() * 0.95)), min(h, int(screen.height() * 0.9))
        self.resize(w, h)
