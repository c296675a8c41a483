"""The conversation files: download what changed, merge each into the cache, delete what a
tombstone covers, upload what differs (docs/ARCHITECTURE.md, "Sync rules")."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from archpal_desktop.core.documents import ConversationDoc

from archpal_desktop.core import layout, merge
from archpal_desktop.core.errors import ArchPalError, BadDataError, ConflictError, NotFoundError
from archpal_desktop.core.sync.conditional import Outcome, put_conditionally
from archpal_desktop.core.sync.downloads import Batch
from archpal_desktop.core.sync.remote import RemoteObject

if TYPE_CHECKING:
    from archpal_desktop.core.sync.engine import SyncEngine, SyncResult

#: downloaded conversations written to the cache per transaction
PULL_GROUP = 16


class ConversationStep:
    def __init__(self, engine: "SyncEngine"):
        self.e = engine
        self.sub = engine.sub
        self.tables = engine.tables
        self._known_ids: set[str] = set()

    def keys(self, listing: dict[str, RemoteObject], result: "SyncResult") -> dict[str, RemoteObject]:
        out = {}
        for key, obj in listing.items():
            kind, cid = layout.classify_key(self.sub, key)
            if kind == "conversation" and cid is not None:
                out[cid] = obj
            elif kind == "bad":
                self.e.report(result, key, f"{key} has an invalid conversation id; it was left as it "
                              "is and skipped (rename or remove it in the bucket to clear this).")
        return out

    def needs_get(self, obj: RemoteObject, states: dict[str, str]) -> bool:
        """A conversation file to download: changed since we merged it, not one reported bad at
        this very version (left untouched), and not too large to be one."""
        return (states.get(obj.key) != obj.etag and self.tables.bad_etag(obj.key) != obj.etag
                and obj.size <= layout.MAX_OBJECT_BYTES)

    def start_early(self, page: dict[str, RemoteObject], states: dict[str, str]) -> None:
        for key, obj in page.items():
            if layout.classify_key(self.sub, key)[0] == "conversation" and self.needs_get(obj, states):
                self.e.pool.start_early(key, self.fetch, obj)

    def sync(self, listing: dict[str, RemoteObject], remote_tombs: dict[str, dict],
             result: "SyncResult") -> None:
        e = self.e
        remote_files = self.keys(listing, result)
        states = self.tables.all_states()
        tombs = merge.merge_tombstones(self.tables.local_tombstones(), remote_tombs)
        to_get = []
        self._known_ids = set(self.tables.conversation_ids(include_deleted=True))
        for cid, obj in remote_files.items():
            key = obj.key
            if obj.size > layout.MAX_OBJECT_BYTES and states.get(key) != obj.etag \
                    and self.tables.bad_etag(key) != obj.etag:
                e.mark_bad(result, key, obj.etag, cid, BadDataError(
                    f"{key} is too large ({obj.size:,} bytes) to be a conversation; it was left "
                    "as it is and skipped."))
                continue
            if key in e.pool.early or self.needs_get(obj, states):
                to_get.append(obj)
        total = len(to_get)
        e.progress(0, total, "download")
        done = 0
        fetched: dict[str, tuple[dict, str]] = {}
        # Downloads run on the pool while this thread applies what has arrived, 16 at a time,
        # in one cache transaction per group (each conversation still atomic with its state).
        arrived: list = []

        def apply_arrived() -> None:
            batch = Batch(e.store, max_items=len(arrived) or 1, max_seconds=1.0)
            try:
                for key, outcome in arrived:
                    kind, cid = layout.classify_key(self.sub, key)
                    if isinstance(outcome, ArchPalError):
                        if isinstance(outcome, NotFoundError):
                            continue  # deleted between LIST and GET: the next sync sees it gone
                        if isinstance(outcome, BadDataError):
                            batch.flush()
                            e.mark_bad(result, key, listing[key].etag, cid, outcome)
                            continue
                        raise outcome
                    doc, normalized, etag = outcome
                    cid = doc["conversation_id"]  # parse_conversation checked it is the key's
                    fetched[cid] = (doc, etag)
                    if cid in tombs:
                        batch.flush()  # may talk to S3: never while holding the cache
                    else:
                        batch.enter()
                    self._merge_pulled(cid, doc, etag, tombs, result, normalized)
                    batch.tick()
            except BaseException as exc:
                batch.abort(exc)
                raise
            batch.flush()
            arrived.clear()

        last_apply = time.monotonic()
        for key, outcome in e.pool.run(self.fetch, to_get, lambda: e.progress(done, total, "download"),
                                       use_early=True):
            done += 1
            arrived.append((key, outcome))
            e.progress(done, total, "download")
            # small groups, and at least every 50 ms: a sync that keeps being interrupted
            # (a laptop lid, a kill) still keeps what it downloaded
            if len(arrived) >= PULL_GROUP or time.monotonic() - last_apply > 0.05:
                apply_arrived()
                last_apply = time.monotonic()
        apply_arrived()
        # deletions made here (or on another desktop) for files we did not need to GET
        for cid, tomb in tombs.items():
            found = remote_files.get(cid)
            if cid in fetched or found is None:
                continue
            obj = found
            etag, base = self.tables.state(obj.key)
            base_ids = set((base or {}).get("ids", [])) if etag == obj.etag else None
            if base_ids is not None and merge.is_deleted(tomb, base_ids) and \
                    merge.is_deleted(tomb, self.tables.all_message_ids(cid)):
                self._delete_remote(cid, obj, result)
        # local conversations whose files are gone from the listing, and local-only ones
        for cid in self.tables.conversation_ids():
            key = layout.conversation_key(self.sub, cid)
            if cid in remote_files:
                continue
            left = tombs.get(cid)
            if left and merge.is_deleted(left, self.tables.all_message_ids(cid)):
                self.tables.remove_conversation(cid, key)
                result.deleted_local.append(cid)
                continue
            if states.get(key) is not None:
                # a candidate deletion only: never drop local data because a listing lacks a
                # key; upload it again (If-None-Match: * keeps this safe if the listing was short)
                result.restored.append(cid)
                self.tables.upload_again(cid, key)
        self._push_all(remote_files, result)

    def fetch(self, obj: RemoteObject) -> tuple[ConversationDoc, ConversationDoc, str]:
        """On a download thread: GET, parse, and the pure part of the merge."""
        body, etag = self.e.remote.get(obj.key)
        _, cid = layout.classify_key(self.sub, obj.key)
        doc = layout.parse_conversation(body, self.sub, cid, key=obj.key)
        return doc, merge.merge_conversation(doc, doc), etag

    def _merge_pulled(self, cid: str, remote_doc: ConversationDoc, etag: str, tombs: dict[str, dict],
                      result: "SyncResult", normalized: ConversationDoc | None = None) -> None:
        key = layout.conversation_key(self.sub, cid)
        remote_ids = [m["message_id"] for m in remote_doc["messages"]]
        tomb = tombs.get(cid)
        if tomb is None and cid not in self._known_ids:
            # new to this cache (most of a first sync): nothing local to merge with
            doc = normalized or merge.merge_conversation(remote_doc, remote_doc)
            in_sync = merge.same_conversation(doc, remote_doc)
            self.tables.insert_new(doc, key=key, etag=etag, base_ids=remote_ids, clean_rev=0,
                                   dirty=not in_sync)
            self._known_ids.add(cid)
            result.pulled.append(cid)
            return
        row = self.tables.conversation_row(cid)
        if tomb is not None:
            every_id = set(remote_ids) | set(self.tables.all_message_ids(cid))
            if merge.is_deleted(tomb, every_id):
                self._delete_remote(cid, RemoteObject(key, etag, 0), result)
                if row is not None and not row["deleted"]:
                    self.tables.remove_conversation(cid, key)
                    result.deleted_local.append(cid)
                return
            # changed elsewhere after the delete: keep it (apply_conversation revives it)
            self.tables.forget_tombstones([cid])
            tombs.pop(cid, None)
        local_doc, rev = self.tables.local_doc(cid)
        if local_doc:
            merged = merge.merge_conversation(local_doc, remote_doc)
        else:
            merged = normalized or merge.merge_conversation(remote_doc, remote_doc)
        in_sync = merge.same_conversation(merged, remote_doc)
        changed = self.tables.apply_conversation(merged, key=key, etag=etag, base_ids=remote_ids,
                                                 clean_rev=rev if in_sync else None)
        if not in_sync:
            # the remote lacks something we hold (new here, or dropped by a blind web write)
            self.tables.mark_remote_behind(cid)
        if changed:
            result.pulled.append(cid)

    def _push_all(self, remote_files: dict[str, RemoteObject], result: "SyncResult") -> None:
        e = self.e
        dirty = []
        for cid in self.tables.dirty_conversations():
            key = layout.conversation_key(self.sub, cid)
            if e.is_bad(key, remote_files.get(cid)):
                e.blocked_upload(result, key, cid)
            else:
                dirty.append(cid)
        total = len(dirty)
        if not total:
            return
        e.progress(0, total, "upload")
        done = 0
        for cid, outcome in e.pool.run(self.push_one, dirty, lambda: e.progress(done, total, "upload")):
            done += 1
            if isinstance(outcome, BadDataError):
                e.mark_bad(result, outcome.key or cid, "", cid, outcome)
            elif isinstance(outcome, ConflictError):
                result.deferred.append(outcome.key or cid)  # busy: the next sync finishes it
            elif isinstance(outcome, ArchPalError):
                raise outcome
            else:
                pushed, conflicts = outcome
                result.conflicts += conflicts
                if pushed:
                    result.pushed.append(cid)
            e.progress(done, total, "upload")

    def push_one(self, cid: str) -> tuple[bool, int]:
        """Upload one conversation file (on an upload thread, with its own cache connection)."""
        write = _ConversationWrite(self, cid)
        outcome = put_conditionally(self.e.remote, write, sleep=self.e.sleep,
                                    on_conflict=write.count_conflict)
        if outcome is Outcome.GAVE_UP:
            raise ConflictError(f"{write.key} kept changing while we uploaded it; the next sync "
                                "will retry.", key=write.key)
        return outcome is Outcome.WRITTEN, write.conflicts

    def _delete_remote(self, cid: str, obj: RemoteObject, result: "SyncResult") -> None:
        try:
            self.e.remote.delete(obj.key, if_match=obj.etag or None)
        except ConflictError:
            return  # changed since: the next sync looks at it again
        with self.e.store.transaction():
            self.tables.drop_state(obj.key)
        result.deleted_remote.append(cid)


class _ConversationWrite:
    """One conversation file through the conditional-write loop."""

    def __init__(self, step: ConversationStep, cid: str):
        self.step, self.cid = step, cid
        self.tables = step.tables
        self.key = layout.conversation_key(step.sub, cid)
        self.conflicts = 0
        self.remote_doc: ConversationDoc | None = None
        self.remote_etag: str | None = None
        self.local_doc: ConversationDoc | None = None
        self.doc: ConversationDoc | None = None
        self.rev = 0

    def count_conflict(self) -> None:
        self.conflicts += 1

    def plan(self) -> tuple[bytes, str | None] | None:
        with self.step.e.store.transaction():
            self.local_doc, self.rev = self.tables.local_doc(self.cid)
            etag, _ = self.tables.state(self.key)
        if self.local_doc is None:
            return None
        doc = merge.merge_conversation(self.local_doc, self.remote_doc) if self.remote_doc else self.local_doc
        self.doc = doc
        if self.remote_doc is not None and merge.same_conversation(doc, self.remote_doc):
            ids = [m["message_id"] for m in doc["messages"]]
            self.tables.apply_conversation(doc, key=self.key, etag=self.remote_etag, base_ids=ids,
                                           clean_rev=self.rev)
            return None
        return layout.dumps(doc), self.remote_etag or etag

    def reread(self) -> bool:
        try:
            body, self.remote_etag = self.step.e.remote.get(self.key)
        except NotFoundError:
            self.remote_doc, self.remote_etag = None, None
            with self.step.e.store.transaction():
                self.tables.drop_state(self.key)
            return True
        self.remote_doc = layout.parse_conversation(body, self.step.sub, self.cid, key=self.key)
        ids = [m["message_id"] for m in self.remote_doc["messages"]]
        assert self.local_doc is not None
        merged = merge.merge_conversation(self.local_doc, self.remote_doc)
        self.tables.apply_conversation(merged, key=self.key, etag=self.remote_etag, base_ids=ids,
                                       clean_rev=None)
        return True

    def written(self, etag: str) -> None:
        doc: Any = self.doc
        ids = [m["message_id"] for m in doc["messages"]]
        if self.remote_doc is not None or doc is not self.local_doc:
            self.tables.apply_conversation(doc, key=self.key, etag=etag, base_ids=ids, clean_rev=self.rev)
        else:
            self.tables.mark_pushed(self.cid, key=self.key, etag=etag, base_ids=ids, rev=self.rev)
