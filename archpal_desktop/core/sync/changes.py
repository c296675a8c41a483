"""The site's change feed, read by a poll before it touches S3 (issue 19; docs/ARCHITECTURE.md,
"Freshness").

S3 has no push. Where the site deployed the feed (``sync_changes_table``; the template's
``ChangesTable``), S3 tells a small function (``archpal_desktop/relay/changes.py``) of every
object written or removed under ``users/<sub>/``, and it bumps that student's item in a DynamoDB
table: ``seq`` for any change, ``profile_seq`` for ``info.json``. A poll then reads the student's
own item (one eventually consistent GetItem, half a read unit: $0.0000000625, where a HEAD of
the index costs $0.0000004) and goes to S3 only when the item moved. The students' role may read
its own item only (``dynamodb:LeadingKeys``).

The marker a sync started from is kept in the cache (``changes_marker``) once the sync
succeeded, so a change that lands during a sync is seen by the next poll. Our own uploads move
the item too; the probe's HEAD of the index then finds our own ETag and no LIST follows.

A feed that cannot be read (not deployed in this region, the role without the permission, the
table gone) is not an error the student sees: the poll falls back to the HEAD of the index, and
a feed refused for good is not asked again for an hour.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

#: where a sync's starting marker is kept once the sync succeeded (store.kv)
MARKER_KEY = "changes_marker"
#: a feed refused for good (no table, no permission) is asked again after this long
RETRY_REFUSED_S = 3600.0
#: error codes that will not go away by asking again soon
_REFUSED = frozenset({"AccessDeniedException", "ResourceNotFoundException", "ValidationException",
                      "UnrecognizedClientException", "AccessDenied"})

_refused: dict[tuple[str, str], float] = {}   # (table, sub) -> monotonic time it was refused
_refused_lock = threading.Lock()


@dataclass(frozen=True)
class Marker:
    """Where a student's item stood: every change, and the profile's changes."""
    seq: int
    profile_seq: int

    def encode(self) -> str:
        return f"{self.seq}:{self.profile_seq}"

    @classmethod
    def decode(cls, raw: Any) -> "Marker | None":
        try:
            seq, profile = str(raw).split(":")
            return cls(int(seq), int(profile))
        except (TypeError, ValueError):
            return None


class FeedUnavailable(Exception):
    """The feed could not be read this time (the poll falls back to S3)."""


def _number(item: dict, name: str) -> int:
    try:
        return int(item.get(name, {}).get("N", "0"))
    except (TypeError, ValueError, AttributeError):
        return 0


class ChangeFeed:
    """One student's item in the site's change feed table."""

    def __init__(self, client: Any, table: str, sub: str, *, clock=time.monotonic):
        self.client, self.table, self.sub = client, table, sub
        self._clock = clock

    @classmethod
    def for_access(cls, access: Any, settings: Any) -> "ChangeFeed | None":
        """The feed of this site and student, or None (not configured, or refused lately)."""
        table = settings.sync_changes_table
        if not table or refused_lately(table, access.sub):
            return None
        from archpal_desktop.core.aws import client_config
        client = access.session.client(
            "dynamodb", region_name=settings.aws_region,
            config=client_config(pool=1, connect_timeout=3.0, read_timeout=5.0, max_attempts=2))
        return cls(client, table, access.sub)

    def read(self) -> Marker:
        """The student's marker; an item not there yet (nothing changed since the feed was
        deployed) reads as zero. :class:`FeedUnavailable` for anything else."""
        try:
            item = self.client.get_item(TableName=self.table, Key={"sub": {"S": self.sub}},
                                        ProjectionExpression="seq, profile_seq",
                                        ConsistentRead=False).get("Item") or {}
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _REFUSED:
                with _refused_lock:
                    _refused[(self.table, self.sub)] = self._clock()
                log.warning("change feed %s refused (%s): polls HEAD the index for the next hour",
                            self.table, code)
            else:
                log.info("change feed %s not read (%s)", self.table, code)
            raise FeedUnavailable(code) from exc
        except BotoCoreError as exc:   # the network: the S3 request that follows will say
            log.info("change feed %s not reached (%s)", self.table, type(exc).__name__)
            raise FeedUnavailable(type(exc).__name__) from exc
        return Marker(_number(item, "seq"), _number(item, "profile_seq"))


def refused_lately(table: str, sub: str, now: float | None = None) -> bool:
    with _refused_lock:
        at = _refused.get((table, sub))
        if at is None:
            return False
        if (time.monotonic() if now is None else now) - at >= RETRY_REFUSED_S:
            del _refused[(table, sub)]
            return False
        return True


def forget_refusals() -> None:
    """Ask every feed again at the next poll (the tests; a refusal is per table and student)."""
    with _refused_lock:
        _refused.clear()
