"""The sync engine (design section 4): pull by ETag, merge, push with conditional writes.

One sync:
1. LIST the user's prefix (one request per 1,000 keys): every object's ETag.
2. GET, in parallel with a small bound, only the objects whose ETag differs from the one we last
   merged against (and that are not known-malformed at that same ETag).
3. Merge each conversation file into the cache (one transaction each, with its new state).
4. PUT every conversation whose merged form differs from the remote copy (file first), then the
   index, then the profile and our tombstones; each conditional (If-Match / If-None-Match: *).
   A 412/409 re-reads, re-merges and retries with backoff, up to a cap.

Nothing local is dropped because a key is missing from a listing: a conversation we hold whose
file vanished is uploaded again, unless one of our tombstones covers every message it holds.
"""
from __future__ import annotations

import logging
import queue
import random
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from archpal_desktop.core import layout, merge
from archpal_desktop.core.errors import ArchPalError, BadDataError, ConflictError, NotFoundError
from archpal_desktop.core.remote import Remote, RemoteObject
from archpal_desktop.core.store import Store
from archpal_desktop.core.syncstate import SyncTables

log = logging.getLogger(__name__)

#: ``progress(done, total, phase)``: called as work completes, and again every HEARTBEAT seconds
#: while a phase waits on the network, so a caller can cancel the sync by raising from it
Progress = Callable[[int, int, str], None]
HEARTBEAT = 0.5
#: tombstones older than this whose conversation is gone everywhere are forgotten
TOMBSTONE_TTL_DAYS = 30
MAX_CONFLICT_RETRIES = 6
#: downloaded conversations written to the cache per transaction
PULL_GROUP = 16


@dataclass
class SyncResult:
    requests: dict[str, int] = field(default_factory=dict)
    pulled: list[str] = field(default_factory=list)     # conversations changed by the pull
    pushed: list[str] = field(default_factory=list)     # conversation files uploaded
    restored: list[str] = field(default_factory=list)   # files missing remotely, uploaded again
    deleted_remote: list[str] = field(default_factory=list)
    deleted_local: list[str] = field(default_factory=list)
    index_pushed: bool = False
    profile_pulled: bool = False
    profile_pushed: bool = False
    errors: list[str] = field(default_factory=list)     # per-object problems (sync went on)
    deferred: list[str] = field(default_factory=list)   # busy keys left for the next sync
    conflicts: int = 0
    finished_at: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> list[str]:
        return sorted(set(self.pulled) | set(self.deleted_local))

    def to_json(self) -> dict:
        return {"ok": self.ok, "requests": self.requests, "pulled": self.pulled,
                "pushed": self.pushed, "restored": self.restored,
                "deleted_remote": self.deleted_remote, "deleted_local": self.deleted_local,
                "index_pushed": self.index_pushed, "profile_pulled": self.profile_pulled,
                "profile_pushed": self.profile_pushed, "conflicts": self.conflicts,
                "errors": self.errors, "deferred": self.deferred, "finished_at": self.finished_at}


