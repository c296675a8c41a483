"""Answering modal dialogs the way a person does, from the event loop their exec() spins."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def answer_message_box(qtbot, button: QMessageBox.StandardButton, seen: list) -> None:
    """Answer the next modal message box as a person would (click the button), noting what it
    showed; the box is modal, so this runs from the event loop its exec() spins."""
    def poll():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.isVisible():
            seen.append((box.text(), box.textFormat()))
            qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)
        else:
            QTimer.singleShot(20, poll)
    QTimer.singleShot(0, poll)
