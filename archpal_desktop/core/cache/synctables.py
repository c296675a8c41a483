"""The cache-side half of sync: reading local documents and applying merged ones, each in one
transaction together with the sync state (ETag + base) that justifies it, so a crash at any
point leaves the cache consistent and the next sync finishes the job.

Sync's writes announce nothing (cache.changes): the sync's own result tells the window what
it pulled, and none of them is a student's change waiting for upload. Hot path, kept as raw
multi-row SQL: ``_insert_rows`` (a first sync's messages; see bench/bench_sync.py)."""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from archpal_desktop.core.documents import ConversationDoc, IndexEntry

from archpal_desktop.core import layout, merge
from archpal_desktop.core.cache.connection import Connection
from archpal_desktop.core.cache.records import LOCAL_ONLY_STATES
from archpal_desktop.core.cache.records import PUSHABLE as _PUSHABLE
from archpal_desktop.core.cache.store import Store


_INSERT_MESSAGES = ("INSERT OR IGNORE INTO messages(message_id, conversation_id, role, content, "
                    "emotion, timestamp, ts_key, raw) VALUES ")
_ROW = "(?,?,?,?,?,?,?,?)"
#: 8 parameters a row, 800 a statement: within the 999 that SQLite builds before 3.32 allow
_ROWS_PER_INSERT = 100


