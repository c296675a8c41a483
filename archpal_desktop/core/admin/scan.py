"""Reading a whole bucket, user by user, for the admin kit (research export, usage).

- One paged listing of ``users/``; S3 lists keys in byte order, so every user's keys come
  together and a user is complete when the next one starts (nothing of the bucket is held
  beyond the user being read).
- GETs go through the sync's :class:`~archpal_desktop.core.sync.remote.Remote` (the same signed
  GETs, retries and error mapping), on a bounded pool; at most ``window`` objects are in flight
  or waiting to be handled, so memory stays flat in the bucket's size.
- Users are handed back in listing order, whatever order their GETs finish in, so the output is
  the same from run to run and a resumed run can skip what was already written.
- A second listing on a thread of its own counts the users and objects ahead, for the progress
  line's total and ETA (a LIST is 1,000 keys: 100 of them for a university's bucket).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator

from archpal_desktop.core import layout
from archpal_desktop.core.errors import map_exception
from archpal_desktop.core.sync.remote import Remote

#: any valid sub: Remote validates one; the admin reader widens the prefix to users/
_ANY_SUB = "archpal-admin"


class BucketRemote(Remote):
    """The sync's Remote over every user's prefix (reads only: the admin kit never writes)."""

    def __init__(self, client, bucket: str, *, credentials=None):
        super().__init__(client, bucket, _ANY_SUB, credentials=credentials)
        self.prefix = layout.USERS_PREFIX


@dataclass(frozen=True)
class Listed:
    key: str
    size: int
    last_modified: datetime | None


@dataclass
class UserKeys:
    sub: str
    objects: list[Listed]


def user_marker(sub: str) -> str:
    """The listing position of a user (compared as keys are ordered)."""
    return f"{layout.USERS_PREFIX}{sub}/"


def _pages(client, bucket: str, prefix: str, page_size: int = 1000) -> Iterator[list[dict]]:
    token = None
    try:
        while True:
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page_size}
            if token:
                kwargs["ContinuationToken"] = token
            page = client.list_objects_v2(**kwargs)
            yield page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")
    except Exception as exc:
        raise map_exception(exc, key=bucket) from exc


def iter_objects(client, bucket: str, prefix: str = "") -> Iterator[Listed]:
    for page in _pages(client, bucket, prefix):
        for obj in page:
            yield Listed(obj["Key"], int(obj.get("Size", 0)), obj.get("LastModified"))


def iter_users(client, bucket: str, *, after: str = "",
               others: Callable[[Listed], None] | None = None) -> Iterator[UserKeys]:
    """Each user folder's objects, in listing order; users at or before ``after`` (a
    :func:`user_marker`) are skipped. Keys that belong to no user folder are left out, or, with
    ``others``, the whole bucket is listed and they are handed to it."""
    current: UserKeys | None = None
    for obj in iter_objects(client, bucket, "" if others else layout.USERS_PREFIX):
        parts = obj.key.split("/", 2)
        if len(parts) < 3 or not parts[1] or parts[0] + "/" != layout.USERS_PREFIX:
            if others is not None:
                others(obj)
            continue
        sub = parts[1]
        if current is not None and current.sub == sub:
            current.objects.append(obj)
            continue
        if current is not None:
            yield current
            current = None
        if after and user_marker(sub) <= after:
            continue
        current = UserKeys(sub, [obj])
    if current is not None:
        yield current


def prefetch(users: Iterator[UserKeys], ahead: int = 256) -> Iterator[UserKeys]:
    """``users`` listed on a thread of its own, up to ``ahead`` users in advance: the next LIST
    page is fetched while this page's objects are read, instead of the pool waiting for it."""
    import queue

    box: queue.Queue = queue.Queue(maxsize=ahead)
    done = object()
    stop = threading.Event()

    def run() -> None:
        try:
            for user in users:
                while not stop.is_set():
                    try:
                        box.put(user, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(done)
        except BaseException as exc:  # the listing's error is raised where it is consumed
            box.put(exc)

    thread = threading.Thread(target=run, name="archpal-admin-list", daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


@dataclass
class Progress:
    """What the progress line shows. Totals are None until the counting listing is done."""

    users_done: int = 0
    users_total: int | None = None
    objects_done: int = 0
    objects_total: int | None = None
    started: float = field(default_factory=time.monotonic)
    #: objects done by earlier runs of a resumed export (not part of this run's rate)
    objects_before: int = 0
    users_before: int = 0
    finished: bool = False

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.objects_done - self.objects_before) / elapsed if elapsed > 0 else 0.0

    def eta_seconds(self) -> float | None:
        rate = self.rate()
        if self.objects_total is None or rate <= 0:
            return None
        return max(0.0, (self.objects_total - self.objects_done) / rate)

    def as_dict(self) -> dict[str, Any]:
        eta = self.eta_seconds()
        return {"users_done": self.users_done, "users_total": self.users_total,
                "objects_done": self.objects_done, "objects_total": self.objects_total,
                "objects_per_s": round(self.rate(), 1),
                "eta_s": None if eta is None else round(eta, 1), "finished": self.finished}

    def line(self) -> str:
        total = "?" if self.users_total is None else f"{self.users_total:,}"
        objects = f"{self.objects_done:,}" + ("" if self.objects_total is None
                                              else f"/{self.objects_total:,}")
        eta = self.eta_seconds()
        eta_text = "--:--" if eta is None else f"{int(eta) // 60}:{int(eta) % 60:02d}"
        return (f"users {self.users_done:,}/{total}  objects {objects}  "
                f"{self.rate():,.0f}/s  ETA {eta_text}")


Wanted = Callable[[UserKeys], list[Listed]]
Parse = Callable[[str, bytes], Any]
Handle = Callable[[UserKeys, dict[str, Any]], None]


def count_ahead(client, bucket: str, wanted: Wanted, progress: Progress, *, after: str = "",
                stop: threading.Event) -> threading.Thread:
    """Count users and objects to fetch on a thread; the totals land in ``progress``."""

    def run() -> None:
        users = objects = 0
        try:
            for user in iter_users(client, bucket, after=after):
                if stop.is_set():
                    return
                picked = wanted(user)
                if picked is not None:
                    users += 1
                    objects += len(picked)
        except Exception:  # the main listing reports listing errors; the total stays unknown
            return
        progress.users_total = progress.users_before + users
        progress.objects_total = progress.objects_before + objects

    thread = threading.Thread(target=run, name="archpal-admin-count", daemon=True)
    thread.start()
    return thread


def scan(remote: Remote, users: Iterator[UserKeys], wanted: Wanted, parse: Parse,
         handle: Handle, *, workers: int = 16, window: int | None = None,
         progress: Progress | None = None,
         on_progress: Callable[[Progress], None] | None = None) -> None:
    """For each user (in order): GET ``wanted(user)`` on the pool, ``parse(key, body)`` there,
    then ``handle(user, {key: parsed value or the ArchPalError it raised})`` here. A user for
    whom ``wanted`` returns None is skipped (not counted)."""
    window = window or workers * 4
    progress = progress or Progress()

    def fetch(key: str) -> Any:
        try:
            body, _etag = remote.get(key)
            return parse(key, body)
        except Exception as exc:  # one bad or unreachable object is reported, not fatal
            return map_exception(exc, key=key)

    pending: deque[tuple[UserKeys, list[tuple[str, Future]]]] = deque()
    in_flight = 0

    def finish_oldest() -> None:
        nonlocal in_flight
        user, futures = pending.popleft()
        results = {key: fut.result() for key, fut in futures}
        in_flight -= len(futures)
        handle(user, results)
        progress.users_done += 1
        progress.objects_done += len(futures)
        if on_progress is not None:
            on_progress(progress)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archpal-admin") as pool:
        try:
            for user in users:
                picked = wanted(user)
                if picked is None:
                    continue
                pending.append((user, [(o.key, pool.submit(fetch, o.key)) for o in picked]))
                in_flight += len(picked)
                while pending and in_flight > window:
                    finish_oldest()
            while pending:
                finish_oldest()
        except BaseException:
            remote.call_off()  # running GETs stop retrying; queued ones are dropped
            for _user, futures in pending:
                for _key, fut in futures:
                    fut.cancel()
            raise
    progress.finished = True
    if on_progress is not None:
        on_progress(progress)
