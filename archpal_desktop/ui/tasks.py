"""The one way the window runs work off the UI thread (after Anki's taskman / QueryOp).

* ``run_in_background(fn, on_done, on_error, on_progress)`` runs ``fn`` on a thread pool and
  delivers its result, its exception or its progress reports back on the UI thread through
  queued signals. ``fn`` never touches widgets.
* The window's cache work goes through a one-worker executor (``db=True``), so it applies in
  the order it was asked for; network work (sync, model calls, sign-in) uses the other pool.
  A sync or a reply writes the cache from its own thread too: each thread has its own
  connection and writes are serialised by the store (docs/ARCHITECTURE.md, "Threads").
* :class:`Latest` hands out tokens so a result that is no longer wanted (search-as-you-type,
  switching conversations while one still loads) is dropped, as git-cola's diff widget does.

Workers catch everything: an exception raised inside a worker would otherwise be lost on a
pool thread; here it reaches ``on_error`` on the UI thread (or the log).
"""
from __future__ import annotations

import gc
import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, QTimer, Signal

from archpal_desktop.core.cancel import CancelToken, OperationCancelled

log = logging.getLogger(__name__)


# one stop flag for the whole app (core.cancel); ``Cancelled`` is what ``check()`` raises
Cancelled = OperationCancelled


class _Relay(QObject):
    """Lives on the UI thread; the worker emits, Qt queues the call onto the UI thread.

    Payloads always travel wrapped in a 1-tuple: a bare ``None`` sent through a queued
    ``Signal(object)`` many times has been seen to corrupt None's refcount in PySide6
    ("deallocating None"), and many jobs (a draft save) return None.
    """

    done = Signal(object)
    failed = Signal(object)
    progress = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[..., Any], relay: _Relay, wants_progress: bool,
                 token: CancelToken):
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._relay = relay
        self._wants_progress = wants_progress
        self.token = token

    def run(self) -> None:  # pool thread
        try:
            if self._wants_progress:
                result = self._fn(self._report)
            else:
                result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - nothing may escape a pool thread
            try:
                self._relay.failed.emit((exc,))
            except RuntimeError:  # the relay was deleted during shutdown
                pass
        else:
            try:
                self._relay.done.emit((result,))
            except RuntimeError:
                pass

    def _report(self, *args: Any) -> None:
        self.token.check()
        payload = args[0] if len(args) == 1 else args
        try:
            self._relay.progress.emit((payload,))
        except RuntimeError:
            pass


class Task:
    """What ``run_in_background`` returns: lets the caller cancel and see if it is running."""

    def __init__(self, token: CancelToken):
        self.token = token
        self.running = True

    def cancel(self) -> None:
        self.token.cancel()


def _deliver(callback: Callable[[Any], None], value: Any) -> None:
    """Hand a result to its callback on the UI thread. A result for a widget or controller
    that Qt has already deleted (a window closed while its job ran) is stale: drop it."""
    try:
        callback(value)
    except RuntimeError as exc:
        if "deleted" not in str(exc):
            raise
        log.debug("dropped a result for a deleted Qt object: %s", exc)


class MainThreadCollector(QObject):
    """Python's cycle collector runs on the UI thread only (docs/ARCHITECTURE.md, "Threads").

    Left automatic, a collection starts on whichever thread happens to allocate past the
    threshold, a worker included; when the cycle it frees holds a Qt wrapper (a dialog's lambda,
    a model's parent), PySide deletes the C++ object on that worker, which crashes the process
    (seen as a segfault "Garbage-collecting" under botocore on a sign-up worker). So automatic
    collection is off, and this timer on the UI thread collects the generation whose threshold
    has been passed, as the interpreter itself would have (Anki's aqt does the same)."""

    INTERVAL_MS = 500

    def __init__(self, app: QObject):
        super().__init__(app)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setObjectName("mainThreadCollector")
        self.timer.timeout.connect(self.check)
        self.timer.start(self.INTERVAL_MS)

    @staticmethod
    def check() -> int:
        """Collect the oldest generation over its threshold (-1: none was)."""
        counts, limits = gc.get_count(), gc.get_threshold()
        gen = max((g for g in range(3) if counts[g] > limits[g]), default=-1)
        if gen >= 0:
            gc.collect(gen)
        return gen


