"""Moved to :mod:`archpal_desktop.core.cache.synctables` (kept for this session's merges)."""
from __future__ import annotations

from archpal_desktop.core.cache.records import LOCAL_ONLY_STATES
from archpal_desktop.core.cache.synctables import SyncTables

__all__ = ["SyncTables", "LOCAL_ONLY_STATES"]
