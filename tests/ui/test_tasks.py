"""The task runner: results, errors and progress arrive on the UI thread; stale results drop."""
from __future__ import annotations

import threading

from PySide6.QtCore import QThread

from archpal_desktop.ui.tasks import Latest, TaskManager


def test_result_and_progress_arrive_on_ui_thread(qtbot, tasks):
    seen = {}
    ui = QThread.currentThread()

    def work(report):
        seen["worker"] = threading.current_thread().name
        for i in range(3):
            report(i)
        return 42

    progress = []
    with qtbot.waitSignal(tasks.all_done, timeout=5000):
        tasks.run_in_background(work, lambda r: seen.update(result=r, thread=QThread.currentThread()),
                                on_progress=progress.append)
    assert seen["result"] == 42 and seen["thread"] is ui
    assert progress == [0, 1, 2]
    assert seen["worker"] != threading.current_thread().name


def test_errors_reach_on_error(qtbot, tasks):
    errors = []
    with qtbot.waitSignal(tasks.all_done, timeout=5000):
        tasks.run_in_background(lambda: 1 / 0, None, errors.append)
    assert isinstance(errors[0], ZeroDivisionError)


def test_db_jobs_run_in_order_on_one_thread(qtbot, tasks):
    order, threads = [], set()

    def job(i):
        def run():
            threads.add(threading.get_ident())
            order.append(i)
        return run
    with qtbot.waitSignal(tasks.all_done, timeout=5000):
        for i in range(20):
            tasks.run_db(job(i))
    assert order == list(range(20))
    assert len(threads) == 1


def test_stale_results_are_dropped(qtbot, tasks):
    latest, got = Latest(), []
    gate = threading.Event()
    first = latest.guard(got.append)
    tasks.run_in_background(lambda: (gate.wait(5), "old")[1], first)
    second = latest.guard(got.append)
    with qtbot.waitSignal(tasks.all_done, timeout=5000):
        tasks.run_in_background(lambda: "new", second)
        gate.set()
    assert got == ["new"]


def test_shutdown_cancels_progress_reporting_work(qapp):
    tm = TaskManager()
    started = threading.Event()

    def endless(report):
        started.set()
        while True:
            report(None)   # raises Cancelled once shutdown asked
    tm.run_in_background(endless, on_progress=lambda _p: None)
    assert started.wait(5)
    assert tm.shutdown(5000)


def test_a_result_for_a_deleted_object_is_dropped(qtbot, tasks):
    """A window closed while its job ran: the job's result must not crash the event loop."""
    from PySide6.QtCore import QObject, Signal
    import shiboken6

    class Owner(QObject):
        changed = Signal(int)

    owner = Owner()
    release = threading.Event()
    delivered = []
    tasks.run_db(lambda: release.wait(5) and 7, lambda n: (delivered.append(n), owner.changed.emit(n)))
    shiboken6.delete(owner)          # the C++ side is gone before the result arrives
    release.set()
    qtbot.waitUntil(lambda: not tasks.busy, timeout=5000)
    assert delivered == [7]          # the callback ran; its emit on the dead object was dropped


def test_the_cycle_collector_runs_on_the_ui_thread_only(qtbot, tasks):
    """A worker that makes many reference cycles never runs a collection itself (one there may
    free a Qt wrapper off the UI thread: a segfault); the UI thread's timer collects them."""
    import gc
    assert not gc.isenabled()
    on_ui: list[bool] = []

    def seen(phase, _info) -> None:
        if phase == "start":
            on_ui.append(threading.current_thread() is threading.main_thread())
    gc.callbacks.append(seen)
    done: list = []
    try:
        def churn() -> int:
            for _ in range(60_000):
                cycle: list = []
                cycle.append(cycle)
            return gc.get_count()[0]
        tasks.run_in_background(churn, done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=10_000)
        assert done[0] > gc.get_threshold()[0]          # the worker passed the threshold...
        qtbot.waitUntil(lambda: bool(on_ui), timeout=3000)
        assert all(on_ui), "a collection ran on a worker thread"   # ...and only the UI collected
    finally:
        gc.callbacks.remove(seen)
