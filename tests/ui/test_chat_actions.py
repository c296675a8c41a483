"""The conversation pane's context menu (ui/chat_actions.py), opened the way a person opens it:
a right click on a message (the context menu event it makes), then a click on the menu's entry."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu

from archpal_desktop.localstack.bedrock import Reply
from tests.ui.conftest import wait_idle


def test_right_click_on_a_message_copies_it_as_markdown_and_edits_it_as_new(qtbot, make_window, state, bedrock):
    bedrock.script(Reply(text="Start with **one** claim.", emotion="point"))
    w = make_window()
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, "What should my *thesis* say?")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(m.role == "assistant" and m.local_state is None
                                for m in w.chat.chat_model.messages()), timeout=5000)
    wait_idle(qtbot, state)
    question = w.chat.chat_model.messages()[0]
    rect = w.chat.visualRect(w.chat.chat_model.index(w.chat.chat_model.row_of(question.message_id)))
    assert question.role == "user" and rect.height() > 20

    shown: list[list[str]] = []

    def pick(text):
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(50, lambda: pick(text))
            return
        assert menu.isVisible() and menu.geometry().height() > 20
        shown.append([a.text() for a in menu.actions()])
        next(a for a in menu.actions() if a.text() == text).trigger()
        menu.close()

    QTimer.singleShot(100, lambda: pick("Copy as Markdown"))
    with qtbot.waitSignal(w.chat.message_copied, timeout=5000) as copied:
        # what the platform delivers on a right click (offscreen, QTest's click does not make one)
        QApplication.sendEvent(w.chat.viewport(), QContextMenuEvent(
            QContextMenuEvent.Reason.Mouse, rect.center(), w.chat.viewport().mapToGlobal(rect.center())))
    assert copied.args == [question.message_id]
    assert shown[0] == ["Copy message", "Copy as Markdown", "Edit as a new message"]
    assert QGuiApplication.clipboard().text() == "What should my *thesis* say?"
    assert w.chat.current_message().message_id == question.message_id   # the clicked one is selected