class SyncTables:
    def __init__(self, store: Store):
        self.store = store

    @property
    def conn(self) -> Connection:
        """The calling thread's own connection (sync's upload threads each have one)."""
        return self.store.conn

    # -- sync state -------------------------------------------------------------------------
    def state(self, key: str) -> tuple[str | None, Any]:
        row = self.conn.execute("SELECT etag, base FROM sync_state WHERE key=?", (key,)).fetchone()
        if not row:
            return None, None
        return row[0], (json.loads(row[1]) if row[1] else None)

    def all_states(self) -> dict[str, str]:
        return {k: e for k, e in self.conn.execute("SELECT key, etag FROM sync_state")}

    def set_state(self, key: str, etag: str | None, base: Any) -> None:
        self.conn.execute(
            "INSERT INTO sync_state(key, etag, base, updated_at) VALUES(?,?,?,?) ON CONFLICT(key) "
            "DO UPDATE SET etag=excluded.etag, base=excluded.base, updated_at=excluded.updated_at",
            (key, etag, json.dumps(base), layout.now_ts()))

    def drop_state(self, key: str) -> None:
        self.conn.execute("DELETE FROM sync_state WHERE key=?", (key,))

    # -- bad objects ------------------------------------------------------------------------
    def bad_etag(self, key: str) -> str | None:
        row = self.conn.execute("SELECT etag FROM bad_objects WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def mark_bad(self, key: str, etag: str, error: str, cid: str | None) -> None:
        with self.store.transaction():
            self.conn.db.table("bad_objects").upsert(
                {"key": key, "etag": etag, "error": error, "seen_at": layout.now_ts()}, pk="key")
            if cid:
                self.conn.execute("UPDATE conversations SET bad_remote=? WHERE conversation_id=?",
                                  (error, cid))

    def clear_bad(self, key: str, cid: str | None) -> None:
        self.conn.execute("DELETE FROM bad_objects WHERE key=?", (key,))
        if cid:
            self.conn.execute("UPDATE conversations SET bad_remote=NULL WHERE conversation_id=?", (cid,))

    def bad_objects(self) -> list[tuple[str, str]]:
        return [(r["key"], r["error"]) for r in self.conn.db.table("bad_objects").rows_where(order_by="key")]

    # -- conversations ----------------------------------------------------------------------
    def conversation_ids(self, include_deleted: bool = False) -> list[str]:
        sql = "SELECT conversation_id FROM conversations"
        if not include_deleted:
            sql += " WHERE deleted=0"
        return [r[0] for r in self.conn.execute(sql)]

    def conversation_row(self, cid: str) -> dict | None:
        rows = self.store._q("SELECT * FROM conversations WHERE conversation_id=?", (cid,))
        return rows[0] if rows else None

    def local_doc(self, cid: str) -> tuple[ConversationDoc | None, int]:
        """The conversation file as this device would write it, and the local revision."""
        row = self.conversation_row(cid)
        if row is None:
            return None, 0
        raws = [json.loads(r[0]) for r in self.conn.execute(
            f"SELECT raw FROM messages WHERE conversation_id=? AND {_PUSHABLE} "
            "ORDER BY ts_key, message_id", (cid,))]
        meta = json.loads(row["file_meta"] or "{}")
        created = meta.get("created_at") or row["created_at"]
        doc = layout.conversation_doc(cid, meta.get("user_id") or self.store.sub, created,
                                      merge.renumber(raws),
                                      meta.get("last_updated") or row["last_updated"] or created,
                                      meta.get("metadata", {}), meta.get("extra", {}))
        return doc, int(row["local_rev"])

    def has_file_content(self, cid: str) -> bool:
        row = self.conversation_row(cid)
        return row is not None and not row["file_missing"]

    def known_counts(self) -> dict[str, int]:
        """True message counts of the conversations whose file content we hold: merged from
        S3 at some ETag, or written here. Unreadable or never-seen files keep the remote count."""
        known = {k for k, e in self.conn.execute("SELECT key, etag FROM sync_state") if e}
        out = {}
        for cid, count, rev, bad in self.conn.execute(
                "SELECT conversation_id, message_count, local_rev, bad_remote FROM conversations "
                "WHERE deleted=0"):
            if bad:
                continue
            if rev or count or layout.conversation_key(self.store.sub, cid) in known:
                out[cid] = int(count)
        return out

    def apply_conversation(self, doc: Mapping[str, Any], *, key: str, etag: str | None, base_ids: list[str],
                           clean_rev: int | None) -> bool:
        """Store a merged conversation file and the state it was merged against.

        ``clean_rev``: the local revision now fully contained in the remote (None: still dirty).
        Returns True if anything visible changed.
        """
        cid = doc["conversation_id"]
        file_meta = self._file_meta(doc)
        with self.store.transaction():
            row = self.conversation_row(cid)
            if row is None:
                self.insert_new(doc, key=key, etag=etag, base_ids=base_ids,
                                clean_rev=clean_rev or 0, dirty=clean_rev is None)
                return True
            changed = False
            if row["deleted"]:
                # alive again (changed elsewhere after we deleted it): keep it
                self.conn.execute("UPDATE conversations SET deleted=0 WHERE conversation_id=?", (cid,))
                self.conn.execute("DELETE FROM tombstones WHERE conversation_id=?", (cid,))
                changed = True
            self.conn.execute("UPDATE conversations SET file_meta=?, file_missing=0 "
                              "WHERE conversation_id=?", (json.dumps(file_meta), cid))
            for raw in doc.get("messages", []):
                changed |= self.store._upsert_raw(cid, raw, keep_state=True)
            count = self.conn.execute(f"SELECT COUNT(*) FROM messages WHERE conversation_id=? AND "
                                      f"{_PUSHABLE}", (cid,)).fetchone()[0]
            last_msg = doc["messages"][-1]["timestamp"] if doc.get("messages") else None
            self.conn.execute("UPDATE conversations SET message_count=? WHERE conversation_id=?",
                              (count, cid))
            if last_msg:
                self._bump_last_updated(cid, last_msg)
            if clean_rev is not None:
                self.conn.execute("UPDATE conversations SET pushed_rev=MAX(pushed_rev, ?) "
                                  "WHERE conversation_id=?", (clean_rev, cid))
            self.set_state(key, etag, {"ids": sorted(base_ids)})
            self.clear_bad(key, cid)
        return changed

    def insert_new(self, doc: Mapping[str, Any], *, key: str, etag: str | None, base_ids: list[str],
                   clean_rev: int = 0, dirty: bool = False) -> None:
        """A conversation new to this cache (most of a first sync) in a few statements.

        SQLite calls release the GIL; with download threads busy, every statement pays to take
        it back, so the messages go in as ONE multi-row INSERT (per 100 messages): cheaper than
        a row at a time, and than one statement over a JSON array (no JSON to build and take
        apart again). ``dirty``: the remote copy needs the normalised form pushed back (e.g.
        message_index out of order)."""
        cid = doc["conversation_id"]
        file_meta = self._file_meta(doc)
        with self.store.transaction():
            self._insert_rows(cid, doc, file_meta, key, etag, base_ids, clean_rev, dirty)

    def _insert_rows(self, cid, doc, file_meta, key, etag, base_ids, clean_rev, dirty) -> None:
        messages = doc.get("messages", [])
        created = doc.get("created_at") or layout.now_ts()
        last = doc.get("last_updated") or created
        if messages and layout.ts_key(messages[-1]["timestamp"]) > layout.ts_key(last):
            last = messages[-1]["timestamp"]
        self.conn.execute(
            "INSERT INTO conversations(conversation_id, title, created_at, last_updated, updated_key, "
            "message_count, file_meta, index_extra, local_rev, pushed_rev, bad_remote) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,NULL)",
            (cid, layout.default_title(created), created, last, layout.ts_key(last), len(messages),
             json.dumps(file_meta), "{}", clean_rev + 1 if dirty else clean_rev, clean_rev))
        for start in range(0, len(messages), _ROWS_PER_INSERT):
            chunk = messages[start:start + _ROWS_PER_INSERT]
            params: list = []
            for raw in chunk:
                content, emotion = layout.message_view(raw)
                params += (raw["message_id"], cid, raw["role"], content, emotion, raw["timestamp"],
                           layout.ts_key(raw["timestamp"]), json.dumps(raw))
            self.conn.execute(_INSERT_MESSAGES + ",".join([_ROW] * len(chunk)), params)
        self.set_state(key, etag, {"ids": sorted(base_ids)})
        # a file reported bad earlier is fine now (bad_objects is tiny: one indexed delete)
        self.conn.execute("DELETE FROM bad_objects WHERE key=?", (key,))

    def _file_meta(self, doc: Mapping[str, Any]) -> dict:
        """What the cache keeps of a conversation file besides its messages."""
        return {"user_id": doc.get("user_id") or self.store.sub,
                "created_at": doc.get("created_at", ""),
                "last_updated": doc.get("last_updated", ""),
                "metadata": doc.get("metadata", {}),
                "extra": {k: v for k, v in doc.items() if k not in layout.CONVERSATION_FIELDS}}

    def _bump_last_updated(self, cid: str, ts: str) -> None:
        row = self.conn.execute("SELECT last_updated FROM conversations WHERE conversation_id=?",
                                (cid,)).fetchone()
        if row and layout.ts_key(ts) > layout.ts_key(row[0]):
            self.conn.execute("UPDATE conversations SET last_updated=?, updated_key=? WHERE "
                              "conversation_id=?", (ts, layout.ts_key(ts), cid))

    def mark_pushed(self, cid: str, *, key: str, etag: str, base_ids: list[str], rev: int) -> None:
        with self.store.transaction():
            self.conn.execute("UPDATE conversations SET pushed_rev=MAX(pushed_rev, ?), file_missing=0 "
                              "WHERE conversation_id=?", (rev, cid))
            self.set_state(key, etag, {"ids": sorted(base_ids)})

    def upload_again(self, cid: str, key: str) -> None:
        """A file missing from the listing: forget its state and mark it for upload."""
        with self.store.transaction():
            self.drop_state(key)
            self.conn.execute("UPDATE conversations SET local_rev=local_rev+1 WHERE conversation_id=?",
                              (cid,))

    def mark_remote_behind(self, cid: str) -> None:
        """The remote lacks something we hold: make the conversation dirty if it is clean."""
        with self.store.transaction():
            self.conn.execute("UPDATE conversations SET local_rev=local_rev+1 WHERE "
                              "conversation_id=? AND local_rev <= pushed_rev", (cid,))

    def mark_profile_pushed(self, rev: int, *, key: str, etag: str, updated_at: str | None) -> None:
        with self.store.transaction():
            self.conn.execute("UPDATE profile SET pushed_rev=? WHERE sub=?", (rev, self.store.sub))
            self.set_state(key, etag, {"updated_at": updated_at})

    def dirty_conversations(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT conversation_id FROM conversations WHERE deleted=0 AND local_rev > pushed_rev")]

    def remove_conversation(self, cid: str, key: str) -> None:
        """Deleted for good (a tombstone covers everything it holds)."""
        with self.store.transaction():
            self.conn.execute("DELETE FROM messages WHERE conversation_id=?", (cid,))
            self.conn.execute("UPDATE conversations SET deleted=1 WHERE conversation_id=?", (cid,))
            self.drop_state(key)

    def all_message_ids(self, cid: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT message_id FROM messages WHERE conversation_id=?", (cid,))]

    # -- index ------------------------------------------------------------------------------
    def titled_here(self) -> set[str]:
        """Conversations whose title was set on this device and not yet merged."""
        return {r[0] for r in self.conn.execute(
            "SELECT conversation_id FROM conversations WHERE deleted=0 AND title_dirty=1")}

    def local_entries(self) -> dict[str, IndexEntry]:
        out = {}
        for row in self.store._q(
                "SELECT conversation_id, title, created_at, last_updated, message_count, "
                "index_extra, remote_count, file_missing FROM conversations WHERE deleted=0"):
            count = row["remote_count"] if row["file_missing"] and row["remote_count"] is not None \
                else row["message_count"]
            out[row["conversation_id"]] = layout.index_entry(
                row["conversation_id"], row["created_at"], row["last_updated"], int(count or 0),
                row["title"], json.loads(row["index_extra"] or "{}"))
        return out

    def apply_index(self, entries: Sequence[Mapping[str, Any]], file_present: set[str], *, key: str,
                    etag: str | None) -> None:
        """Store merged index entries (titles, dates, unknown fields) and the new base."""
        with self.store.transaction():
            for entry in entries:
                if not layout.is_valid_entry(entry):
                    continue
                cid = entry["conversation_id"]
                extra = {k: v for k, v in entry.items() if k not in merge.INDEX_FIELDS}
                row = self.conversation_row(cid)
                created = entry.get("created_at") or layout.now_ts()
                last = entry.get("last_updated") or created
                if row is None:
                    bad = self.conn.execute("SELECT error FROM bad_objects WHERE key=?", (
                        layout.conversation_key(self.store.sub, cid),)).fetchone()
                    self.conn.execute(
                        "INSERT INTO conversations(conversation_id, title, created_at, last_updated, "
                        "updated_key, file_meta, index_extra, remote_count, file_missing, bad_remote) "
                        "VALUES(?,?,?,?,?,?,?,?,?,?)",
                        (cid, entry.get("title") or layout.default_title(created), created, last,
                         layout.ts_key(last), "{}", json.dumps(extra), entry.get("message_count"),
                         0 if cid in file_present else 1, bad[0] if bad else None))
                    continue
                if row["deleted"]:
                    continue
                missing = 0 if (cid in file_present or row["message_count"]) else 1
                title = entry.get("title", row["title"])
                # a rename made here while this sync ran stays marked for the next one
                self.conn.execute(
                    "UPDATE conversations SET title_dirty = CASE WHEN title=? THEN 0 ELSE title_dirty END "
                    "WHERE conversation_id=? AND title_dirty=1", (title, cid))
                self.conn.execute(
                    "UPDATE conversations SET title=CASE WHEN title_dirty=1 THEN title ELSE ? END, "
                    "created_at=?, last_updated=?, updated_key=?, "
                    "index_extra=?, remote_count=?, file_missing=? WHERE conversation_id=?",
                    (title, created, last, layout.ts_key(last),
                     json.dumps(extra), entry.get("message_count"), missing, cid))
            # the base is the index exactly as merged, opaque entries included, so a later
            # push computed from it never drops an entry we could not use
            self.set_state(key, etag, {"entries": entries})

    # -- tombstones -------------------------------------------------------------------------
    def local_tombstones(self) -> dict[str, dict]:
        return {cid: {"deleted_at": at, "message_ids": json.loads(ids)}
                for cid, at, ids in self.conn.execute(
                    "SELECT conversation_id, deleted_at, message_ids FROM tombstones")}

    def save_tombstones(self, tombs: dict[str, dict], pushed: bool) -> None:
        with self.store.transaction():
            for cid, tomb in tombs.items():
                self.conn.execute(
                    "INSERT INTO tombstones(conversation_id, deleted_at, message_ids, pushed) "
                    "VALUES(?,?,?,?) ON CONFLICT(conversation_id) DO UPDATE SET "
                    "deleted_at=excluded.deleted_at, message_ids=excluded.message_ids, "
                    "pushed=MAX(tombstones.pushed, excluded.pushed)",
                    (cid, tomb.get("deleted_at", ""), json.dumps(tomb.get("message_ids", [])),
                     1 if pushed else 0))

    def mark_tombstones_pushed(self) -> None:
        with self.store.transaction():
            self.conn.execute("UPDATE tombstones SET pushed=1")

    def forget_tombstones(self, cids: list[str]) -> None:
        with self.store.transaction():
            for cid in cids:
                self.conn.execute("DELETE FROM tombstones WHERE conversation_id=?", (cid,))


__all__ = ["SyncTables", "LOCAL_ONLY_STATES"]
