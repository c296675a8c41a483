"""One sync per cache at a time, across processes: an OS file lock beside the cache file.

Two windows, a window and ``archpal-desktop sync``, or a timer and a manual sync in two
processes would otherwise merge into one cache at once. The lock is advisory (flock / msvcrt),
held only while a sync runs, and released by the OS if the process dies, so a killed sync never
leaves the account locked."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from archpal_desktop.core.errors import ArchPalError

#: how often a waiting sync tries the lock again (and reports progress, which may cancel it)
POLL_S = 0.25


class SyncRunningError(ArchPalError):
    code = "sync_running"
    default_message = "Another ArchPal window or terminal is syncing this account right now."
    default_hint = "Your changes are saved here; they go up with that sync or the next one."


class SyncLock:
    def __init__(self, cache_path: Path, *, wait: float = 60.0,
                 waiting: Callable[[], None] = lambda: None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.path = Path(str(cache_path) + ".sync-lock")
        self.wait, self.waiting, self.clock, self.sleep = wait, waiting, clock, sleep
        self._fd: int | None = None

    def __enter__(self) -> "SyncLock":
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        deadline = self.clock() + self.wait
        try:
            while not _try_lock(fd):
                if self.clock() >= deadline:
                    raise SyncRunningError()
                self.waiting()
                self.sleep(POLL_S)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows builds
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
