"""Freshness (issue 19) in the real window, with a fake clock for the schedule, moto's S3 and
the web app's way of writing (tests/support/webapp.py):

- a message goes up because it was saved (the coach is unreachable: no reply schedules it);
- the poll interval follows focus, background and a resume from sleep;
- the web app's messages appear in the open conversation without moving the view or touching
  the composer, and the list reorders without losing the selection;
- never two syncs at a time, however many requests arrive during one.
"""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QWidget

from archpal_desktop.core import layout
from archpal_desktop.localstack.server import free_port
from archpal_desktop.ui import live_refresh, sync_driver
from tests.support.webapp import WebAppWriter
from tests.ui.conftest import save_shot, wait_idle


class FakeClock:
    def __init__(self) -> None:
        self.mono = 5000.0
        self.wall = 1_800_000_000.0

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock()
    monkeypatch.setattr(sync_driver, "MONOTONIC", lambda: c.mono)
    monkeypatch.setattr(sync_driver, "WALL", lambda: c.wall)
    monkeypatch.setattr(sync_driver, "TICK_MS", 20)    # the driver looks at the clock often
    return c


def activate(qtbot, widget) -> None:
    """Make ``widget`` the active window (the offscreen platform activates on request; emitting
    QGuiApplication's applicationStateChanged from Python corrupts PySide6's refcounts)."""
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=5000)


def no_sync_for(qtbot, w, ms: int = 400) -> bool:
    with qtbot.waitSignal(w.sync.sync_finished, timeout=ms, raising=False) as seen:
        pass
    return not seen.signal_triggered


def etag(s3, bucket, key):
    return s3.head_object(Bucket=bucket, Key=key)["ETag"]


def test_a_message_goes_up_because_it_was_saved_not_because_a_reply_came(
        qtbot, make_window, state, bedrock, s3, clock, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    for name in bedrock.endpoint_env():
        monkeypatch.setenv(name, dead)                  # the coach is unreachable; S3 is not
    bucket = state.settings["s3_bucket_name"]
    w = make_window()
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, "Thesis draft, first paragraph")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    # the fixture's profile already waits (1): wait for the message itself (2)
    qtbot.waitUntil(lambda: w.current_cid is not None and w.status.state.pending >= 2, timeout=5000)
    key = layout.conversation_key(state.sub, w.current_cid)
    # the schedule waits upload_delay (1 s) of its clock for more writes: nothing yet
    assert no_sync_for(qtbot, w, 300)
    with qtbot.waitSignal(w.sync.sync_finished, timeout=10000) as synced:
        clock.advance(1.0)
    assert w.sync_driver.last_due.reason == "upload"
    assert synced.args[0].pushed == [w.current_cid]
    assert etag(s3, bucket, key)
    wait_idle(qtbot, state, 10000)
    qtbot.waitUntil(lambda: w.status.state.pending == 0, timeout=5000)
    assert "waiting to upload" not in w.status.pending.text()
    # a second message changes the object's ETag the same way, no reply involved
    before = etag(s3, bucket, key)
    qtbot.keyClicks(w.composer.edit, "Second paragraph")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.status.state.pending >= 1, timeout=5000)
    with qtbot.waitSignal(w.sync.sync_finished, timeout=10000):
        clock.advance(1.0)
    assert etag(s3, bucket, key) != before
    assert w.sync_driver.last_due.reason == "upload"


def test_poll_intervals_follow_focus_background_and_resume(qtbot, make_window, state, s3, clock):
    w = make_window(start_sync=True)
    activate(qtbot, w)
    qtbot.waitUntil(lambda: w.sync_driver.last_due is not None and not w.sync.running, timeout=10000)
    wait_idle(qtbot, state)
    assert w.sync_driver.last_due.reason == "start"
    assert w.sync_driver.scheduler.poll_interval == 12
    clock.advance(11)
    assert no_sync_for(qtbot, w)
    with qtbot.waitSignal(w.sync.sync_finished, timeout=10000) as polled:
        clock.advance(1.5)
    assert w.sync_driver.last_due.reason == "poll"
    assert polled.args[0].requests.get("head") == 1 and polled.args[0].requests["list"] == 0
    # the window goes to the back (another window comes to the front): minutes between polls
    other = QWidget()
    other.setWindowTitle("Another application's window")
    qtbot.addWidget(other)
    other.resize(300, 200)
    activate(qtbot, other)
    qtbot.waitUntil(lambda: w.sync_driver.scheduler.poll_interval == 300, timeout=5000)
    assert not w.isActiveWindow()
    clock.advance(60)
    assert no_sync_for(qtbot, w)
    with qtbot.waitSignal(w.sync.sync_finished, timeout=10000):
        clock.advance(241)
    assert w.sync_driver.last_due.reason == "poll"
    # the lid closes for an hour (the monotonic clock stops): at once on resume
    with qtbot.waitSignal(w.sync.sync_finished, timeout=10000):
        clock.wall += 3600
    assert w.sync_driver.last_due.reason == "resume"
    # back in front after more than the active interval: a poll at once
    clock.advance(20)
    with qtbot.waitSignal(w.sync.sync_finished, timeout=10000):
        activate(qtbot, w)
    assert w.sync_driver.last_due.reason == "poll"
    assert w.sync_driver.scheduler.poll_interval == 12
    other.close()
    wait_idle(qtbot, state)


