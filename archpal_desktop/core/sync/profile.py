"""The student's profile (info.json): the newer edit wins, unknown fields from both are kept."""
from __future__ import annotations

from typing import TYPE_CHECKING

from archpal_desktop.core import layout
from archpal_desktop.core.errors import BadDataError
from archpal_desktop.core.sync.conditional import put_conditionally
from archpal_desktop.core.sync.remote import RemoteObject

if TYPE_CHECKING:
    from archpal_desktop.core.sync.engine import SyncEngine, SyncResult


class ProfileStep:
    def __init__(self, engine: "SyncEngine"):
        self.e = engine
        self.store = engine.store
        self.tables = engine.tables
        self.key = layout.info_key(engine.sub)

    def pull(self, listing: dict[str, RemoteObject], result: "SyncResult") -> None:
        key = self.key
        obj = listing.get(key)
        etag, _ = self.tables.state(key)
        if obj is None or obj.etag == etag or self.tables.bad_etag(key) == obj.etag:
            return
        try:
            body, new_etag = self.e.remote.get(key)
            remote = layout.parse_info(body, key=key)
        except BadDataError as exc:
            self.e.mark_bad(result, key, obj.etag, None, exc)
            return
        local, local_rev, pushed_rev = self.store.profile_state()
        with self.store.transaction():
            if local is None or local_rev <= pushed_rev:
                self.store.set_profile_from_remote(remote)
                result.profile_pulled = True
            elif layout.ts_key(remote.get("updated_at")) > layout.ts_key(local.get("updated_at")):
                merged = dict(local)
                merged.update(remote)  # the newer edit wins; unknown fields from both are kept
                self.store.set_profile_from_remote(merged, pushed_rev=local_rev)
                result.profile_pulled = True
            self.tables.set_state(key, new_etag, {"updated_at": remote.get("updated_at")})

    def push(self, listing: dict[str, RemoteObject], result: "SyncResult") -> None:
        put_conditionally(self.e.remote, _ProfileWrite(self, listing, result), sleep=self.e.sleep,
                          on_conflict=lambda: setattr(result, "conflicts", result.conflicts + 1))


class _ProfileWrite:
    def __init__(self, step: ProfileStep, listing: dict[str, RemoteObject], result: "SyncResult"):
        self.step, self.listing, self.result = step, listing, result
        self.key = step.key
        self.local: dict | None = None
        self.rev = 0

    def plan(self) -> tuple[bytes, str | None] | None:
        self.local, self.rev, pushed_rev = self.step.store.profile_state()
        if self.local is None or self.rev <= pushed_rev or \
                self.step.e.is_bad(self.key, self.listing.get(self.key)):
            return None
        etag, _ = self.step.tables.state(self.key)
        return layout.dumps(self.local), etag

    def reread(self) -> bool:
        with self.step.store.transaction():
            self.step.tables.drop_state(self.key)
        self.step.pull({self.key: RemoteObject(self.key, "?", 0)}, self.result)
        return True

    def written(self, etag: str) -> None:
        assert self.local is not None
        self.step.tables.mark_profile_pushed(self.rev, key=self.key, etag=etag,
                                             updated_at=self.local.get("updated_at"))
        self.result.profile_pushed = True