class SyncEngine:
    def __init__(self, store: Store, remote: Remote, *, progress: Progress | None = None,
                 parallelism: int = 16, sleep: Callable[[float], None] = time.sleep):
        if store.sub != remote.sub:
            raise ValueError("store and remote belong to different users")
        self.store = store
        self.remote = remote
        self.tables = SyncTables(store)
        self.progress = progress or (lambda done, total, phase: None)
        self.parallelism = max(1, parallelism)
        self.sleep = sleep
        self.sub = store.sub
        self._pool: ThreadPoolExecutor | None = None
        self._early: dict[str, Future] = {}  # downloads started while later LIST pages came

    # -- the whole sync -----------------------------------------------------------------------
    def sync(self) -> SyncResult:
        result = SyncResult()
        self.remote.reset_counts()
        self.remote.resume()
        self.progress(0, 0, "list")
        self._pool = ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="archpal-sync")
        failed = True
        try:
            # a history longer than one LIST page: its first pages' downloads start while the
            # next pages are listed
            self._early = {}
            states = self.tables.all_states()
            listing = self.remote.list(on_page=lambda page: self._start_early(page, states))
            remote_tombs = self._pull_tombstones(listing, result)
            self._pull_profile(listing, result)
            self._sync_conversations(listing, remote_tombs, result)
            self._sync_index(listing, result)
            self._push_profile(listing, result)
            self._push_tombstones(listing, remote_tombs, result)
            failed = False
        finally:
            # a failed sync reports at once: downloads not started are dropped, running ones
            # finish on their own (they only read) without retrying
            if failed:
                self.remote.call_off()
            self._pool.shutdown(wait=not failed, cancel_futures=failed)
            self._early = {}
        result.requests = self.remote.counts()
        result.finished_at = layout.now_ts()
        if not result.errors:
            self.store.kv_set("last_good_sync", result.finished_at)
        self.store.kv_set("last_sync", result.finished_at)
        return result

    # -- conversations ------------------------------------------------------------------------
    def _conversation_keys(self, listing: dict[str, RemoteObject], result: SyncResult) -> dict[str, RemoteObject]:
        out = {}
        for key, obj in listing.items():
            kind, cid = layout.classify_key(self.sub, key)
            if kind == "conversation":
                out[cid] = obj
            elif kind == "bad":
                self._report(result, key, f"{key} has an invalid conversation id and was skipped.")
        return out

    def _needs_get(self, obj: RemoteObject, states: dict[str, str | None]) -> bool:
        """A conversation file to download: changed since we merged it, not one reported bad at
        this very version (left untouched), and not too large to be one."""
        return (states.get(obj.key) != obj.etag and self.tables.bad_etag(obj.key) != obj.etag
                and obj.size <= layout.MAX_OBJECT_BYTES)

    def _start_early(self, page: dict[str, RemoteObject], states: dict[str, str | None]) -> None:
        for key, obj in page.items():
            if layout.classify_key(self.sub, key)[0] == "conversation" and self._needs_get(obj, states):
                self._early[key] = self._pool.submit(self._fetch_conversation, obj)

    def _sync_conversations(self, listing, remote_tombs: dict[str, dict], result: SyncResult) -> None:
        remote_files = self._conversation_keys(listing, result)
        states = self.tables.all_states()
        local_tombs = self.tables.local_tombstones()
        tombs = merge.merge_tombstones(local_tombs, remote_tombs)
        to_get = []
        self._known_ids = set(self.tables.conversation_ids(include_deleted=True))
        for cid, obj in remote_files.items():
            key = obj.key
            if obj.size > layout.MAX_OBJECT_BYTES and states.get(key) != obj.etag \
                    and self.tables.bad_etag(key) != obj.etag:
                self._mark_bad(result, key, obj.etag, cid, BadDataError(
                    f"{key} is too large ({obj.size:,} bytes) to be a conversation; it was left untouched."))
                continue
            if key in self._early or self._needs_get(obj, states):
                to_get.append(obj)
        total = len(to_get)
        self.progress(0, total, "download")
        done = 0
        fetched: dict[str, tuple[dict, str]] = {}
        # Downloads run on the pool while this thread applies what has arrived, 16 at a time,
        # in one cache transaction per group (each conversation still atomic with its state).
        arrived: list = []

        def apply_arrived() -> None:
            batch = _Batch(self.store, max_items=len(arrived) or 1, max_seconds=1.0)
            try:
                for key, outcome in arrived:
                    kind, cid = layout.classify_key(self.sub, key)
                    if isinstance(outcome, ArchPalError):
                        if isinstance(outcome, NotFoundError):
                            continue  # deleted between LIST and GET: the next sync sees it gone
                        if isinstance(outcome, BadDataError):
                            batch.flush()
                            self._mark_bad(result, key, listing[key].etag, cid, outcome)
                            continue
                        raise outcome
                    doc, normalized, etag = outcome
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
        for key, outcome in self._parallel(self._fetch_conversation, to_get,
                                           lambda: self.progress(done, total, "download")):
            done += 1
            arrived.append((key, outcome))
            self.progress(done, total, "download")
            # small groups, and at least every 50 ms: a sync that keeps being interrupted
            # (a laptop lid, a kill) still keeps what it downloaded
            if len(arrived) >= PULL_GROUP or time.monotonic() - last_apply > 0.05:
                apply_arrived()
                last_apply = time.monotonic()
        apply_arrived()
        # deletions made here (or on another desktop) for files we did not need to GET
        for cid, tomb in tombs.items():
            obj = remote_files.get(cid)
            if cid in fetched or obj is None:
                continue
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
            tomb = tombs.get(cid)
            if tomb and merge.is_deleted(tomb, self.tables.all_message_ids(cid)):
                self.tables.remove_conversation(cid, key)
                result.deleted_local.append(cid)
                continue
            if states.get(key) is not None:
                # a candidate deletion only: never drop local data because a listing lacks a
                # key; upload it again (If-None-Match: * keeps this safe if the listing was short)
                result.restored.append(cid)
                with self.store.transaction():
                    self.tables.drop_state(key)
                    self.tables.conn.execute("UPDATE conversations SET local_rev=local_rev+1 "
                                             "WHERE conversation_id=?", (cid,))
        self._push_conversations(remote_files, result)

    def _fetch_conversation(self, obj: RemoteObject):
        """On a download thread: GET, parse, and the pure part of the merge."""
        body, etag = self.remote.get(obj.key)
        _, cid = layout.classify_key(self.sub, obj.key)
        doc = layout.parse_conversation(body, self.sub, cid, key=obj.key)
        return doc, merge.merge_conversation(doc, doc), etag

    def _merge_pulled(self, cid: str, remote_doc: dict, etag: str, tombs: dict[str, dict],
                      result: SyncResult, normalized: dict | None = None) -> None:
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
            with self.store.transaction():
                self.tables.conn.execute("UPDATE conversations SET local_rev=local_rev+1 WHERE "
                                         "conversation_id=? AND local_rev <= pushed_rev", (cid,))
        if changed:
            result.pulled.append(cid)

    def _push_conversations(self, remote_files: dict[str, RemoteObject], result: SyncResult) -> None:
        dirty = [cid for cid in self.tables.dirty_conversations()
                 if not self._is_bad(layout.conversation_key(self.sub, cid), remote_files.get(cid))]
        total = len(dirty)
        if not total:
            return
        self.progress(0, total, "upload")
        done = 0
        for cid, outcome in self._parallel(self._push_one, dirty,
                                           lambda: self.progress(done, total, "upload")):
            done += 1
            if isinstance(outcome, BadDataError):
                self._mark_bad(result, outcome.key or cid, "", cid, outcome)
            elif isinstance(outcome, ConflictError):
                result.deferred.append(outcome.key or cid)  # busy: the next sync finishes it
            elif isinstance(outcome, ArchPalError):
                raise outcome
            else:
                pushed, conflicts = outcome
                result.conflicts += conflicts
                if pushed:
                    result.pushed.append(cid)
            self.progress(done, total, "upload")

    def _push_one(self, cid: str):
        """Upload one conversation file; on a conflict re-read, re-merge, retry (thread-safe:
        runs on a worker with its own reads; cache writes go through the store's lock)."""
        key = layout.conversation_key(self.sub, cid)
        conflicts = 0
        remote_doc = None
        remote_etag = None
        for attempt in range(MAX_CONFLICT_RETRIES):
            with self.store.transaction():
                local_doc, rev = self.tables.local_doc(cid)
                etag, base = self.tables.state(key)
            if local_doc is None:
                return False, conflicts
            doc = merge.merge_conversation(local_doc, remote_doc) if remote_doc else local_doc
            if remote_doc is not None and merge.same_conversation(doc, remote_doc):
                ids = [m["message_id"] for m in doc["messages"]]
                self.tables.apply_conversation(doc, key=key, etag=remote_etag, base_ids=ids, clean_rev=rev)
                return False, conflicts
            etag = remote_etag or etag
            try:
                new_etag = self.remote.put(key, layout.dumps(doc), if_match=etag, if_none_match=not etag)
            except ConflictError:
                conflicts += 1
                self._backoff(attempt)
                try:
                    body, remote_etag = self.remote.get(key)
                except NotFoundError:
                    remote_doc, remote_etag = None, None
                    with self.store.transaction():
                        self.tables.drop_state(key)
                    continue
                remote_doc = layout.parse_conversation(body, self.sub, cid, key=key)
                ids = [m["message_id"] for m in remote_doc["messages"]]
                merged = merge.merge_conversation(local_doc, remote_doc)
                self.tables.apply_conversation(merged, key=key, etag=remote_etag, base_ids=ids,
                                               clean_rev=None)
                continue
            ids = [m["message_id"] for m in doc["messages"]]
            if remote_doc is not None or doc is not local_doc:
                self.tables.apply_conversation(doc, key=key, etag=new_etag, base_ids=ids, clean_rev=rev)
            else:
                self.tables.mark_pushed(cid, key=key, etag=new_etag, base_ids=ids, rev=rev)
            return True, conflicts
        raise ConflictError(f"{key} kept changing while we uploaded it; the next sync will retry.",
                            key=key)

    def _delete_remote(self, cid: str, obj: RemoteObject, result: SyncResult) -> None:
        try:
            self.remote.delete(obj.key, if_match=obj.etag or None)
        except ConflictError:
            return  # changed since: the next sync looks at it again
        with self.store.transaction():
            self.tables.drop_state(obj.key)
        result.deleted_remote.append(cid)

    # -- index ---------------------------------------------------------------------------------
    def _sync_index(self, listing: dict[str, RemoteObject], result: SyncResult) -> None:
        key = layout.index_key(self.sub)
        obj = listing.get(key)
        etag, base = self.tables.state(key)
        base_entries = (base or {}).get("entries", [])
        remote_entries: list[dict] = []
        remote_etag = None
        if obj is not None:
            if self.tables.bad_etag(key) == obj.etag:
                return
            if etag == obj.etag:
                remote_entries, remote_etag = base_entries, etag
            else:
                try:
                    remote_entries, remote_etag = self._get_index(key, result)
                except BadDataError as exc:
                    self._mark_bad(result, key, obj.etag, None, exc)
                    return
        file_present = {cid for cid in self._conversation_keys(listing, SyncResult())}
        file_present |= {cid for cid in result.pushed}
        for attempt in range(MAX_CONFLICT_RETRIES):
            tombs = merge.merge_tombstones(self.tables.local_tombstones(), {})
            deleted = {cid for cid, t in tombs.items()
                       if merge.is_deleted(t, self.tables.all_message_ids(cid))}
            local = self.tables.local_entries()
            titled = self.tables.titled_here()
            remote_map = merge.index_as_map(remote_entries)
            for cid, entry in local.items():
                # a title this device never set is no local opinion: the remote's stands
                if cid not in titled and cid in remote_map and "title" in remote_map[cid]:
                    entry["title"] = remote_map[cid]["title"]
            counts = self.tables.known_counts()
            merged = merge.merge_index(merge.index_as_map(base_entries), local, remote_entries,
                                       counts, deleted)
            if remote_etag is not None and merge.same_index(merged, remote_entries):
                self.tables.apply_index(merged, file_present, key=key, etag=remote_etag)
                return
            try:
                new_etag = self.remote.put(key, layout.dumps(merged), if_match=remote_etag,
                                           if_none_match=remote_etag is None)
            except ConflictError:
                result.conflicts += 1
                self._backoff(attempt)
                try:
                    remote_entries, remote_etag = self._get_index(key)
                except NotFoundError:
                    remote_entries, remote_etag = [], None
                except BadDataError as exc:
                    self._mark_bad(result, key, "", None, exc)
                    return
                continue
            self.tables.apply_index(merged, file_present, key=key, etag=new_etag)
            result.index_pushed = True
            return
        result.deferred.append(key)  # the web app keeps rewriting it: the next sync finishes it

    def _get_index(self, key: str, result: SyncResult | None = None) -> tuple[list[dict], str]:
        body, etag = self.remote.get(key)
        entries = layout.parse_index(body, key=key)
        for entry in entries:
            if result is not None and not layout.is_valid_entry(entry):
                self._report(result, key, f"{key} has an entry with an invalid id "
                             f"{entry.get('conversation_id')!r}; it was kept as it is and skipped.")
        return entries, etag

    # -- profile -------------------------------------------------------------------------------
    def _pull_profile(self, listing: dict[str, RemoteObject], result: SyncResult) -> None:
        key = layout.info_key(self.sub)
        obj = listing.get(key)
        etag, _ = self.tables.state(key)
        if obj is None or obj.etag == etag or self.tables.bad_etag(key) == obj.etag:
            return
        try:
            body, new_etag = self.remote.get(key)
            remote = layout.parse_info(body, key=key)
        except BadDataError as exc:
            self._mark_bad(result, key, obj.etag, None, exc)
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

    def _push_profile(self, listing: dict[str, RemoteObject], result: SyncResult) -> None:
        key = layout.info_key(self.sub)
        for attempt in range(MAX_CONFLICT_RETRIES):
            local, local_rev, pushed_rev = self.store.profile_state()
            if local is None or local_rev <= pushed_rev or self._is_bad(key, listing.get(key)):
                return
            etag, _ = self.tables.state(key)
            try:
                new_etag = self.remote.put(key, layout.dumps(local), if_match=etag, if_none_match=not etag)
            except ConflictError:
                result.conflicts += 1
                self._backoff(attempt)
                with self.store.transaction():
                    self.tables.drop_state(key)
                self._pull_profile({key: RemoteObject(key, "?", 0)}, result)
                continue
            with self.store.transaction():
                self.store.conn.execute("UPDATE profile SET pushed_rev=? WHERE sub=?", (local_rev, self.sub))
                self.tables.set_state(key, new_etag, {"updated_at": local.get("updated_at")})
            result.profile_pushed = True
            return

    # -- tombstones ----------------------------------------------------------------------------
    def _pull_tombstones(self, listing, result: SyncResult) -> dict[str, dict]:
        key = layout.tombstones_key(self.sub)
        obj = listing.get(key)
        etag, base = self.tables.state(key)
        if obj is None:
            return {}
        if obj.etag == etag:
            return (base or {}).get("tombstones", {})
        try:
            body, new_etag = self.remote.get(key)
            remote = layout.parse_tombstones(body, key=key)
        except BadDataError as exc:
            self._mark_bad(result, key, obj.etag, None, exc)
            return {}
        self.tables.save_tombstones(remote, pushed=True)
        with self.store.transaction():
            self.tables.set_state(key, new_etag, {"tombstones": remote})
        return remote

    def _push_tombstones(self, listing, remote_tombs: dict[str, dict], result: SyncResult) -> None:
        key = layout.tombstones_key(self.sub)
        if self._is_bad(key, listing.get(key)):
            return
        local = self.tables.local_tombstones()
        live_keys = set(listing)
        cutoff = time.time() - TOMBSTONE_TTL_DAYS * 86400
        expired = [cid for cid, t in local.items()
                   if layout.conversation_key(self.sub, cid) not in live_keys
                   and cid in remote_tombs and _epoch(t.get("deleted_at")) < cutoff]
        wanted = {cid: t for cid, t in merge.merge_tombstones(local, remote_tombs).items()
                  if cid not in expired}
        if wanted == remote_tombs:
            self.tables.mark_tombstones_pushed()
            return
        etag, _ = self.tables.state(key)
        for attempt in range(MAX_CONFLICT_RETRIES):
            try:
                new_etag = self.remote.put(key, layout.dumps(layout.tombstones_doc(wanted)),
                                           if_match=etag, if_none_match=not etag)
            except ConflictError:
                result.conflicts += 1
                self._backoff(attempt)
                body, etag = self.remote.get(key)
                wanted = merge.merge_tombstones(wanted, layout.parse_tombstones(body, key=key))
                continue
            with self.store.transaction():
                self.tables.set_state(key, new_etag, {"tombstones": wanted})
            self.tables.forget_tombstones(expired)
            self.tables.mark_tombstones_pushed()
            return

    # -- helpers -------------------------------------------------------------------------------
    def _parallel(self, fn, items, waiting_on: Callable[[], None]):
        """Run fn over items on the sync's bounded pool (a download started early is waited
        for, not made again); yield (item key, result or ArchPalError) as they complete, on the
        calling thread (so cache writes stay on one thread). ``waiting_on()`` is called every
        HEARTBEAT seconds that nothing completes (the progress again: it may cancel)."""
        waiting = iter(items)
        running: dict[Future, str] = {}
        finished: queue.SimpleQueue = queue.SimpleQueue()  # futures, in the order they finish

        def submit_next() -> bool:
            item = next(waiting, None)
            if item is None:
                return False
            name = item.key if isinstance(item, RemoteObject) else item
            early = self._early.pop(name, None) if fn == self._fetch_conversation else None
            fut = early or self._pool.submit(fn, item)
            running[fut] = name
            fut.add_done_callback(finished.put)
            return True

        # a few per worker in hand, not all at once: a first sync of thousands of files keeps
        # thousands of futures (and their locks) out of memory and out of the GC's way
        while len(running) < 2 * self.parallelism and submit_next():
            pass
        while running:
            try:
                fut = finished.get(timeout=HEARTBEAT)
            except queue.Empty:
                waiting_on()
                continue
            name = running.pop(fut)
            submit_next()
            try:
                yield name, fut.result()
            except ArchPalError as exc:
                yield name, exc

    def _backoff(self, attempt: int) -> None:
        self.sleep(min(2.0, 0.05 * (2 ** attempt)) * (0.5 + random.random()))

    def _is_bad(self, key: str, obj: RemoteObject | None) -> bool:
        bad = self.tables.bad_etag(key)
        return bad is not None and obj is not None and bad == obj.etag

    def _mark_bad(self, result: SyncResult, key: str, etag: str, cid: str | None,
                  exc: ArchPalError) -> None:
        self.tables.mark_bad(key, etag, exc.message, cid)
        self._report(result, key, exc.message)

    def _report(self, result: SyncResult, key: str, message: str) -> None:
        log.warning("sync: %s", message)
        result.errors.append(message)


