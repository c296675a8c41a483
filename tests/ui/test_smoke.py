from __future__ import annotations

from PySide6.QtCore import Qt

from archpal_desktop.localstack.bedrock import Reply
from tests.ui.conftest import save_shot, wait_idle


def test_send_and_stream(qtbot, make_window, state, bedrock):
    bedrock.script(Reply(text="Let's plan your **essay** together:\n\n- thesis\n- outline", emotion="smile",
                         piece_size=5, delay=0.01))
    w = make_window()
    qtbot.keyClicks(w.composer.edit, "Help me plan my essay")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.chat.chat_model.total == 2, timeout=5000)
    wait_idle(qtbot, state)
    msgs = w.chat.chat_model.messages()
    assert msgs[0].content == "Help me plan my essay"
    assert msgs[1].role == "assistant" and "plan your **essay**" in msgs[1].content
    assert msgs[1].emotion == "smile"
    assert w.companion.emotion == "smile"
    save_shot(w, "smoke")
