"""The leak checks of tests/ui/conftest.py can fail: each one sees the leak it is for."""
from __future__ import annotations

import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from tests.ui.conftest import threads_left, timers_active, windows_shown


def test_a_thread_still_running_is_seen(qapp):
    before = set(threading.enumerate())
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, name="archpal-leaked", daemon=True)
    t.start()
    try:
        # this one never ends on its own: a short grace is enough to see it
        assert [x.name for x in threads_left(before, grace=0.05)] == ["archpal-leaked"]
    finally:
        stop.set()
        t.join(10)
    assert threads_left(before) == []


def test_an_active_timer_is_seen_and_a_stopped_one_is_not(qapp):
    timer = QTimer()
    timer.start(60_000)
    assert timers_active([timer]) == [timer]
    timer.stop()
    assert timers_active([timer]) == []


def test_a_window_left_shown_is_seen(qapp, qtbot):
    before = set(map(id, qapp.topLevelWidgets()))
    label = QLabel("left open")
    label.show()
    assert windows_shown(before) == [label]
    label.close()
    assert windows_shown(before) == []
