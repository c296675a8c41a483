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


def answer_modal(qtbot, kind, act, seen: list | None = None, name: str = "") -> None:
    """Answer the next modal dialog of type ``kind`` (and objectName ``name``) with ``act(dialog)``,
    from the event loop its exec() spins, as a person would (typing, clicking)."""
    def poll():
        dlg = QApplication.activeModalWidget()
        if isinstance(dlg, kind) and dlg.isVisible() and (not name or dlg.objectName() == name):
            if seen is not None:
                seen.append(dlg)
            act(dlg)
        else:
            QTimer.singleShot(20, poll)
    QTimer.singleShot(0, poll)


def click_message_box_button(qtbot, text: str, seen: list) -> None:
    """Click the button labelled ``text`` on the next modal message box."""
    def act(box):
        seen.append(box.text())
        button = next(b for b in box.buttons() if b.text().replace("&", "") == text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    answer_modal(qtbot, QMessageBox, act)
