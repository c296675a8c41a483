"""How a sync runs while the window is open (kept apart from :mod:`archpal_desktop.ui.sync_status`):
fewer sync threads than a headless sync, on a niced thread, with botocore's models settled out of
the cycle collector's walk once per session. The UI thread keeps painting during a first sync
(bench ``ui.max_stall_during_sync``)."""
from __future__ import annotations

import gc
import os
import threading
import weakref
from typing import Callable

from archpal_desktop.core import config as cfg

#: at most this many sync threads while the window is open. Every sync thread competes with
#: the UI thread for the GIL; on the sync-stall benchmark (1,000 files, this 2-core machine)
#: 16 threads gave UI stalls of 100-190 ms, 6 threads under 50 ms, for the same total time
#: against a local server. Headless syncs (CLI) keep the user's setting.
GUI_SYNC_PARALLELISM = 6


class GuiSyncSettings:
    """The user's settings as the sync engine sees them from the window."""

    def __init__(self, settings):
        self._settings = settings

    def __getitem__(self, key: str):
        value = self._settings[key]
        if key == cfg.SYNC_PARALLELISM:
            return max(1, min(int(value or GUI_SYNC_PARALLELISM), GUI_SYNC_PARALLELISM))
        return value

    @property
    def sync_parallelism(self) -> int:
        return int(self[cfg.SYNC_PARALLELISM])

    def __getattr__(self, name: str):
        return getattr(self._settings, name)


_settled_sessions: "weakref.WeakSet" = weakref.WeakSet()


def settle_models_once(session) -> None:
    """Called once a sync's S3 client exists. The first time for a boto3 session, botocore has
    just loaded its models (tens of thousands of dicts, kept while the session lives): move
    them, with everything else alive, out of the cycle collector's walk, as ``settle_memory``
    does for the window at start-up. Otherwise every full collection during a sync walks them
    all (60 ms here, holding the GIL: the window froze mid-sync). Once per session: its later
    clients reuse those models, and what a sync makes must stay collectable. (Frozen objects
    are still freed when nothing refers to them; the models are plain nested dicts.)"""
    if session is not None and session not in _settled_sessions:
        _settled_sessions.add(session)
        gc.freeze()


def run_niced(fn: Callable[[], object]) -> object:
    """Run ``fn`` on a fresh thread with a lower OS priority, and wait for it.

    A first sync parses hundreds of files on the sync engine's worker threads; they inherit
    this thread's niceness (Linux), so when the CPU is short the scheduler runs the UI thread
    first and the window keeps painting. A fresh thread because niceness cannot be raised
    back without privileges, and pool threads are reused for other work.
    """
    box: dict[str, object] = {}

    def run() -> None:
        try:
            if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
                try:
                    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
                except OSError:  # not permitted here: run at normal priority
                    pass
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting worker
            box["error"] = exc
    t = threading.Thread(target=run, name="archpal-sync", daemon=True)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("result")
