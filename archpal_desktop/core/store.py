"""Moved to :mod:`archpal_desktop.core.cache` (kept for this session's merges; see docs/ARCHITECTURE.md)."""
from __future__ import annotations

from archpal_desktop.core.cache.records import (DB_NAME, LOCAL_ONLY_STATES, Conversation, Message,
                                                SearchHit, fts_query, user_db_path)
from archpal_desktop.core.cache.schema import migrate
from archpal_desktop.core.cache.store import Store

__all__ = ["DB_NAME", "LOCAL_ONLY_STATES", "Conversation", "Message", "SearchHit", "fts_query",
           "user_db_path", "migrate", "Store"]
