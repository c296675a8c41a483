"""The sync engine: pull by ETag, merge, push with conditional writes (docs/ARCHITECTURE.md,
"Sync rules"). This module orders the steps; each document kind has its own module.

One sync:
1. LIST the user's prefix (one request per 1,000 keys): every object's ETag.
2. GET, in parallel with a small bound (downloads.Pool), only the objects whose ETag differs
   from the one we last merged against (and that are not known-malformed at that same ETag).
3. Merge each conversation file into the cache (one transaction each, with its new state).
4. PUT every conversation whose merged form differs from the remote copy (file first), then the
   index, then the profile and our tombstones; each through the one conditional-write loop
   (conditional.put_conditionally).

Nothing local is dropped because a key is missing from a listing: a conversation we hold whose
file vanished is uploaded again, unless one of our tombstones covers every message it holds.
One sync per cache at a time, across processes (sync.lock).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from archpal_desktop.core import layout
from archpal_desktop.core.cache import Store, SyncTables
from archpal_desktop.core.errors import ArchPalError
from archpal_desktop.core.sync.changes import MARKER_KEY, ChangeFeed, FeedUnavailable, Marker
from archpal_desktop.core.sync.conditional import MAX_CONFLICT_RETRIES
from archpal_desktop.core.sync.conversations import PULL_GROUP, ConversationStep
from archpal_desktop.core.sync.downloads import HEARTBEAT, Pool
from archpal_desktop.core.sync.index import IndexStep
from archpal_desktop.core.sync.lock import SyncLock
from archpal_desktop.core.sync.profile import ProfileStep
from archpal_desktop.core.sync.remote import Remote, RemoteObject
from archpal_desktop.core.sync.tombstones import TOMBSTONE_TTL_DAYS, TombstoneStep

log = logging.getLogger(__name__)

#: ``progress(done, total, phase)``: called as work completes, and again every HEARTBEAT seconds
#: while a phase waits on the network, so a caller can cancel the sync by raising from it
Progress = Callable[[int, int, str], None]
#: the phase reported while another process syncs this cache (the window shows "Syncing… <phase>")
WAITING = "waiting for another sync"

__all__ = ["SyncEngine", "SyncResult", "Progress", "HEARTBEAT", "MAX_CONFLICT_RETRIES", "PULL_GROUP",
           "TOMBSTONE_TTL_DAYS", "make_remote", "sync_once", "RemoteObject"]


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
    #: the student's own changes that cannot be uploaded because of a malformed remote object
    blocked: list[str] = field(default_factory=list)
    conflicts: int = 0
    finished_at: str = ""
    reported: set[str] = field(default_factory=set, repr=False)  # keys with an error above

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
                "errors": self.errors, "deferred": self.deferred, "blocked": self.blocked,
                "finished_at": self.finished_at}


class SyncEngine:
    def __init__(self, store: Store, remote: Remote, *, progress: Progress | None = None,
                 parallelism: int = 16, sleep: Callable[[float], None] = time.sleep,
                 lock_wait: float = 60.0):
        if store.sub != remote.sub:
            raise ValueError("store and remote belong to different users")
        self.store = store
        self.remote = remote
        self.tables = SyncTables(store)
        self.progress: Progress = progress or (lambda done, total, phase: None)
        self.parallelism = max(1, parallelism)
        self.sleep = sleep
        self.sub = store.sub
        self.lock_wait = lock_wait
        self.pool = Pool(self.parallelism)
        self.conversations = ConversationStep(self)
        self.index = IndexStep(self)
        self.profile = ProfileStep(self)
        self.tombstones = TombstoneStep(self)
        self.marker: Marker | None = None   # the change feed's, read by probe()

    # -- the whole sync -----------------------------------------------------------------------
    def sync(self) -> SyncResult:
        with SyncLock(self.store.path, wait=self.lock_wait,
                      waiting=lambda: self.progress(0, 0, WAITING)):
            return self._sync()

    def probe(self, feed: ChangeFeed | None = None) -> SyncResult | None:
        """A poll's first step (core/sync/schedule.py). With the site's change feed
        (core/sync/changes.py), one read of this student's item: unchanged since the last
        good sync, nothing else is asked. Then (or without a feed) one HEAD of the conversation
        index, which the web app rewrites after every message. None: the index changed (or is
        new, gone, or this cache has something waiting, or the profile changed): a full sync
        is needed. Otherwise the result of a sync that found nothing to do."""
        self.marker = None
        if self.store.pending_upload_count():
            return None
        self.remote.reset_counts()
        feed_reads = 0
        if feed is not None:
            feed_reads = 1
            try:
                self.marker = feed.read()
            except FeedUnavailable:
                pass
            else:
                known_marker = Marker.decode(self.store.kv_get(MARKER_KEY))
                if known_marker == self.marker:
                    return self._nothing_to_do(feed=feed_reads)
                if known_marker is None or known_marker.profile_seq != self.marker.profile_seq:
                    return None
        key = layout.index_key(self.sub)
        known, _ = self.tables.state(key)
        etag = self.remote.head(key)
        if etag is None or known is None or etag != known:
            return None
        return self._nothing_to_do(feed=feed_reads)

    def _nothing_to_do(self, *, feed: int) -> SyncResult:
        result = SyncResult(requests={**self.remote.counts(), "head": self.remote.requests["head"]})
        if feed:
            result.requests["feed"] = feed
        result.finished_at = layout.now_ts()
        self.store.kv_set("last_sync", result.finished_at)
        self.store.kv_set("last_good_sync", result.finished_at)
        self.keep_marker()
        return result

    def keep_marker(self) -> None:
        """A sync that started from the feed's marker succeeded: it covers what the marker
        counted (a change during the sync moved the item past it; the next poll sees that)."""
        if self.marker is not None:
            self.store.kv_set(MARKER_KEY, self.marker.encode())

    def _sync(self) -> SyncResult:
        result = SyncResult()
        self.remote.reset_counts()
        self.remote.resume()
        self.progress(0, 0, "list")
        self.pool = Pool(self.parallelism)
        self.conversations = ConversationStep(self)
        failed = True
        try:
            # a history longer than one LIST page: its first pages' downloads start while the
            # next pages are listed
            states = self.tables.all_states()
            listing = self.remote.list(on_page=lambda page: self._start_early(page, states))
            remote_tombs = self.tombstones.pull(listing, result)
            self.profile.pull(listing, result)
            self.conversations.sync(listing, remote_tombs, result)
            self.index.sync(listing, result)
            self.profile.push(listing, result)
            self.tombstones.push(listing, remote_tombs, result)
            self._still_bad(listing, result)
            failed = False
        finally:
            if failed:
                self.remote.call_off()
            self.pool.shutdown(failed)
        result.requests = self.remote.counts()
        result.finished_at = layout.now_ts()
        if not result.errors:
            self.store.kv_set("last_good_sync", result.finished_at)
        self.store.kv_set("last_sync", result.finished_at)
        return result

    def _start_early(self, page: dict[str, RemoteObject], states: dict[str, str]) -> None:
        """A LIST page arrived: start its downloads while the next page is listed."""
        self.conversations.start_early(page, states)

    # -- what the steps share ------------------------------------------------------------------
    def is_bad(self, key: str, obj: RemoteObject | None) -> bool:
        bad = self.tables.bad_etag(key)
        return bad is not None and obj is not None and bad == obj.etag

    def mark_bad(self, result: SyncResult, key: str, etag: str, cid: str | None,
                 exc: ArchPalError) -> None:
        self.tables.mark_bad(key, etag, exc.message, cid)
        self.report(result, key, what_we_did(exc.message, key))

    def report(self, result: SyncResult, key: str, message: str, *, first: bool = False) -> None:
        """One problem of this sync; ``first``: the student's own data is affected, so it goes
        before the others (the window's status line shows the first)."""
        log.warning("sync: %s", message)
        if first:
            result.errors.insert(sum(1 for k in result.reported if k.startswith("!")), message)
            result.reported.add("!" + key)
        else:
            result.errors.append(message)
        result.reported.add(key)

    def blocked_upload(self, result: SyncResult, key: str, cid: str) -> None:
        """The student wrote into a conversation whose remote file is malformed: say so plainly,
        every sync, until the file is fixed (their message is safe here meanwhile)."""
        result.blocked.append(cid)
        title = (self.store.get_conversation(cid) or _NoTitle()).title or cid
        self.report(result, key, f"Your new messages in \u201c{title}\u201d are saved on this computer but "
                    f"cannot be uploaded: the copy in your cloud storage ({key}) is malformed, so it "
                    "was left as it is. Ask your IT helpdesk to repair or remove that file; ArchPal "
                    "uploads your messages at the next sync after that.", first=True)

    def _still_bad(self, listing: dict[str, RemoteObject], result: SyncResult) -> None:
        """Malformed objects reported by an earlier sync and not fixed since: reported again
        (a problem nobody solved does not turn into "ok")."""
        for key, error in self.tables.bad_objects():
            obj = listing.get(key)
            if key in result.reported or obj is None or self.tables.bad_etag(key) != obj.etag:
                continue
            self.report(result, key, what_we_did(f"Still unresolved since an earlier sync: {error}", key))


def what_we_did(problem: str, key: str) -> str:
    """A malformed-object message that also says what the app did and what the person can do."""
    if "left as it is" in problem or "left untouched" in problem:
        return problem
    return (f"{problem} ArchPal left it as it is and skipped it; the rest of your history syncs "
            f"normally. If this keeps appearing, ask your IT helpdesk to repair or remove {key}.")


class _NoTitle:
    title = ""


def make_remote(access: Any, settings: Any) -> Remote:
    from archpal_desktop.core import config as cfg
    from archpal_desktop.core.aws import s3_client
    from archpal_desktop.core.errors import ConfigError

    bucket = settings[cfg.S3_BUCKET_NAME]
    if not bucket:
        raise ConfigError("No S3 bucket is configured (s3_bucket_name).",
                          "Ask your IT administrator for the site settings file.")
    return Remote(s3_client(access, settings), bucket, access.sub,
                  credentials=access.session.get_credentials())


def sync_once(store: Store, access: Any, settings: Any, progress: Progress | None = None,
              on_ready: Callable[[], None] | None = None, probe: bool = False) -> SyncResult:
    """One full sync of ``store`` with the user's S3 prefix. ``on_ready()`` is called once the
    S3 client exists (botocore has loaded its models), before the first request. ``probe``: a
    poll; the full sync runs only if the index changed or something here waits to go up."""
    remote = make_remote(access, settings)
    if on_ready is not None:
        on_ready()
    engine = SyncEngine(store, remote, progress=progress, parallelism=settings.sync_parallelism)
    if probe:
        found = engine.probe(ChangeFeed.for_access(access, settings))
        if found is not None:
            return found
        heads = remote.requests["head"]
        result = engine.sync()
        result.requests["head"] = heads   # the probe's HEAD, before the sync reset the counts
        if engine.marker is not None:
            result.requests["feed"] = 1
            if result.ok:
                engine.keep_marker()
        return result
    return engine.sync()
