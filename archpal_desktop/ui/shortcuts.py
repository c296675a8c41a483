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
    "delete": ("Delete the conversation", [QKeySequence("Ctrl+Shift+Delete")]),
    "copy": ("Copy the selected message", [QKeySequence("Ctrl+C")]),
    "focus_composer": ("Go to the message box", [QKeySequence("Ctrl+L")]),
    "export_pdf": ("Export the conversation as PDF", [QKeySequence("Ctrl+E")]),
    "export_md": ("Export the conversation as Markdown", [QKeySequence("Ctrl+Shift+E")]),
    "print": ("Print the conversation", [QKeySequence("Ctrl+P")]),
    "settings": ("Settings", [QKeySequence("Ctrl+,")]),
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
        self.resize(520, 560)
