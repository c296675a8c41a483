"""The one conditional-write loop every uploaded document goes through (docs/ARCHITECTURE.md,
"Sync rules"): PUT with If-Match (the ETag we merged against) or If-None-Match: * (a new key);
a 412/409 means someone wrote in between, so back off, re-read, re-merge, and try again, up to
MAX_CONFLICT_RETRIES times. The conversation, index, profile and tombstone steps each say only
what to write (``plan``), how to catch up after a conflict (``reread``) and what to record once
written (``written``)."""
from __future__ import annotations

import enum
import random
from typing import Callable, Protocol

from archpal_desktop.core.errors import ConflictError
from archpal_desktop.core.sync.remote import Remote

MAX_CONFLICT_RETRIES = 6


class Outcome(enum.Enum):
    WRITTEN = "written"
    NOTHING_TO_WRITE = "nothing"   # already in step, or a re-read showed we must stop
    GAVE_UP = "gave_up"            # still conflicting after every retry: the next sync goes on


class ConditionalWrite(Protocol):
    key: str

    def plan(self) -> tuple[bytes, str | None] | None:
        """The body to write and the ETag it is based on (None: a new key), or None if there
        is nothing to write (the remote already holds it)."""

    def reread(self) -> bool:
        """After a conflict: read the remote again and merge it in. False: stop here."""

    def written(self, etag: str) -> None:
        """Record the new ETag (and what it holds) in the cache."""


def backoff_seconds(attempt: int) -> float:
    """Exponential, capped at 2 s, with jitter so two writers do not collide again in step."""
    return min(2.0, 0.05 * (2 ** attempt)) * (0.5 + random.random())


def put_conditionally(remote: Remote, write: ConditionalWrite, *, sleep: Callable[[float], None],
                      on_conflict: Callable[[], None] = lambda: None) -> Outcome:
    for attempt in range(MAX_CONFLICT_RETRIES):
        plan = write.plan()
        if plan is None:
            return Outcome.NOTHING_TO_WRITE
        body, etag = plan
        try:
            new_etag = remote.put(write.key, body, if_match=etag or None, if_none_match=not etag)
        except ConflictError:
            on_conflict()
            sleep(backoff_seconds(attempt))
            if not write.reread():
                return Outcome.NOTHING_TO_WRITE
            continue
        write.written(new_etag)
        return Outcome.WRITTEN
    return Outcome.GAVE_UP
