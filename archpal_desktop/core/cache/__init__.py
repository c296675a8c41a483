"""The local cache: the one owner of every SQL statement (docs/ARCHITECTURE.md, "The cache").

- ``connection``: one connection per thread, the ownership check, durable pragmas, transactions
- ``schema``: the ordered migrations (sqlite-utils)
- ``store``: what the window and the terminal read and write
- ``synctables``: the sync engine's side (documents in, merged documents out, ETags, tombstones)
- ``replyqueue``: this device's queue of messages waiting for ArchPal's reply
- ``changes``: what a committed write changed, announced to listeners
"""
from __future__ import annotations

from archpal_desktop.core.cache.changes import Changes
from archpal_desktop.core.cache.connection import WrongThreadError
from archpal_desktop.core.cache.records import (LOCAL_ONLY_STATES, Conversation, Message, SearchHit,
                                                fts_query, user_db_path)
from archpal_desktop.core.cache.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from archpal_desktop.core.cache.store import Store
from archpal_desktop.core.cache.synctables import SyncTables

__all__ = ["Changes", "WrongThreadError", "LOCAL_ONLY_STATES", "Conversation", "Message", "SearchHit",
           "fts_query", "user_db_path", "MIGRATIONS", "SCHEMA_VERSION", "migrate", "Store", "SyncTables"]
