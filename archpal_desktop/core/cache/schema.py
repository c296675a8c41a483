"""Ordered schema migrations for the local cache (``PRAGMA user_version``), built with sqlite-utils.

Never change what a released migration creates: add the next one. Each runs in one
``BEGIN IMMEDIATE`` transaction that first reads the version again, so two processes opening a
new cache at once never both run a migration (the second waits for the first, then finds
nothing left to do). Tested on a database left at every earlier version (tests/core/test_store.py).
"""
from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import sqlite_utils

from archpal_desktop.core.errors import BadDataError


def _v1(db: sqlite_utils.Database) -> None:
    """The first schema: profile, conversations, messages, sync state, tombstones, kv."""
    # raw: info.json exactly as the web app writes it; local_rev > pushed_rev: to upload
    db.table("profile").create({"sub": str, "raw": str, "local_rev": int, "pushed_rev": int}, pk="sub",
                         not_null={"raw", "local_rev", "pushed_rev"},
                         defaults={"local_rev": 0, "pushed_rev": 0})
    # title/created_at/last_updated: the index entry's values (what lists show); updated_key:
    # last_updated as a sortable instant; file_meta: the file's own created_at, last_updated,
    # metadata and unknown fields; index_extra: unknown fields of the index entry, kept whole;
    # remote_count: message_count as the remote index states it
    db.table("conversations").create(
        {"conversation_id": str, "title": str, "created_at": str, "last_updated": str,
         "updated_key": str, "message_count": int, "file_meta": str, "index_extra": str,
         "remote_count": int, "file_missing": int, "deleted": int, "local_rev": int,
         "pushed_rev": int}, pk="conversation_id",
        not_null={"title", "created_at", "last_updated", "updated_key", "message_count", "file_meta",
                  "index_extra", "file_missing", "deleted", "local_rev", "pushed_rev"},
        defaults={"title": "", "created_at": "", "last_updated": "", "updated_key": "",
                  "message_count": 0, "file_meta": "{}", "index_extra": "{}", "file_missing": 0,
                  "deleted": 0, "local_rev": 0, "pushed_rev": 0})
    db.table("conversations").create_index(["deleted", "updated_key"], index_name="conversations_updated")
    # content: clean text (legacy inline emotion removed); raw: the message as S3 holds it,
    # unknown fields included; local_state: NULL | waiting | streaming | failed
    db.table("messages").create(
        {"message_id": str, "conversation_id": str, "role": str, "content": str, "emotion": str,
         "timestamp": str, "ts_key": str, "raw": str, "local_state": str}, pk="message_id",
        not_null={"conversation_id", "role", "content", "timestamp", "ts_key", "raw"})
    db.table("messages").create_index(["conversation_id", "ts_key", "message_id"], index_name="messages_order")
    # base: JSON of what we merged against (message ids, index entries)
    db.table("sync_state").create({"key": str, "etag": str, "base": str, "updated_at": str}, pk="key")
    db.table("tombstones").create({"conversation_id": str, "deleted_at": str, "message_ids": str,
                             "pushed": int}, pk="conversation_id",
                            not_null={"deleted_at", "message_ids", "pushed"},
                            defaults={"message_ids": "[]", "pushed": 0})
    db.table("kv").create({"key": str, "value": str}, pk="key")


def _v2(db: sqlite_utils.Database) -> None:
    """Full-text search over every message (FTS5, kept in step by triggers)."""
    db.table("messages").enable_fts(["content"], fts_version="FTS5", create_triggers=True,
                              tokenize="unicode61 remove_diacritics 2")


def _v3(db: sqlite_utils.Database) -> None:
    """Drafts per conversation, and remote objects we could not read (reported, never overwritten)."""
    conversations = db.table("conversations")
    conversations.add_column("draft", str, not_null_default="")
    conversations.add_column("bad_remote", str)
    # 1 while a title set on this device has not been merged into the index yet
    conversations.add_column("title_dirty", int, not_null_default=0)
    db.table("bad_objects").create({"key": str, "etag": str, "error": str, "seen_at": str}, pk="key",
                             not_null={"error", "seen_at"})


def _v4(db: sqlite_utils.Database) -> None:
    """This device's reply queue (core.assistant.queue), which never leaves the device.
    Created by the reply runner itself before, with IF NOT EXISTS: kept if it is there."""
    if db.table("reply_queue").exists():
        return
    # state: waiting | answering | failed | done
    db.table("reply_queue").create(
        {"user_message_id": str, "conversation_id": str, "device_id": str, "seq": int, "state": str,
         "reply_message_id": str, "claimed_by": str, "attempts": int, "last_error": str,
         "created_at": str}, pk="user_message_id",
        not_null={"conversation_id", "device_id", "seq", "state", "attempts", "created_at"},
        defaults={"state": "waiting", "attempts": 0})
    db.table("reply_queue").create_index(["state", "seq"], index_name="reply_queue_state", if_not_exists=True)


MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {1: _v1, 2: _v2, 3: _v3, 4: _v4}
SCHEMA_VERSION = max(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the ordered migrations up to ``target``, each in its own transaction that reads the
    version inside the write lock (so a second process never repeats one). Returns the version."""
    if user_version(conn) > SCHEMA_VERSION:
        raise _too_new(user_version(conn))
    if user_version(conn) >= target:   # the usual start: nothing to do, no sqlite-utils needed
        return user_version(conn)
    import sqlite_utils
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)
            if version > SCHEMA_VERSION:
                raise _too_new(version)
            if version >= target:
                conn.execute("COMMIT")
                return version
            MIGRATIONS[version + 1](db)
            conn.execute(f"PRAGMA user_version={version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _too_new(version: int) -> BadDataError:
    return BadDataError(f"The local cache was written by a newer ArchPal (schema {version}).",
                        "Update ArchPal Desktop to open it; it was left as it is.")
