"""Ordered schema migrations for the local cache (``PRAGMA user_version``).

Never edit a released migration: add the next one. Each runs in one transaction and is tested
on a database left at the previous version (tests/core/test_migrations.py).
"""
from __future__ import annotations

# v1: the first schema: profile, conversations, messages, sync state, tombstones, kv.
_v1 = """
    CREATE TABLE profile (
        sub TEXT PRIMARY KEY,
        raw TEXT NOT NULL,                 -- info.json exactly as the web app writes it
        local_rev INTEGER NOT NULL DEFAULT 0,
        pushed_rev INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE conversations (
        conversation_id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL DEFAULT '',   -- the index entry's values (what lists show)
        last_updated TEXT NOT NULL DEFAULT '',
        updated_key TEXT NOT NULL DEFAULT '',  -- last_updated as a sortable instant
        message_count INTEGER NOT NULL DEFAULT 0,
        file_meta TEXT NOT NULL DEFAULT '{}',  -- the file's own created_at/last_updated/metadata/extra
        index_extra TEXT NOT NULL DEFAULT '{}',-- unknown fields of the index entry, kept whole
        remote_count INTEGER,                  -- message_count as the remote index states it
        file_missing INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        local_rev INTEGER NOT NULL DEFAULT 0,
        pushed_rev INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conversations_updated ON conversations(deleted, updated_key);
    CREATE TABLE messages (
        message_id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,             -- clean text (legacy inline emotion removed)
        emotion TEXT,
        timestamp TEXT NOT NULL,
        ts_key TEXT NOT NULL,
        raw TEXT NOT NULL,                 -- the message as S3 holds it, unknown fields included
        local_state TEXT                   -- NULL | waiting | streaming | failed
    );
    CREATE INDEX messages_order ON messages(conversation_id, ts_key, message_id);
    CREATE TABLE sync_state (
        key TEXT PRIMARY KEY,
        etag TEXT,
        base TEXT,                         -- JSON: what we merged against (ids, index entries)
        updated_at TEXT
    );
    CREATE TABLE tombstones (
        conversation_id TEXT PRIMARY KEY,
        deleted_at TEXT NOT NULL,
        message_ids TEXT NOT NULL DEFAULT '[]',
        pushed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT);
"""


# v2: full-text search over every message (FTS5, kept in step by triggers).
_v2 = """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2');
    CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
    END;
    CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    END;
    CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
    END;
    INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
"""


# v3: drafts per conversation, and remote objects we could not read (reported, never overwritten).
_v3 = """
    ALTER TABLE conversations ADD COLUMN draft TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversations ADD COLUMN bad_remote TEXT;
    -- 1 while a title set on this device has not been merged into the index yet
    ALTER TABLE conversations ADD COLUMN title_dirty INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE bad_objects (
        key TEXT PRIMARY KEY,
        etag TEXT,
        error TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );
"""


MIGRATIONS: dict[int, str] = {1: _v1, 2: _v2, 3: _v3}
SCHEMA_VERSION = max(MIGRATIONS)