def collect_on_the_ui_thread() -> MainThreadCollector | None:
    """Install the collector once per application (the first task runner does it)."""
    app = QCoreApplication.instance()
    if app is None or threading.current_thread() is not threading.main_thread():
        return None
    found = app.findChild(MainThreadCollector)
    return found if found is not None else MainThreadCollector(app)


class TaskManager(QObject):
    """Two pools: ``net`` (several workers) and ``db`` (exactly one, always the same thread)."""

    all_done = Signal()

    def __init__(self, parent: QObject | None = None, net_workers: int = 4):
        super().__init__(parent)
        self.net_pool = QThreadPool(self)
        self.net_pool.setMaxThreadCount(net_workers)
        self.db_pool = QThreadPool(self)
        self.db_pool.setMaxThreadCount(1)
        # one long-lived thread: an SQLite connection made there stays usable there
        self.db_pool.setExpiryTimeout(-1)
        # pool threads live as long as the manager: each keeps its own cache connection
        # (core/cache/connection.py), which a thread that expired could not give back
        self.net_pool.setExpiryTimeout(-1)
        self._live: set[_Relay] = set()
        self._tasks: dict[_Relay, Task] = {}
        self._closing = False
        collect_on_the_ui_thread()   # worker threads never run the cycle collector

    def run_in_background(self, fn: Callable[..., Any],
                          on_done: Callable[[Any], None] | None = None,
                          on_error: Callable[[BaseException], None] | None = None,
                          on_progress: Callable[[Any], None] | None = None,
                          *, db: bool = False, token: CancelToken | None = None) -> Task:
        """Run ``fn()`` (or ``fn(report)`` when ``on_progress`` is given) off the UI thread."""
        token = token or CancelToken()
        task = Task(token)
        if self._closing:
            task.running = False
            return task
        relay = _Relay()  # created here, so it lives on the UI thread
        self._live.add(relay)
        self._tasks[relay] = task

        def finish() -> None:
            task.running = False
            self._live.discard(relay)
            self._tasks.pop(relay, None)
            relay.deleteLater()
            if not self._live:
                self.all_done.emit()

        def done(box: tuple) -> None:
            result = box[0]
            finish()
            if on_done is not None and not self._closing:
                _deliver(on_done, result)

        def failed(box: tuple) -> None:
            exc = box[0]
            finish()
            if isinstance(exc, Cancelled):
                log.debug("task cancelled")
                return
            if on_error is not None and not self._closing:
                _deliver(on_error, exc)
            else:
                log.error("background task failed", exc_info=(type(exc), exc, exc.__traceback__))

        relay.done.connect(done)
        relay.failed.connect(failed)
        if on_progress is not None:
            relay.progress.connect(lambda box: None if self._closing else _deliver(on_progress, box[0]))
        job = _Job(fn, relay, on_progress is not None, token)
        (self.db_pool if db else self.net_pool).start(job)
        return task

    def run_db(self, fn: Callable[..., Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None) -> Task:
        """A database job, in order with every other database job."""
        return self.run_in_background(fn, on_done, on_error, db=True)

    @property
    def busy(self) -> bool:
        return bool(self._live)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel what can be cancelled and wait for the workers; no thread outlives the app."""
        self._closing = True
        for task in list(self._tasks.values()):
            task.cancel()
        ok = self.net_pool.waitForDone(timeout_ms)
        ok = self.db_pool.waitForDone(timeout_ms) and ok
        return ok


class Latest:
    """Stale-result guard: ``handler = latest.guard(fn)`` per request; only the newest runs."""

    def __init__(self) -> None:
        self._n = 0

    def next(self) -> int:
        self._n += 1
        return self._n

    def guard(self, fn: Callable[[Any], None]) -> Callable[[Any], None]:
        """Wrap a result handler so it only runs for the newest request made so far."""
        token = self.next()

        def handler(result: Any) -> None:
            if token == self._n:
                fn(result)
            else:
                log.debug("dropped a stale result (token %d, now %d)", token, self._n)
        return handler
