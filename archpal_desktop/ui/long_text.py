"""The whole of a long message or an attached draft, in a window of its own, loaded in steps.

A 1 MB reply on one line would take Qt seconds to lay out in one go. Here the text goes in a
plain-text view in slices of ``CHUNK`` characters per event-loop turn (a slice breaks at a space
when it can, so a line without breaks still wraps), so the window stays responsive while it
fills; Copy always copies the original text.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QTextCursor, QTextOption
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton,
                               QVBoxLayout, QWidget)

CHUNK = 4_000    # ~10 ms to insert and lay out, even without a space to wrap at


def slices(text: str, size: int = CHUNK):
    pos = 0
    n = len(text)
    while pos < n:
        end = min(n, pos + size)
        if end < n:
            nl = text.rfind("\n", pos, end)
            sp = text.rfind(" ", pos + size // 2, end)
            cut = nl if nl > pos else sp
            if cut > pos:
                end = cut + 1
        yield text[pos:end]
        pos = end


class LongTextViewer(QDialog):
    def __init__(self, parent: QWidget | None, title: str, text: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("longTextViewer")
        self.text = text
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setAccessibleName(title)
        self.view.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.view.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.progress = QLabel(self)
        self.progress.setObjectName("muted")
        # a label that changes size would resize the view, and re-laying out 1 MB takes ~70 ms
        self.progress.setFixedHeight(self.progress.sizeHint().height())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy all", self)
        self.copy_button.setAccessibleName("Copy all of it")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text))
        lay = QVBoxLayout(self)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.progress)
        lay.addWidget(buttons)
        self.resize(760, 560)
        self._pieces = slices(text)
        self._done = 0
        self._timer = QTimer(self, interval=0)
        self._timer.timeout.connect(self._more)
        self._timer.start()
        self._more()

    def _more(self) -> None:
        cursor = QTextCursor(self.view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        piece = next(self._pieces, None)
        if piece is None:
            self._timer.stop()
            self.progress.setText(f"{len(self.text):,} characters")
            return
        # an unbroken piece becomes its own paragraph so no single line grows without bound
        if self._done:
            cursor.insertBlock()
        cursor.insertText(piece[:-1] if piece.endswith("\n") else piece)
        self._done += len(piece)
        self.progress.setText(f"Loading… {self._done * 100 // max(1, len(self.text))}%")

    @property
    def loaded(self) -> bool:
        return not self._timer.isActive()

    @classmethod
    def show_text(cls, parent: QWidget | None, title: str, text: str) -> "LongTextViewer":
        dlg = cls(parent, title, text)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        return dlg