class _Batch:
    """Apply many pulled conversations per cache transaction (each still atomic with its own
    sync state): one COMMIT per ~50 conversations or 100 ms instead of one per conversation."""

    def __init__(self, store: Store, max_items: int = 64, max_seconds: float = 0.1):
        self.store = store
        self.max_items = max_items
        self.max_seconds = max_seconds
        self.txn = None
        self.count = 0
        self.started = 0.0

    def enter(self) -> None:
        if self.txn is None:
            self.txn = self.store.transaction()
            self.txn.__enter__()
            self.count, self.started = 0, time.monotonic()

    def tick(self) -> None:
        if self.txn is None:
            return
        self.count += 1
        if self.count >= self.max_items or time.monotonic() - self.started > self.max_seconds:
            self.flush()

    def flush(self) -> None:
        if self.txn is not None:
            txn, self.txn = self.txn, None
            txn.__exit__(None, None, None)

    def abort(self, exc: BaseException) -> None:
        if self.txn is not None:
            txn, self.txn = self.txn, None
            txn.__exit__(type(exc), exc, exc.__traceback__)


def _epoch(ts: str | None) -> float:
    try:
        return layout.parse_ts(ts).timestamp()
    except Exception:
        return 0.0


def make_remote(access, settings) -> Remote:
    from archpal_desktop.core import config as cfg
    from archpal_desktop.core.aws import s3_client
    from archpal_desktop.core.errors import ConfigError

    bucket = settings[cfg.S3_BUCKET_NAME]
    if not bucket:
        raise ConfigError("No S3 bucket is configured (s3_bucket_name).",
                          "Ask your IT administrator for the site settings file.")
    return Remote(s3_client(access, settings), bucket, access.sub,
                  credentials=access.session.get_credentials())


def sync_once(store: Store, access, settings, progress: Progress | None = None,
              on_ready: Callable[[], None] | None = None) -> SyncResult:
    """One full sync of ``store`` with the user's S3 prefix. ``on_ready()`` is called once the
    S3 client exists (botocore has loaded its models), before the first request."""
    from archpal_desktop.core import config as cfg

    remote = make_remote(access, settings)
    if on_ready is not None:
        on_ready()
    engine = SyncEngine(store, remote, progress=progress,
                        parallelism=int(settings[cfg.SYNC_PARALLELISM] or 16))
    return engine.sync()
