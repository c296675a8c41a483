"""The store the UI reads and writes: one SQLite file per user, the truth the window shows.

Every user action is one transaction here first; the sync engine reconciles with S3 later
(docs/ARCHITECTURE.md, "The data's way"). Messages keep their S3 form whole (``raw``: unknown
fields included) next to the columns the UI and search need. Threads: any thread may call a
Store; each gets its own connection (cache.connection), and a connection used from another
thread raises. Every committed write announces what it changed (cache.changes).
"""
from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping

from archpal_desktop.core import layout
from archpal_desktop.core.cache.changes import ChangeLog, Changes
from archpal_desktop.core.cache.connection import (Connection, Connections, Transaction,
                                                   open_checked)
from archpal_desktop.core.cache.records import (LOCAL_ONLY_STATES, PUSHABLE, Conversation, Message,
                                                sprint_from_json, sprint_of,
                                                SearchHit, fts_query, user_db_path)
from archpal_desktop.core.errors import BadDataError, NotFoundError


class Store:
    """The cache of one user, usable from any thread (one connection per thread, opened on first
    use; writes serialised by one lock here and by SQLite's file lock across processes)."""

    def __init__(self, path: Path, sub: str):
        self.sub = layout.validate_sub(sub)
        self.path = Path(path)
        self._lock = threading.RLock()
        self.changes = ChangeLog()
        first = open_checked(self.path)
        self._conns = Connections(self.path, first)

    @classmethod
    def open_for_user(cls, data_dir: Path, sub: str) -> "Store":
        return cls(user_db_path(data_dir, sub), sub)

    @property
    def conn(self) -> Connection:
        """This thread's own connection to the cache (opened on first use)."""
        return self._conns.get()

    def close(self) -> None:
        self._conns.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def subscribe(self, listener: Callable[[Changes], None]) -> Callable[[], None]:
        """Call ``listener(changes)`` after every committed write (on the writing thread);
        returns the function that unsubscribes."""
        return self.changes.subscribe(listener)

    # -- transactions -----------------------------------------------------------------------
    def transaction(self) -> Transaction:
        """``with store.transaction() as changes:`` -- the writes inside commit together, and
        ``changes`` (a :class:`Changes`) tells what they changed once the block is done."""
        return Transaction(self.conn, self._lock, on_commit=self.changes.committed,
                           on_rollback=self.changes.rolled_back, pending=self.changes.current)

    def _q(self, sql: str, params: Any = ()) -> list[dict]:
        cur = self.conn.execute(sql, tuple(params))
        cols = [d[0] for d in cur.description or ()]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    # -- key/value --------------------------------------------------------------------------
    # plain SQL (not sqlite-utils): the window's start reads and writes these, and sqlite-utils'
    # import alone costs it ~90 ms (bench ui.startup_1000)
    def kv_get(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def kv_set(self, key: str, value: Any) -> None:
        with self.transaction():
            self.conn.execute("INSERT INTO kv(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE "
                              "SET value=excluded.value", (key, json.dumps(value)))

    def device_id(self) -> str:
        device = self.kv_get("device_id")
        if not device:
            device = str(uuid.uuid4())
            self.kv_set("device_id", device)
        return device

    # -- profile ----------------------------------------------------------------------------
    def get_profile(self) -> dict | None:
        row = self.conn.execute("SELECT raw FROM profile WHERE sub=?", (self.sub,)).fetchone()
        return json.loads(row[0]) if row else None

    def save_profile(self, fields: dict, email: str = "") -> dict:
        """A local edit of the profile form: validated, trimmed, stamped, marked for upload."""
        problems = layout.validate_profile(fields)
        if problems:
            field_name, problem = next(iter(problems.items()))
            raise BadDataError(f"Profile field {field_name.replace('_', ' ')}: {problem}")
        now = layout.now_ts()
        current = self.get_profile() or {}
        doc = dict(current)
        for name in layout.PROFILE_TEXT_FIELDS:
            doc[name] = fields[name].strip()
        # the web app's field order for a new profile
        ordered = {k: doc.get(k) for k in layout.PROFILE_TEXT_FIELDS}
        ordered["unique_identifier"] = current.get("unique_identifier") or str(uuid.uuid4())
        ordered["email"] = current.get("email") or email
        ordered["created_at"] = current.get("created_at") or now
        ordered["updated_at"] = now
        ordered["cognito_user_id"] = self.sub
        for k, v in current.items():
            ordered.setdefault(k, v)
        with self.transaction():
            self.conn.execute(
                "INSERT INTO profile(sub, raw, local_rev, pushed_rev) VALUES(?, ?, 1, 0) "
                "ON CONFLICT(sub) DO UPDATE SET raw=excluded.raw, local_rev=profile.local_rev+1",
                (self.sub, json.dumps(ordered)))
            self.changes.note(profile=True, upload=True)
        return ordered

    def profile_state(self) -> tuple[dict | None, int, int]:
        row = self.conn.execute("SELECT raw, local_rev, pushed_rev FROM profile WHERE sub=?",
                                (self.sub,)).fetchone()
        if not row:
            return None, 0, 0
        return json.loads(row[0]), row[1], row[2]

    def set_profile_from_remote(self, doc: Mapping[str, Any], pushed_rev: int | None = None) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO profile(sub, raw, local_rev, pushed_rev) VALUES(?, ?, 0, 0) "
                "ON CONFLICT(sub) DO UPDATE SET raw=excluded.raw", (self.sub, json.dumps(doc)))
            if pushed_rev is not None:
                self.conn.execute("UPDATE profile SET pushed_rev=? WHERE sub=?", (pushed_rev, self.sub))
            self.changes.note(profile=True)

    # -- conversations ----------------------------------------------------------------------
    _CONV_SQL = ("SELECT c.conversation_id, c.title, c.created_at, c.last_updated, c.file_missing, "
                 "c.bad_remote, c.draft, CASE WHEN c.file_missing AND c.remote_count IS NOT NULL "
                 "THEN c.remote_count ELSE c.message_count END AS message_count FROM conversations c ")

    @staticmethod
    def _conv(row: dict) -> Conversation:
        return Conversation(row["conversation_id"], row["title"] or "", row["created_at"] or "",
                            row["last_updated"] or "", int(row["message_count"] or 0),
                            bool(row["file_missing"]), row["bad_remote"], row["draft"] or "")

    def list_conversations(self) -> list[Conversation]:
        rows = self._q(self._CONV_SQL + "WHERE c.deleted=0 ORDER BY c.updated_key DESC, "
                       "c.conversation_id DESC")
        return [self._conv(r) for r in rows]

    def shown_message_counts(self) -> dict[str, int]:
        """Per conversation held here, the messages the window shows: every message, with a run
        of replies to one question (Ask again) counted once, as its one bubble is; stopped,
        failed and waiting messages count, as they are shown. (``message_count`` stays the S3
        index's count, which the web app reads.) Conversations whose file is not here are left
        out: their remote count is all there is."""
        rows = self.conn.execute(
            "SELECT c.conversation_id, (SELECT COUNT(*) FROM (SELECT m.role, LAG(m.role) OVER "
            "(ORDER BY m.ts_key, m.message_id) AS prev FROM messages m "
            "WHERE m.conversation_id = c.conversation_id) "
            "WHERE role != 'assistant' OR prev IS NULL OR prev != 'assistant') "
            "FROM conversations c WHERE c.deleted=0 AND c.file_missing=0").fetchall()
        return {cid: int(n) for cid, n in rows}

    def get_conversation(self, cid: str) -> Conversation | None:
        rows = self._q(self._CONV_SQL + "WHERE c.conversation_id=? AND c.deleted=0", (cid,))
        return self._conv(rows[0]) if rows else None

    def create_conversation(self, title: str | None = None, *, conversation_id: str | None = None,
                            now: str | None = None) -> Conversation:
        cid = layout.validate_conversation_id(conversation_id or str(uuid.uuid4()))
        now = now or layout.now_ts()
        title = (title or "").strip() or layout.default_title(now)
        file_meta = {"user_id": self.sub, "created_at": now, "last_updated": now, "metadata": {},
                     "extra": {}}
        with self.transaction():
            self.conn.execute(
                "INSERT INTO conversations(conversation_id, title, created_at, last_updated, "
                "updated_key, file_meta, index_extra, local_rev, pushed_rev, title_dirty) "
                "VALUES(?,?,?,?,?,?,?,1,0,1)",
                (cid, title, now, now, layout.ts_key(now), json.dumps(file_meta), "{}"))
            self.changes.note(conversation=cid, upload=True)
        return self.get_conversation(cid)  # type: ignore[return-value]

    def rename_conversation(self, cid: str, title: str) -> None:
        title = title.strip()
        if not title:
            raise BadDataError("A conversation title cannot be empty.")
        with self.transaction():
            cur = self.conn.execute("UPDATE conversations SET title=?, title_dirty=1, local_rev=local_rev+1 "
                                    "WHERE conversation_id=? AND deleted=0", (title, cid))
            if cur.rowcount == 0:
                raise NotFoundError(f"Conversation {cid} does not exist.")
            self.changes.note(conversation=cid, upload=True)

    def delete_conversation(self, cid: str) -> None:
        """Deleted here: hidden at once, a tombstone until the remote has caught up."""
        ids = [r[0] for r in self.conn.execute(
            "SELECT message_id FROM messages WHERE conversation_id=?", (cid,))]
        with self.transaction():
            self.conn.execute("UPDATE conversations SET deleted=1 WHERE conversation_id=?", (cid,))
            self.conn.execute(
                "INSERT INTO tombstones(conversation_id, deleted_at, message_ids, pushed) "
                "VALUES(?,?,?,0) ON CONFLICT(conversation_id) DO UPDATE SET "
                "deleted_at=excluded.deleted_at, message_ids=excluded.message_ids, pushed=0",
                (cid, layout.now_ts(), json.dumps(sorted(ids))))
            self.changes.note(conversation=cid, upload=True)

    def set_draft(self, cid: str, text: str) -> None:
        with self.transaction():
            import sqlite_utils
            try:
                self.conn.db.table("conversations").update(cid, {"draft": text})
            except sqlite_utils.db.NotFoundError:
                pass  # deleted meanwhile: nothing to keep the draft for

    def get_draft(self, cid: str) -> str:
        row = self.conn.execute("SELECT draft FROM conversations WHERE conversation_id=?",
                                (cid,)).fetchone()
        return (row[0] or "") if row is not None else ""

    # -- messages ---------------------------------------------------------------------------
    @staticmethod
    def _msg(row: dict, with_raw: bool) -> Message:
        raw = json.loads(row["raw"]) if with_raw else {}
        meta = (raw.get("metadata") or {}) if isinstance(raw, dict) else {}
        return Message(row["message_id"], row["conversation_id"], row["role"], row["content"],
                       row["emotion"], row["timestamp"], row["local_state"], raw,
                       meta.get("model"), sprint_of(meta))

    def load_messages(self, cid: str, *, with_raw: bool = False) -> list[Message]:
        cols = "message_id, conversation_id, role, content, emotion, timestamp, local_state"
        if with_raw:
            sql = f"SELECT {cols}, raw FROM messages WHERE conversation_id=? ORDER BY ts_key, message_id"
            return [self._msg_raw(row) for row in self.conn.execute(sql, (cid,)).fetchall()]
        # who wrote a reply, for its bubble: only a local model's replies need naming, so SQLite
        # parses the JSON of those alone (a substring test first: ~1 ms less per 5,000 messages);
        # the same for the few replies that carry a writing sprint (its card)
        sql = f"SELECT {cols}, CASE WHEN role='assistant' AND instr(raw, '\"local:') THEN " \
              "json_extract(raw, '$.metadata.model') END, CASE WHEN role='assistant' AND " \
              "instr(raw, '\"sprint\"') THEN json_extract(raw, '$.metadata.sprint') END " \
              "FROM messages WHERE conversation_id=? ORDER BY ts_key, message_id"
        rows = self.conn.execute(sql, (cid,)).fetchall()
        return [Message(r[0], r[1], r[2], r[3], r[4], r[5], r[6], {}, r[7],  # the hot path
                        sprint_from_json(r[8]) if r[8] else None)
                for r in rows]

    @staticmethod
    def _msg_raw(row: tuple) -> Message:
        raw = json.loads(row[7])
        meta = raw.get("metadata") or {}
        return Message(row[0], row[1], row[2], row[3], row[4], row[5], row[6], raw,
                       meta.get("model"), sprint_of(meta))

    def get_message(self, message_id: str) -> Message | None:
        rows = self._q("SELECT * FROM messages WHERE message_id=?", (message_id,))
        return self._msg(rows[0], True) if rows else None

    def add_message(self, cid: str, role: str, content: str, *, emotion: str | None = None,
                    model: str | None = None, course_number: str | None = None,
                    message_id: str | None = None, timestamp: str | None = None,
                    local_state: str | None = None, metadata: dict | None = None) -> Message:
        """``metadata``: extra keys beside the web app's typed ones (e.g. ``sprint``)."""
        if role not in layout.ROLES:
            raise BadDataError(f"Invalid role {role!r}.")
        conv = self.get_conversation(cid)
        if conv is None:
            raise NotFoundError(f"Conversation {cid} does not exist.")
        mid = layout.validate_message_id(message_id or str(uuid.uuid4()))
        ts = timestamp or layout.now_ts()
        if course_number is None:
            course_number = (self.get_profile() or {}).get("course_number", "")
        with self.transaction():
            index = self.conn.execute("SELECT COUNT(*) FROM messages WHERE conversation_id=? AND "
                                      + PUSHABLE, (cid,)).fetchone()[0]
            raw = layout.new_message(role, content, message_id=mid, timestamp=ts,
                                     course_number=course_number or "", message_index=index,
                                     model=model, emotion=emotion, extra_metadata=metadata)
            self._upsert_raw(cid, raw, local_state=local_state)
            if local_state not in LOCAL_ONLY_STATES:
                self._touch(cid, ts)
            self.changes.note(conversation=cid, message=mid, upload=local_state not in LOCAL_ONLY_STATES)
        return self.get_message(mid)  # type: ignore[return-value]

    def update_message(self, message_id: str, *, content: str | None = None,
                       emotion: str | None = None, local_state: Any = ..., model: str | None = None,
                       timestamp: str | None = None, metadata: dict | None = None) -> Message:
        msg = self.get_message(message_id)
        if msg is None:
            raise NotFoundError(f"Message {message_id} does not exist.")
        raw = dict(msg.raw)
        meta = dict(raw.get("metadata") or {})
        if content is not None:
            raw["content"] = content
        if timestamp is not None:
            raw["timestamp"] = timestamp
        if emotion is not None and raw.get("role") == "assistant":
            meta["emotion"] = emotion if emotion in layout.EMOTIONS else "default"
        if model is not None and raw.get("role") == "assistant":
            meta["model"] = model
        for key, value in (metadata or {}).items():   # extra keys (the typed ones stay as they are)
            if key not in ("model", "emotion", "course_number", "message_index"):
                meta[key] = value
        raw["metadata"] = meta
        state = msg.local_state if local_state is ... else local_state
        with self.transaction():
            self._upsert_raw(msg.conversation_id, raw, local_state=state)
            if state not in LOCAL_ONLY_STATES:
                self._touch(msg.conversation_id, raw["timestamp"])
            self.changes.note(conversation=msg.conversation_id, message=message_id,
                              upload=state not in LOCAL_ONLY_STATES)
        return self.get_message(message_id)  # type: ignore[return-value]

    def _touch(self, cid: str, ts: str) -> None:
        """A local change: bump last_updated (index and file) and mark for upload."""
        row = self.conn.execute("SELECT last_updated, file_meta FROM conversations WHERE "
                                "conversation_id=?", (cid,)).fetchone()
        last = row[0] if layout.ts_key(row[0]) >= layout.ts_key(ts) else ts
        meta = json.loads(row[1] or "{}")
        if layout.ts_key(meta.get("last_updated")) < layout.ts_key(ts):
            meta["last_updated"] = ts
        count = self.conn.execute("SELECT COUNT(*) FROM messages WHERE conversation_id=? AND "
                                  + PUSHABLE, (cid,)).fetchone()[0]
        self.conn.execute(
            "UPDATE conversations SET last_updated=?, updated_key=?, file_meta=?, message_count=?, "
            "local_rev=local_rev+1 WHERE conversation_id=?",
            (last, layout.ts_key(last), json.dumps(meta), count, cid))

    def _upsert_raw(self, cid: str, raw: Mapping[str, Any], *, local_state: str | None = None,
                    keep_state: bool = False) -> bool:
        """Insert or update one message from its S3 form; returns True if anything changed."""
        text, emotion = layout.message_view(raw)
        raw_json = json.dumps(raw)
        existing = self.conn.execute("SELECT raw, local_state FROM messages WHERE message_id=?",
                                     (raw["message_id"],)).fetchone()
        if existing is not None:
            state = existing[1] if keep_state else local_state
            if existing[0] == raw_json and existing[1] == state:
                return False
            self.conn.execute(
                "UPDATE messages SET conversation_id=?, role=?, content=?, emotion=?, timestamp=?, "
                "ts_key=?, raw=?, local_state=? WHERE message_id=?",
                (cid, raw["role"], text, emotion, raw["timestamp"], layout.ts_key(raw["timestamp"]),
                 raw_json, state, raw["message_id"]))
            return True
        self.conn.execute(
            "INSERT INTO messages(message_id, conversation_id, role, content, emotion, timestamp, "
            "ts_key, raw, local_state) VALUES(?,?,?,?,?,?,?,?,?)",
            (raw["message_id"], cid, raw["role"], text, emotion, raw["timestamp"],
             layout.ts_key(raw["timestamp"]), raw_json, local_state))
        return True

    # -- search -----------------------------------------------------------------------------
    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        match = fts_query(query)
        if not match:
            return []
        sql = ("SELECT m.conversation_id, c.title, m.message_id, m.role, m.timestamp, "
               "snippet(messages_fts, 0, char(2), char(3), '…', 12) AS snip "
               "FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid "
               "JOIN conversations c ON c.conversation_id = m.conversation_id "
               "WHERE messages_fts MATCH ? AND c.deleted = 0 "
               "ORDER BY messages_fts.rowid DESC LIMIT ?")
        try:
            rows = self.conn.execute(sql, (match, limit)).fetchall()
        except sqlite3.OperationalError:
            return []
        return [SearchHit(*row) for row in rows]

    # -- counts for the status area ----------------------------------------------------------
    def pending_upload_count(self) -> int:
        convs = self.conn.execute("SELECT COUNT(*) FROM conversations WHERE deleted=0 AND "
                                  "local_rev > pushed_rev").fetchone()[0]
        tombs = self.conn.execute("SELECT COUNT(*) FROM tombstones WHERE pushed=0").fetchone()[0]
        prof = self.conn.execute("SELECT COUNT(*) FROM profile WHERE local_rev > pushed_rev").fetchone()[0]
        return convs + tombs + prof


__all__ = ["Store"]
