"""The composer's attached drafts: one chip per file (open it, remove it) and the paperclip."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QToolButton, QWidget

from archpal_desktop.core.attachments import Attachment

FILE_FILTER = "Drafts (*.docx *.pdf *.odt *.txt *.md);;All files (*)"


class Chip(QFrame):
    open_requested = Signal(object)
    remove_requested = Signal(object)

    def __init__(self, att: Attachment, parent: QWidget | None = None):
        super().__init__(parent)
        self.attachment = att
        self.setObjectName("attachmentChip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        words = att.words
        self.open_button = QToolButton(self)
        self.open_button.setText(f"{att.name} · {words:,} word{'s' if words != 1 else ''}")
        self.open_button.setAutoRaise(True)
        self.open_button.setAccessibleName(f"Open the attached {att.name}")
        self.open_button.setToolTip("See the text that will be sent")
        self.remove_button = QToolButton(self)
        self.remove_button.setText("✕")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setAccessibleName(f"Remove {att.name}")
        self.remove_button.setToolTip(f"Remove {att.name}")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 2, 0)
        lay.setSpacing(0)
        lay.addWidget(self.open_button)
        lay.addWidget(self.remove_button)
        self.open_button.clicked.connect(lambda: self.open_requested.emit(self.attachment))
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.attachment))


class ChipRow(QWidget):
    """The attached drafts, above the text box (hidden when there are none)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("attachmentChips")
        self.setAccessibleName("Attached drafts")
        self._lay = QHBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 4)
        self._lay.setSpacing(6)
        self._lay.addStretch(1)
        self.chips: list[Chip] = []
        self.hide()

    @property
    def attachments(self) -> list[Attachment]:
        return [c.attachment for c in self.chips]

    def add(self, att: Attachment) -> Chip:
        chip = Chip(att, self)
        chip.remove_requested.connect(self.remove)
        chip.open_requested.connect(self._open)
        self._lay.insertWidget(len(self.chips), chip)
        self.chips.append(chip)
        self._refresh()
        return chip

    def remove(self, att: Attachment) -> None:
        for chip in list(self.chips):
            if chip.attachment is att:
                self.chips.remove(chip)
                chip.deleteLater()
        self._refresh()

    def clear(self) -> None:
        for chip in self.chips:
            chip.deleteLater()
        self.chips = []
        self._refresh()

    def _open(self, att: Attachment) -> None:
        from archpal_desktop.ui.long_text import LongTextViewer
        LongTextViewer.show_text(self.window(), att.name, att.text)

    def _refresh(self) -> None:
        self.setVisible(bool(self.chips))
        self.changed.emit()
