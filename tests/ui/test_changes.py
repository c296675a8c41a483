"""Changes are announced, not polled (issue 17, point 3): a committed write reaches the status
bar and the list through one signal, and a saved message schedules its own upload, including
one written while the coach is unreachable (it used to wait for the 120 s sync timer)."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt

from archpal_desktop.core import layout
from archpal_desktop.localstack.server import free_port
from tests.ui.conftest import wait_idle


def test_a_message_saved_while_the_coach_is_offline_goes_up_by_itself(qtbot, make_window, state,
                                                                     bedrock, s3, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    for name in bedrock.endpoint_env():
        monkeypatch.setenv(name, dead)           # the model is unreachable; S3 is not
    w = make_window()
    assert w.sync.timer.interval() >= 15_000     # the periodic timer is not what uploads it
    with qtbot.waitSignal(w.sync.sync_finished, timeout=15000) as synced:
        w.composer.edit.setFocus()
        qtbot.keyClicks(w.composer.edit, "Written with the coach away")
        qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    assert synced.args[0].pushed, synced.args[0]
    wait_idle(qtbot, state, 15000)
    cid = w.current_cid
    body = s3.get_object(Bucket=state.settings["s3_bucket_name"],
                         Key=layout.conversation_key(state.sub, cid))["Body"].read()
    assert [m["content"] for m in json.loads(body)["messages"]] == ["Written with the coach away"]
    # the status bar learnt of the change and of the upload without a hand-placed refresh
    qtbot.waitUntil(lambda: w.status.state.pending == 0, timeout=5000)


def test_a_rename_reaches_the_list_and_the_status_bar_through_one_signal(qtbot, make_window, state):
    conv = state.store.create_conversation("Before")
    w = make_window()
    with qtbot.waitSignal(w.changes.changed, timeout=5000) as seen:
        # a write from a background job, not from the window's own handlers
        state.tasks.run_db(lambda: state.store.rename_conversation(conv.conversation_id, "After"))
    assert conv.conversation_id in seen.args[0].conversations and seen.args[0].upload
    qtbot.waitUntil(lambda: "After" in [c.title for c in w.conversations.conv_model.conversations()],
                    timeout=5000)
    qtbot.waitUntil(lambda: w.status.state.pending >= 1, timeout=5000)
