"""The cache's side of writing sprints: the SQL that finds sprint messages and the words a
student sent during one (core/sprints reads these; the cache keeps every SQL statement)."""
from __future__ import annotations

import json

from archpal_desktop.core import layout
from archpal_desktop.core.cache.records import sprint_of
from archpal_desktop.core.cache.store import Store


def sprint_messages(store: Store, cid: str | None = None) -> list[dict]:
    """Every message that carries ``metadata.sprint`` (in one conversation, or all), oldest
    first, with its conversation's title: ``{"conversation_id", "title", "message_id",
    "timestamp", "sprint"}``."""
    where, params = "", ()   # type: tuple[str, tuple[str, ...]]
    if cid is not None:
        where, params = " AND m.conversation_id = ?", (cid,)
    rows = store.conn.execute(
        "SELECT m.conversation_id, c.title, m.message_id, m.timestamp, m.raw FROM messages m "
        "JOIN conversations c ON c.conversation_id = m.conversation_id "
        "WHERE c.deleted = 0 AND m.role = 'assistant' AND instr(m.raw, '\"sprint\"')" + where +
        " ORDER BY m.ts_key, m.message_id", params).fetchall()
    out = []
    for cid, title, mid, ts, raw in rows:
        try:
            sprint = sprint_of(json.loads(raw).get("metadata"))
        except (ValueError, AttributeError):
            sprint = None
        if sprint is not None:
            out.append({"conversation_id": cid, "title": title, "message_id": mid,
                        "timestamp": ts, "sprint": sprint})
    return out


def texts_sent_between(store: Store, cid: str, start_ts: str, end_ts: str | None) -> list[str]:
    """The student's messages in one conversation from ``start_ts`` (to ``end_ts``)."""
    low, high = layout.ts_key(start_ts), layout.ts_key(end_ts) if end_ts else None
    sql = "SELECT content FROM messages WHERE conversation_id=? AND role='user' AND ts_key >= ?"
    params: list = [cid, low]
    if high:
        sql += " AND ts_key <= ?"
        params.append(high)
    return [row[0] for row in store.conn.execute(sql, params).fetchall()]
