"""Screenshots of the message view and composer, light and dark (issue 11: look at them).

Set ARCHPAL_SHOTS to a folder to keep them; each scene also checks what it shows is visible.
"""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from archpal_desktop.localstack.bedrock import Reply
from tests.ui.conftest import save_shot, wait_idle
from tests.ui.test_message_content import CODE_REPLY, card_of, drop, last_reply, make_docx, send


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_content_scenes(qtbot, make_window, state, bedrock, theme_manager, tmp_path, mode):
    theme_manager.set_mode(mode)
    long = " ".join(f"word{i}" for i in range(400))
    bedrock.script(Reply(text=CODE_REPLY, emotion="point"),
                   Reply(text="Another way: **group** the points by theme first.", emotion="smile"),
                   Reply(text=long, emotion="walk", piece_size=6, delay=0.02))
    w = make_window()
    w.resize(1100, 760)
    send(qtbot, w, "How do I sort my outline?")
    qtbot.waitUntil(lambda: len(w.chat.chat_model.messages()) == 2 and last_reply(w).local_state is None,
                    timeout=5000)
    wait_idle(qtbot, state)
    card = card_of(qtbot, w, last_reply(w), "ask_again")
    qtbot.waitUntil(lambda: card.code_buttons[0].isVisible() and card.buttons["copy"].isVisible(), timeout=3000)
    save_shot(w, f"code_block_copy_{mode}")
    # ask again: two answers, one row, "2 / 2"
    qtbot.mouseClick(card.buttons["ask_again"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "group" in last_reply(w).content and last_reply(w).local_state is None, timeout=5000)
    wait_idle(qtbot, state)
    card = card_of(qtbot, w, last_reply(w), "prev")
    qtbot.waitUntil(lambda: card.buttons["count"].isVisible(), timeout=3000)
    save_shot(w, f"ask_again_two_answers_{mode}")
    # a stopped reply
    send(qtbot, w, "Explain thesis statements at length")
    qtbot.waitUntil(lambda: last_reply(w).local_state == "streaming" and len(last_reply(w).content) > 60,
                    timeout=5000)
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    wait_idle(qtbot, state)
    stopped = last_reply(w)
    card = card_of(qtbot, w, stopped, "continue")
    qtbot.waitUntil(lambda: card.buttons["continue"].isVisible(), timeout=3000)
    assert "Stopped" in w.chat.delegate.meta_text(stopped)
    assert w.companion.emotion == "default"
    save_shot(w, f"stopped_reply_{mode}")
    # the composer with an attached draft and spelling marks
    drop(w.composer.edit, [make_docx(tmp_path / "essay-draft.docx", ["Cities need more trees.",
                                                                     "Shade lowers the heat in summer."])])
    qtbot.waitUntil(lambda: len(w.composer.chips.chips) == 1, timeout=5000)
    qtbot.keyClicks(w.composer.edit, "Could you chek my introdution and tell me if the claim is clear?")
    qtbot.waitUntil(lambda: w.composer.edit.spelling is not None and w.composer.edit.spelling.checker is not None,
                    timeout=15000)
    qtbot.waitUntil(lambda: w.composer.edit.spelling.misspelled() == ["chek", "introdution"], timeout=3000)
    qtbot.waitUntil(w.composer.chips.chips[0].isVisible, timeout=3000)
    qtbot.waitUntil(lambda: w.composer.words.text() == "13 words + 10 attached", timeout=3000)
    save_shot(w, f"composer_draft_spelling_{mode}")