def _seed(s3, bucket, sub) -> tuple[WebAppWriter, str, str]:
    web = WebAppWriter(s3, bucket, sub)
    other = web.new_conversation("An older question about commas")
    long = web.new_conversation("Can you look at my essay's structure?")
    for i in range(14):
        web.append(long, "assistant" if i % 2 == 0 else "user",
                   f"Point {i}: " + "a sentence that takes a line or two in the window. " * 6)
    return web, long, other


def test_a_web_app_change_appears_in_the_open_conversation_without_moving_the_view(
        qtbot, make_window, state, s3, clock):
    bucket = state.settings["s3_bucket_name"]
    web, long, other = _seed(s3, bucket, state.sub)
    w = make_window(start_sync=True)
    activate(qtbot, w)
    qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() == 2 and not w.sync.running,
                    timeout=15000)
    wait_idle(qtbot, state)
    w.conversations.select(long)
    qtbot.waitUntil(lambda: w.chat.chat_model.total == 15, timeout=5000)
    wait_idle(qtbot, state)
    sb = w.chat.verticalScrollBar()
    assert sb.maximum() > 200
    sb.setValue(sb.maximum() // 2)                        # reading the middle
    qtbot.wait(50)
    top_before = w.chat.indexAt(QPoint(w.chat.viewport().width() // 2, 5))
    anchor_id = top_before.data(Qt.ItemDataRole.UserRole + 1).message_id
    anchor_y = w.chat.visualRect(top_before).top()
    value_before = sb.value()
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, "half-typed reply, not sent")
    cursor = w.composer.edit.textCursor()
    cursor.setPosition(4)
    w.composer.edit.setTextCursor(cursor)

    web.append(long, "user", "Written on the lab computer")
    with qtbot.waitSignal(w.sync.sync_finished, timeout=10000) as synced:
        clock.advance(12.5)
    assert synced.args[0].pulled == [long]
    qtbot.waitUntil(lambda: w.chat.chat_model.total == 16, timeout=5000)
    wait_idle(qtbot, state)
    qtbot.wait(50)
    row = w.chat.chat_model.row_of(anchor_id, reveal=False)
    assert abs(w.chat.visualRect(w.chat.chat_model.index(row)).top() - anchor_y) <= 2
    assert abs(sb.value() - value_before) <= 2            # the view did not move
    assert w.composer.edit.toPlainText() == "half-typed reply, not sent"
    assert w.composer.edit.textCursor().position() == 4
    assert QApplication.focusWidget() is w.composer.edit
    # at the bottom, the new message shows (the view follows the end)
    w.chat.scrollToBottom()
    qtbot.wait(50)
    web.append(long, "assistant", "The coach's answer, seen from the web app")
    with qtbot.waitSignal(w.sync.sync_finished, timeout=10000):
        clock.advance(12.5)
    qtbot.waitUntil(lambda: w.chat.chat_model.total == 17, timeout=5000)
    wait_idle(qtbot, state)
    qtbot.wait(50)
    assert w.chat._at_bottom()
    last = w.chat.visualRect(w.chat.chat_model.index(w.chat.chat_model.rowCount() - 1))
    assert last.isValid() and last.bottom() <= w.chat.viewport().height() + 2 and last.height() > 10
    # the other conversation changes on the web: it moves to the top, the selection stays
    assert w.conversations.conv_model.row_of(other) == 1
    web.append(other, "user", "And one more about semicolons")
    with qtbot.waitSignal(w.sync.sync_finished, timeout=10000):
        clock.advance(12.5)
    qtbot.waitUntil(lambda: w.conversations.conv_model.row_of(other) == 0, timeout=5000)
    assert live_refresh.selected_id(w.conversations) == long and w.current_cid == long
    assert w.title_label.text() == w.conversations.conv_model.conversation(long).title
    assert w.chat.chat_model.total == 17
    assert w.composer.edit.toPlainText() == "half-typed reply, not sent"
    wait_idle(qtbot, state)
    # a look: the refreshed conversation, the reordered list, the status bar, both themes
    for mode in ("light", "dark"):
        state.theme.set_mode(mode)
        for width, height in ((800, 600), (1920, 1080)):
            w.resize(width, height)
            qtbot.wait(80)
            w.chat.scrollToBottom()
            qtbot.wait(30)
            save_shot(w, f"fresh-{mode}-{width}x{height}")
    state.theme.set_mode("light")


def test_never_two_syncs_at_a_time(qtbot, make_window, state, s3, clock, monkeypatch):
    import archpal_desktop.core.sync as sync_pkg
    real = sync_pkg.sync_once
    lock = threading.Lock()
    live = [0]
    peak = [0]
    runs = [0]

    def counted(*args, **kwargs):
        with lock:
            live[0] += 1
            runs[0] += 1
            peak[0] = max(peak[0], live[0])
        try:
            import time
            time.sleep(0.3)             # a slow network: requests pile up meanwhile
            return real(*args, **kwargs)
        finally:
            with lock:
                live[0] -= 1
    monkeypatch.setattr(sync_pkg, "sync_once", counted)
    w = make_window()
    sync_action = w.findChild(QAction, "action_sync")
    assert sync_action is not None and sync_action.text() == "Sync &now"
    sync_action.trigger()
    assert w.sync.running
    for _ in range(3):                   # the student, the network and a write, all at once
        sync_action.trigger()
        # no local server can make the OS report a network change: the driver's handler for
        # QNetworkInformation's signals, called as that signal would
        w.sync_driver._network_changed(True)
        state.tasks.run_db(lambda: state.store.create_conversation("During the sync"))
        clock.advance(2)
        qtbot.wait(30)
    qtbot.waitUntil(lambda: not w.sync.running and runs[0] >= 2, timeout=10000)
    wait_idle(qtbot, state)
    qtbot.wait(200)
    assert not w.sync.running
    assert peak[0] == 1
    assert runs[0] == 2                  # the first, then one for everything asked during it
    wait_idle(qtbot, state)


def test_offline_a_message_is_visibly_waiting_and_retried_on_the_offline_schedule(
        qtbot, make_window, state, bedrock, clock, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", dead)     # S3 unreachable (and so the coach)
    for name in bedrock.endpoint_env():
        monkeypatch.setenv(name, dead)
    w = make_window()
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, "Written on the train")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    # the fixture's profile already waits: wait for the message itself
    qtbot.waitUntil(lambda: w.status.state.pending >= 2, timeout=5000)
    with qtbot.waitSignal(w.sync.sync_failed, timeout=30000):
        clock.advance(1.0)                               # the write's upload is due: tried
    qtbot.waitUntil(lambda: w.status.state.online is False and not w.sync.running, timeout=5000)
    assert w.sync_driver.last_due.reason == "upload"
    # visibly waiting: the connection and the waiting count, both shown
    assert w.status.online.isVisible() and w.status.online.text().startswith("\u25cf Offline")
    assert w.status.pending.isVisible() and w.status.pending.text() == "2 changes waiting to upload"
    assert w.status.pending.width() > 20 and w.status.pending.height() > 5
    save_shot(w, "fresh-offline-waiting")
    # retried on the offline schedule (15 s), not at once and not at the next background poll
    assert no_sync_for(qtbot, w, 300)
    with qtbot.waitSignal(w.sync.sync_failed, timeout=30000):
        clock.advance(15.5)
    assert w.sync_driver.last_due.reason == "offline-retry"
    assert w.status.state.pending == 2
    wait_idle(qtbot, state, 15000)


def test_a_big_remote_change_resets_the_list_once_and_keeps_the_selection(qtbot, make_window, state,
                                                                         s3, clock):
    bucket = state.settings["s3_bucket_name"]
    web = WebAppWriter(s3, bucket, state.sub)
    mine = web.new_conversation("The one I have open")
    w = make_window(start_sync=True)
    activate(qtbot, w)
    qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() == 1 and not w.sync.running,
                    timeout=15000)
    wait_idle(qtbot, state)
    w.conversations.select(mine)
    qtbot.waitUntil(lambda: w.current_cid == mine and w.chat.chat_model.total == 1, timeout=5000)
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, "still typing")
    resets = []
    w.conversations.conv_model.modelReset.connect(lambda: resets.append(1))
    many = live_refresh.PATCH_AT_MOST + 10
    for i in range(many):                              # a busy afternoon in the web app
        web.new_conversation(f"Lab question {i}")
    with qtbot.waitSignal(w.sync.sync_finished, timeout=20000) as synced:
        clock.advance(12.5)
    assert len(synced.args[0].pulled) == many
    qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() == many + 1, timeout=10000)
    wait_idle(qtbot, state)
    assert resets == [1]                               # one reset, not 60 row inserts
    assert live_refresh.selected_id(w.conversations) == mine and w.current_cid == mine
    assert w.composer.edit.toPlainText() == "still typing"
    assert QApplication.focusWidget() is w.composer.edit
