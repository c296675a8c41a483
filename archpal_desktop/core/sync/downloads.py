"""The download pool on its own: a bounded number of GETs in flight, results handed back on the
sync's own thread (so cache writes stay there), and grouped cache transactions for what arrives."""
from __future__ import annotations

import queue
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator

from archpal_desktop.core.cache import Store
from archpal_desktop.core.errors import ArchPalError
from archpal_desktop.core.sync.remote import RemoteObject

#: progress is reported again every HEARTBEAT seconds while nothing completes (it may cancel)
HEARTBEAT = 0.5


class Pool:
    """One sync's worker threads, and the downloads started early (while LIST pages came)."""

    def __init__(self, parallelism: int):
        self.parallelism = max(1, parallelism)
        self.executor = ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="archpal-sync")
        self.early: dict[str, Future] = {}

    def start_early(self, key: str, fn: Callable[[Any], Any], obj: RemoteObject) -> None:
        self.early[key] = self.executor.submit(fn, obj)

    def shutdown(self, failed: bool) -> None:
        # a failed sync reports at once: downloads not started are dropped, running ones
        # finish on their own (they only read) without retrying
        self.executor.shutdown(wait=not failed, cancel_futures=failed)
        self.early = {}

    def run(self, fn: Callable[[Any], Any], items: Iterable[Any], waiting_on: Callable[[], None],
            *, use_early: bool = False) -> Iterator[tuple[str, Any]]:
        """Run fn over items on the pool (a download started early is waited for, not made
        again); yield (item key, result or ArchPalError) as they complete, on the calling thread.
        ``waiting_on()`` is called every HEARTBEAT seconds that nothing completes."""
        waiting = iter(items)
        running: dict[Future, str] = {}
        finished: queue.SimpleQueue = queue.SimpleQueue()  # futures, in the order they finish

        def submit_next() -> bool:
            item = next(waiting, None)
            if item is None:
                return False
            name = item.key if isinstance(item, RemoteObject) else item
            early = self.early.pop(name, None) if use_early else None
            fut = early or self.executor.submit(fn, item)
            running[fut] = name
            fut.add_done_callback(finished.put)
            return True

        # a few per worker in hand, not all at once: a first sync of thousands of files keeps
        # thousands of futures (and their locks) out of memory and out of the GC's way
        while len(running) < 2 * self.parallelism and submit_next():
            pass
        while running:
            try:
                fut = finished.get(timeout=HEARTBEAT)
            except queue.Empty:
                waiting_on()
                continue
            name = running.pop(fut)
            submit_next()
            try:
                yield name, fut.result()
            except ArchPalError as exc:
                yield name, exc


class Batch:
    """Apply many pulled conversations per cache transaction (each still atomic with its own
    sync state): one COMMIT per group instead of one per conversation."""

    def __init__(self, store: Store, max_items: int = 64, max_seconds: float = 0.1):
        self.store = store
        self.max_items = max_items
        self.max_seconds = max_seconds
        self.txn: Any = None
        self.count = 0
        self.started = 0.0

    def enter(self) -> None:
        if self.txn is None:
            self.txn = self.store.transaction()
            self.txn.__enter__()
            self.count, self.started = 0, time.monotonic()

    def tick(self) -> None:
        if self.txn is None:
            return
        self.count += 1
        if self.count >= self.max_items or time.monotonic() - self.started > self.max_seconds:
            self.flush()

    def flush(self) -> None:
        if self.txn is not None:
            txn, self.txn = self.txn, None
            txn.__exit__(None, None, None)

    def abort(self, exc: BaseException) -> None:
        if self.txn is not None:
            txn, self.txn = self.txn, None
            txn.__exit__(type(exc), exc, exc.__traceback__)
