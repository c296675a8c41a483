"""Sync with S3, by document kind (docs/ARCHITECTURE.md, "Sync rules").

- ``engine``: orders the steps, owns the result
- ``conversations`` / ``index`` / ``profile`` / ``tombstones``: one step per document kind
- ``conditional``: the one conditional-PUT loop they all use
- ``downloads``: the bounded download pool and grouped cache writes
- ``remote``: S3 access for one user's prefix
- ``lock``: one sync per cache across processes
"""
from __future__ import annotations

from archpal_desktop.core.sync.engine import (HEARTBEAT, MAX_CONFLICT_RETRIES, PULL_GROUP,
                                              TOMBSTONE_TTL_DAYS, Progress, SyncEngine, SyncResult,
                                              make_remote, sync_once)
from archpal_desktop.core.sync.lock import SyncLock, SyncRunningError
from archpal_desktop.core.sync.remote import Remote, RemoteObject

__all__ = ["HEARTBEAT", "MAX_CONFLICT_RETRIES", "PULL_GROUP", "TOMBSTONE_TTL_DAYS", "Progress",
           "SyncEngine", "SyncResult", "make_remote", "sync_once", "SyncLock", "SyncRunningError",
           "Remote", "RemoteObject"]
