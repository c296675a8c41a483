"""This device's reply queue (table ``reply_queue``, schema migration 4): the SQL behind
core.assistant.queue. Rows never leave the device; claims are one atomic UPDATE each."""
from __future__ import annotations

from typing import Any

from archpal_desktop.core import layout
from archpal_desktop.core.cache.store import Store

TABLE = "reply_queue"


class ReplyQueue:
    def __init__(self, store: Store, device: str, me: str):
        self.store, self.device, self.me = store, device, me

    def insert(self, user_message_id: str, conversation_id: str) -> None:
        """Call inside the transaction that stores the message."""
        conn = self.store.conn
        seq = conn.execute(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {TABLE}").fetchone()[0]
        conn.execute(
            f"INSERT INTO {TABLE}(user_message_id, conversation_id, device_id, seq, state, created_at) "
            "VALUES(?,?,?,?, 'waiting', ?)", (user_message_id, conversation_id, self.device, seq,
                                               layout.now_ts()))

    def row(self, user_message_id: str) -> dict | None:
        rows = self.store._q(f"SELECT * FROM {TABLE} WHERE user_message_id=?", (user_message_id,))
        return rows[0] if rows else None

    def pending(self) -> list[dict]:
        """This device's unanswered rows, in send order."""
        return self.store._q(f"SELECT * FROM {TABLE} WHERE device_id=? AND state IN "
                             "('waiting','answering') ORDER BY seq", (self.device,))

    def failed(self) -> list[dict]:
        return self.store._q(f"SELECT * FROM {TABLE} WHERE device_id=? AND state='failed' "
                             "ORDER BY seq", (self.device,))

    def requeue_failed(self, reply_message_id: str) -> int:
        with self.store.transaction():
            cur = self.store.conn.execute(
                f"UPDATE {TABLE} SET state='waiting', claimed_by=NULL WHERE reply_message_id=? AND "
                "state='failed' AND device_id=?", (reply_message_id, self.device))
        return cur.rowcount

    def reask(self, user_message_id: str) -> None:
        """Ask Again: an answered (or failed) question waits again, for a new reply message."""
        self.store.conn.execute(
            f"UPDATE {TABLE} SET state='waiting', claimed_by=NULL, reply_message_id=NULL, last_error=NULL, "
            "device_id=? WHERE user_message_id=? AND state IN ('done','failed')", (self.device, user_message_id))

    def requeue_continue(self, reply_message_id: str) -> int:
        """Continue: a stopped reply waits again, marked to carry on from its text."""
        with self.store.transaction():
            cur = self.store.conn.execute(
                f"UPDATE {TABLE} SET state='waiting', claimed_by=NULL, last_error='continue' WHERE "
                "reply_message_id=? AND state='failed' AND device_id=?", (reply_message_id, self.device))
        return cur.rowcount

    def queued_in(self, conversation_id: str) -> set[str]:
        """The questions ever queued here in a conversation (answered or not)."""
        return {r["user_message_id"] for r in self.store._q(
            f"SELECT user_message_id FROM {TABLE} WHERE conversation_id=?", (conversation_id,))}

    def answering(self) -> list[dict]:
        return self.store._q(f"SELECT * FROM {TABLE} WHERE device_id=? AND state='answering'",
                             (self.device,))

    def settle(self, user_message_id: str, state: str, error: str | None) -> None:
        """A claim left by a dead process, settled (inside the caller's transaction)."""
        self.store.conn.execute(
            f"UPDATE {TABLE} SET state=?, claimed_by=NULL, last_error=? WHERE user_message_id=? "
            "AND state='answering'", (state, error, user_message_id))

    def claim_next(self, new_reply_id: str) -> list[dict]:
        """Atomically claim the oldest waiting message and the others waiting in its conversation;
        they share one reply id (an earlier failed reply's, else ``new_reply_id``)."""
        with self.store.transaction():
            first = self.store._q(f"SELECT * FROM {TABLE} WHERE device_id=? AND state='waiting' "
                                  "ORDER BY seq LIMIT 1", (self.device,))
            if not first:
                return []
            cid = first[0]["conversation_id"]
            self.store.conn.execute(
                f"UPDATE {TABLE} SET state='answering', claimed_by=?, attempts=attempts+1 WHERE "
                "device_id=? AND conversation_id=? AND state='waiting'", (self.me, self.device, cid))
            batch = self.store._q(f"SELECT * FROM {TABLE} WHERE claimed_by=? AND state='answering' "
                                  "ORDER BY seq", (self.me,))
            reply_ids = {r["reply_message_id"] for r in batch if r["reply_message_id"]}
            reply_id = sorted(reply_ids)[0] if reply_ids else new_reply_id
            self.store.conn.execute(f"UPDATE {TABLE} SET reply_message_id=? WHERE claimed_by=? AND "
                                    "state='answering'", (reply_id, self.me))
        for row in batch:
            row["reply_message_id"] = reply_id
        return batch

    def release(self, batch: list[dict[str, Any]], state: str, error: str | None = None) -> None:
        """Inside the caller's transaction: the claimed rows become ``state``."""
        ids = [r["user_message_id"] for r in batch]
        marks = ",".join("?" * len(ids))
        self.store.conn.execute(
            f"UPDATE {TABLE} SET state=?, claimed_by=NULL, last_error=? WHERE user_message_id IN "
            f"({marks}) AND claimed_by=?", (state, error, *ids, self.me))
