"""Restoring the window, exporting all data, connection test failures in words, waiting marks."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt

from archpal_desktop.ui.chat_view import STATE_TEXT
from tests.ui.conftest import wait_idle


def test_size_splitter_and_last_conversation_are_restored(qtbot, make_window, state):
    convs = [state.store.create_conversation(t) for t in ("One", "Two", "Three")]
    w = make_window()
    w.resize(900, 640)
    w.splitter.setSizes([330, 400, 160])
    w.conversations.select(convs[0].conversation_id)      # the oldest: not the default pick
    qtbot.waitUntil(lambda: w.current_cid == convs[0].conversation_id, timeout=3000)
    wait_idle(qtbot, state)
    sizes = w.splitter.sizes()
    w.close()
    wait_idle(qtbot, state)
    w2 = make_window()
    qtbot.waitUntil(lambda: w2.current_cid == convs[0].conversation_id, timeout=3000)
    assert w2.title_label.text() == "One"
    assert abs(w2.splitter.sizes()[0] - sizes[0]) <= 2


def test_export_all_writes_the_backup(qtbot, make_window, state, tmp_path):
    conv = state.store.create_conversation("Backup me")
    state.store.add_message(conv.conversation_id, "user", "Keep this safe")
    w = make_window()
    w.conversation_actions.export_all(str(tmp_path))
    out = tmp_path / "archpal-export"
    qtbot.waitUntil(lambda: (out / "conversations.json").exists(), timeout=5000)
    wait_idle(qtbot, state)
    index = json.loads((out / "conversations.json").read_text())
    assert [e["conversation_id"] for e in index] == [conv.conversation_id]
    doc = json.loads((out / "conversations" / f"{conv.conversation_id}.json").read_text())
    assert doc["messages"][0]["content"] == "Keep this safe"
    assert json.loads((out / "info.json").read_text())["first_name"] == "Ada"


def test_connection_test_reports_failures_in_words(qtbot, make_window, state, monkeypatch):
    from archpal_desktop.localstack.server import free_port
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", dead)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", dead)
    w = make_window()
    dlg = w.account.settings_dialog()
    qtbot.addWidget(dlg)
    dlg.test_button.click()
    qtbot.waitUntil(lambda: dlg.test_button.isEnabled() and "Coach model" in dlg.test_result.text(),
                    timeout=30000)
    text = dlg.test_result.text()
    assert "✘ Cloud storage (S3)" in text and "offline" in text.lower()
    assert "✘ Coach model" in text


def test_a_message_from_another_device_without_reply_shows_no_reply_yet(qtbot, make_window, state):
    conv = state.store.create_conversation("From my laptop")
    state.store.add_message(conv.conversation_id, "user", "Answered")
    state.store.add_message(conv.conversation_id, "assistant", "Yes.")
    state.store.add_message(conv.conversation_id, "user", "Written elsewhere, not answered yet")
    queued = state.store.add_message(conv.conversation_id, "user", "Queued here", local_state="waiting")
    w = make_window()
    w.conversations.select(conv.conversation_id)
    qtbot.waitUntil(lambda: w.chat.chat_model.total == 4, timeout=3000)
    d = w.chat.delegate
    msgs = w.chat.chat_model.messages()
    # not queued on this device: "no reply yet", not "answered when a connection is back"
    assert STATE_TEXT["unanswered"] in d.meta_text(msgs[2])
    assert STATE_TEXT["waiting"] not in d.meta_text(msgs[2])
    assert STATE_TEXT["unanswered"] not in d.meta_text(msgs[0])
    assert msgs[3].message_id == queued.message_id
    assert STATE_TEXT["waiting"] in d.meta_text(msgs[3]) or STATE_TEXT["answering"] in d.meta_text(msgs[3])


def test_notification_when_a_reply_arrives_in_the_background(qtbot, make_window, state, bedrock, monkeypatch):
    from archpal_desktop.localstack.bedrock import Reply
    bedrock.script(Reply(text="Here you go.", emotion="smile"))
    w = make_window()
    notes = []
    monkeypatch.setattr(w, "isActiveWindow", lambda: False)   # offscreen has no window manager focus
    monkeypatch.setattr(w, "notify", lambda title, text: notes.append((title, text)))
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, "hello")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(notes), timeout=10000)
    wait_idle(qtbot, state)
    assert notes[0][0] == "ArchPal answered"
    type(w).notify(w, "ArchPal answered", "A reply arrived.")   # the real one: tray or taskbar alert


def test_first_sync_shows_progress_with_counts_then_last_sync(qtbot, make_window, state, s3, bucket):
    from tests.support.seed import seed_bucket
    seed_bucket(s3, bucket, state.sub, 60, 4)
    w = make_window()
    seen = []
    w.sync.state_changed.connect(lambda s: seen.append((w.status.progress.isVisible(),
                                                         w.status.progress.format(), s.total)))
    with qtbot.waitSignal(w.sync.sync_finished, timeout=30000):
        qtbot.keyClick(w, Qt.Key.Key_F5)                 # sync on demand
    wait_idle(qtbot, state)
    assert any(vis and total >= 60 and " / " in fmt for vis, fmt, total in seen)
    assert not w.status.progress.isVisible()
    assert w.status.last.text() == "Synced just now"
    qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() == 60, timeout=5000)
    assert "Online" in w.status.online.text()


def test_sync_error_in_words_with_the_action_to_take(qtbot, make_window, state):
    from archpal_desktop.core import config as cfg
    state.settings = cfg.load_settings(cli_overrides={cfg.DATA_DIR: str(state.settings.data_dir()),
                                                      cfg.S3_BUCKET_NAME: "archpal-no-such-bucket"})
    w = make_window()
    with qtbot.waitSignal(w.sync.state_changed, timeout=15000,
                          check_params_cb=lambda s: not s.syncing and bool(s.error)):
        w.sync.sync_now("test")
    assert "bucket" in w.status.error.text().lower()
    assert w.status.action.isVisible() and w.status.action.text() == "Open settings"
