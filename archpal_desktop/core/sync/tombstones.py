"""Deletions made on a desktop (our tombstones object): merged, written conditionally, and
forgotten TOMBSTONE_TTL_DAYS after the conversation is gone everywhere."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from archpal_desktop.core import layout, merge
from archpal_desktop.core.errors import BadDataError
from archpal_desktop.core.sync.conditional import put_conditionally
from archpal_desktop.core.sync.remote import RemoteObject

if TYPE_CHECKING:
    from archpal_desktop.core.sync.engine import SyncEngine, SyncResult

#: tombstones older than this whose conversation is gone everywhere are forgotten
TOMBSTONE_TTL_DAYS = 30


class TombstoneStep:
    def __init__(self, engine: "SyncEngine"):
        self.e = engine
        self.tables = engine.tables
        self.key = layout.tombstones_key(engine.sub)

    def pull(self, listing: dict[str, RemoteObject], result: "SyncResult") -> dict[str, dict]:
        key = self.key
        obj = listing.get(key)
        etag, base = self.tables.state(key)
        if obj is None:
            return {}
        if obj.etag == etag:
            return (base or {}).get("tombstones", {})
        try:
            body, new_etag = self.e.remote.get(key)
            remote = layout.parse_tombstones(body, key=key)
        except BadDataError as exc:
            self.e.mark_bad(result, key, obj.etag, None, exc)
            return {}
        self.tables.save_tombstones(remote, pushed=True)
        with self.e.store.transaction():
            self.tables.set_state(key, new_etag, {"tombstones": remote})
        return remote

    def push(self, listing: dict[str, RemoteObject], remote_tombs: dict[str, dict],
             result: "SyncResult") -> None:
        key = self.key
        if self.e.is_bad(key, listing.get(key)):
            return
        local = self.tables.local_tombstones()
        live_keys = set(listing)
        cutoff = time.time() - TOMBSTONE_TTL_DAYS * 86400
        expired = [cid for cid, t in local.items()
                   if layout.conversation_key(self.e.sub, cid) not in live_keys
                   and cid in remote_tombs and _epoch(t.get("deleted_at")) < cutoff]
        wanted = {cid: t for cid, t in merge.merge_tombstones(local, remote_tombs).items()
                  if cid not in expired}
        if wanted == remote_tombs:
            self.tables.mark_tombstones_pushed()
            return
        etag, _ = self.tables.state(key)
        put_conditionally(self.e.remote, _TombstoneWrite(self, wanted, etag, expired), sleep=self.e.sleep,
                          on_conflict=lambda: setattr(result, "conflicts", result.conflicts + 1))


class _TombstoneWrite:
    def __init__(self, step: TombstoneStep, wanted: dict[str, dict], etag: str | None,
                 expired: list[str]):
        self.step, self.wanted, self.etag, self.expired = step, wanted, etag, expired
        self.key = step.key

    def plan(self) -> tuple[bytes, str | None]:
        return layout.dumps(layout.tombstones_doc(self.wanted)), self.etag

    def reread(self) -> bool:
        body, self.etag = self.step.e.remote.get(self.key)
        self.wanted = merge.merge_tombstones(self.wanted, layout.parse_tombstones(body, key=self.key))
        return True

    def written(self, etag: str) -> None:
        tables = self.step.tables
        with self.step.e.store.transaction():
            tables.set_state(self.key, etag, {"tombstones": self.wanted})
        tables.forget_tombstones(self.expired)
        tables.mark_tombstones_pushed()


def _epoch(ts: str | None) -> float:
    try:
        return layout.parse_ts(ts).timestamp()
    except Exception:
        return 0.0
