"""The window driven as a student would, against moto S3 and our local Bedrock over HTTP."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit

from archpal_desktop.localstack.bedrock import Reply
from tests.ui.conftest import save_shot, wait_idle
from tests.ui.test_message_content import button_of


def send(qtbot, w, text):
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, text)
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)


def shown_texts(w):
    return [(m.role, m.content, m.local_state) for m in w.chat.chat_model.messages()]


def test_shift_enter_makes_a_new_line_and_enter_sends(qtbot, make_window, state, bedrock):
    bedrock.script(Reply(text="Sure.", emotion="hello"))
    w = make_window()
    assert not w.composer.send_button.isEnabled()       # nothing written yet: explained in tooltip
    assert "Write a message first" in w.composer.send_button.toolTip()
    qtbot.keyClicks(w.composer.edit, "line one")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(w.composer.edit, "line two")
    assert w.composer.edit.toPlainText() == "line one\nline two"
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(shown_texts(w)) == 2, timeout=5000)
    wait_idle(qtbot, state)
    assert shown_texts(w)[0][1] == "line one\nline two"
    assert shown_texts(w)[1][:2] == ("assistant", "Sure.")
    assert w.composer.edit.toPlainText() == ""
    assert w.conversations.conv_model.rowCount() == 1
    assert w.side_stack.currentWidget() is w.conversations


def test_reply_streams_in_place_and_can_be_stopped_then_retried(qtbot, make_window, state, bedrock):
    long = " ".join(f"word{i}" for i in range(400))
    bedrock.script(Reply(text=long, emotion="point", piece_size=6, delay=0.02),
                   Reply(text="A complete answer.", emotion="success"))
    w = make_window()
    send(qtbot, w, "Explain thesis statements")
    # the bubble appears and grows while the stream runs
    qtbot.waitUntil(lambda: len(shown_texts(w)) == 2 and len(shown_texts(w)[1][1]) > 30, timeout=5000)
    assert shown_texts(w)[1][2] == "streaming"
    save_shot(w, "streaming")
    assert w.composer.stop_button.isVisible() and not w.composer.send_button.isVisible()
    first_len = len(shown_texts(w)[1][1])
    qtbot.waitUntil(lambda: len(shown_texts(w)[1][1]) > first_len, timeout=5000)
    qtbot.keyClick(w, Qt.Key.Key_Escape)        # stop
    wait_idle(qtbot, state)
    role, text, local = shown_texts(w)[1]
    assert local == "failed" and 0 < len(text) < len(long) and long.startswith(text[:20])
    assert w.composer.send_button.isVisible()
    save_shot(w, "stopped_retry")
    # a stop is not a failure: "Stopped", and the reply's own Continue button carries it on in
    # the same bubble
    msg = w.chat.chat_model.messages()[1]
    button = button_of(qtbot, w, msg, "continue")
    assert "Stopped" in w.chat.delegate.meta_text(msg)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown_texts(w)[-1][1:] == (text + "A complete answer.", None), timeout=5000)
    wait_idle(qtbot, state)
    assert len(shown_texts(w)) == 2
    assert w.companion.emotion == "success"


def test_rename_delete_and_keyboard(qtbot, make_window, state, monkeypatch):
    for title in ("First essay", "Second essay", "Third essay"):
        state.store.create_conversation(title)
    w = make_window()
    titles = [c.title for c in w.conversations.conv_model.conversations()]
    assert titles == ["Third essay", "Second essay", "First essay"]
    w.conversations.setFocus()
    w.conversations.select(w.conversations.conv_model.conversations()[1].conversation_id)
    # the rename box is modal; answer it the way a student would (type + Enter)
    from tests.support.dialogs import answer_modal, click_message_box_button

    def rename(dlg):
        edit = dlg.findChild(QLineEdit)
        edit.selectAll()
        qtbot.keyClicks(edit, "Renamed essay")
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    answer_modal(qtbot, QInputDialog, rename, name="renameDialog")
    qtbot.keyClick(w.conversations, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: "Renamed essay" in [c.title for c in w.conversations.conv_model.conversations()],
                    timeout=5000)
    wait_idle(qtbot, state)
    assert w.title_label.text() == "Renamed essay"
    assert state.store.get_conversation(w.current_cid).title == "Renamed essay"
    # the rename box took the focus: the student clicks the conversation again, then Delete
    model = w.conversations.conv_model
    rect = w.conversations.visualRect(model.index(model.row_of(w.current_cid)))
    qtbot.mouseClick(w.conversations.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    seen = []
    click_message_box_button(qtbot, "Delete", seen)  # the confirmation, clicked
    qtbot.keyClick(w.conversations, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() == 2, timeout=5000)
    w.toast.dismiss()       # the Undo time is over: the delete is written
    wait_idle(qtbot, state)
    assert [c.title for c in state.store.list_conversations()] == ["Third essay", "First essay"]
    assert w.current_cid in {c.conversation_id for c in state.store.list_conversations()}
    # next / previous conversation from the keyboard
    before = w.current_cid
    w.conversation_actions.step_conversation(-1)
    wait_idle(qtbot, state)
    w.conversation_actions.step_conversation(1)
    wait_idle(qtbot, state)
    assert w.current_cid == state.store.list_conversations()[1].conversation_id or w.current_cid == before


def test_search_opens_the_conversation_at_the_hit(qtbot, make_window, state):
    target = state.store.create_conversation("Sources")
    for i in range(300):
        state.store.add_message(target.conversation_id, "user" if i % 2 == 0 else "assistant",
                                f"filler message number {i} about nothing")
    hit_msg = state.store.add_message(target.conversation_id, "user", "How do I cite a zebrafish study?",
                                      timestamp="2020-01-01T00:00:00.000000Z")
    other = state.store.create_conversation("Other")
    state.store.add_message(other.conversation_id, "user", "unrelated")
    w = make_window()
    qtbot.keyClicks(w.search_box, "zebrafi")
    qtbot.waitUntil(lambda: w.results.hits_model.rowCount() == 1, timeout=5000)
    assert w.side_stack.currentWidget() is w.results
    assert "1 result" in w.results_label.text()
    hit = w.results.hits_model.hits[0]
    assert hit.title == "Sources" and "<b>" in hit.snippet_html
    rect = w.results.visualRect(w.results.hits_model.index(0))
    qtbot.mouseClick(w.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: w.current_cid == target.conversation_id and w.chat.current_message() is not None,
                    timeout=5000)
    assert w.chat.current_message().message_id == hit_msg.message_id
    assert w.chat.delegate.highlight_id == hit_msg.message_id
    # the hit is visible in the viewport
    idx = w.chat.selectionModel().selectedIndexes()[0]   # current only while the chat has focus
    assert w.chat.viewport().rect().intersects(w.chat.visualRect(idx))


def test_draft_is_kept_per_conversation_and_across_restarts(qtbot, make_window, state):
    a = state.store.create_conversation("A")
    b = state.store.create_conversation("B")
    w = make_window()
    w.conversations.select(a.conversation_id)
    wait_idle(qtbot, state)
    qtbot.keyClicks(w.composer.edit, "half a thought")
    w.conversations.select(b.conversation_id)
    qtbot.waitUntil(lambda: w.current_cid == b.conversation_id, timeout=3000)
    wait_idle(qtbot, state)
    assert w.composer.edit.toPlainText() == ""
    assert state.store.get_draft(a.conversation_id) == "half a thought"
    w.close()
    w2 = make_window()
    w2.conversations.select(a.conversation_id)
    qtbot.waitUntil(lambda: w2.composer.edit.toPlainText() == "half a thought", timeout=3000)
