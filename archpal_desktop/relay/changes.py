"""The site's change feed, server side (issue 19; docs/ADMIN.md, "Change feed").

S3 tells this small Lambda about every object created or removed under ``users/``; it keeps
one counter item per student in a DynamoDB table (partition key ``sub``), and the desktop polls
its own item (one eventually consistent GetItem, 6x cheaper than the HEAD it replaces), looking
at S3 only when the counter moved. The item (the contract the client is written against):

- ``sub`` (S): the student;
- ``seq`` (N): +1 for every object created or removed under ``users/<sub>/``;
- ``profile_seq`` (N): +1 for every change of ``users/<sub>/info.json`` (counted in ``seq`` too);
- ``changed_at`` (N): epoch seconds (int) of the last update.

One ``UpdateItem`` per student per event batch (``ADD`` creates the item and its numbers). The
events come straight from S3 (the site template) or wrapped by SQS (the local backend's queue,
a site that routes S3 events through a queue). A record that cannot be read is logged and
skipped; the good ones around it still count. A counter that could not be written fails the
invocation once every student's update has been tried, so Lambda delivers the batch again:
counting a change twice costs the client one extra look at S3, missing one would hide it.

Plain Python and boto3: no Qt, window, CLI or local backend.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Mapping
from urllib.parse import unquote_plus

from archpal_desktop.core import layout
from archpal_desktop.core.errors import BadDataError

log = logging.getLogger("archpal.relay.changes")

#: the Lambda's environment variable naming the table (the site template sets it)
TABLE_ENV = "ARCHPAL_CHANGES_TABLE"
#: S3 event names that count (an object written or removed); tagging, ACL, restore do not
COUNTED_EVENTS = ("ObjectCreated:", "ObjectRemoved:")
UPDATE_EXPRESSION = "ADD seq :n, profile_seq :p SET changed_at = :t"


@dataclass
class Counts:
    seq: int = 0
    profile_seq: int = 0


class ChangeFeedError(Exception):
    """Some students' counters could not be written (the batch should be delivered again)."""

    def __init__(self, failed: list[str]):
        super().__init__(f"{len(failed)} change counter(s) could not be updated")
        self.failed = failed


def student_of(key: str) -> tuple[str, str] | None:
    """``users/<sub>/<rest>`` (already decoded) -> (sub, rest); anything else -> None."""
    if not key.startswith(layout.USERS_PREFIX):
        return None
    sub, sep, rest = key[len(layout.USERS_PREFIX):].partition("/")
    if not sep or not sub or not rest:
        return None
    try:
        layout.validate_sub(sub)
    except BadDataError:
        return None
    return sub, rest


def _s3_records(event: Any, where: str) -> Iterator[tuple[str, Any]]:
    """(where, record) for every S3 record of ``event``, unwrapping SQS messages."""
    if not isinstance(event, Mapping):
        log.warning("change feed: skipped %s: not a JSON object", where)
        return
    if event.get("Event") == "s3:TestEvent":   # sent when a queue or topic is configured
        return
    records = event.get("Records")
    if records is None:
        log.warning("change feed: skipped %s: no Records", where)
        return
    if not isinstance(records, list):
        log.warning("change feed: skipped %s: Records is not a list", where)
        return
    for n, record in enumerate(records):
        at = f"{where} record {n}"
        if isinstance(record, Mapping) and record.get("eventSource") == "aws:sqs":
            body = record.get("body")
            try:
                inner = json.loads(body) if isinstance(body, (str, bytes)) else None
            except ValueError:
                inner = None
            if inner is None:
                log.warning("change feed: skipped %s (SQS message %s): its body is not JSON",
                            at, record.get("messageId", "?"))
                continue
            yield from _s3_records(inner, f"{at} (SQS message {record.get('messageId', '?')})")
        else:
            yield at, record


def _key_of(record: Any) -> tuple[str, str]:
    """(event name without ``s3:``, decoded key) of one S3 record; ValueError if malformed."""
    if not isinstance(record, Mapping):
        raise ValueError("not a JSON object")
    if record.get("eventSource", "aws:s3") != "aws:s3":
        raise ValueError(f"event source {record.get('eventSource')!r} is not aws:s3")
    name = record.get("eventName")
    if not isinstance(name, str) or not name:
        raise ValueError("no eventName")
    obj = (record.get("s3") or {}).get("object") if isinstance(record.get("s3"), Mapping) else None
    key = obj.get("key") if isinstance(obj, Mapping) else None
    if not isinstance(key, str) or not key:
        raise ValueError("no s3.object.key")
    return name.removeprefix("s3:"), unquote_plus(key)


def count_changes(event: Any) -> dict[str, Counts]:
    """What ``event`` changes, per student (nothing is written)."""
    counts: dict[str, Counts] = defaultdict(Counts)
    for where, record in _s3_records(event, "event"):
        try:
            name, key = _key_of(record)
        except ValueError as exc:
            log.warning("change feed: skipped %s: %s", where, exc)
            continue
        if not name.startswith(COUNTED_EVENTS):
            continue
        found = student_of(key)
        if found is None:
            continue            # not a student's object (or not one any student can read)
        sub, rest = found
        counts[sub].seq += 1
        if layout.classify_key(sub, key)[0] == "info":
            counts[sub].profile_seq += 1
    return dict(counts)


def _epoch(now: float | datetime | None) -> int:
    if now is None:
        return int(time.time())
    if isinstance(now, datetime):
        return int(now.timestamp())
    return int(now)


def record_changes(dynamodb: Any, table: str, event: Any,
                   now: float | datetime | None = None) -> int:
    """Bump the counters ``event`` (an S3 notification, or SQS messages carrying them) calls
    for; ``dynamodb`` is a boto3 client. Returns how many students' items were updated.

    Raises :class:`ChangeFeedError` after trying every student if any update failed."""
    counts = count_changes(event)
    stamp = str(_epoch(now))
    updated, failed = 0, []
    for sub, c in counts.items():
        try:
            dynamodb.update_item(
                TableName=table, Key={"sub": {"S": sub}}, UpdateExpression=UPDATE_EXPRESSION,
                ExpressionAttributeValues={":n": {"N": str(c.seq)}, ":p": {"N": str(c.profile_seq)},
                                           ":t": {"N": stamp}})
            updated += 1
        except Exception:  # noqa: BLE001 - any failure: try the others, then fail the batch
            log.exception("change feed: could not update the counter of one student")
            failed.append(sub)
    if failed:
        raise ChangeFeedError(failed)
    return updated


def create_changes_table(dynamodb: Any, name: str) -> str:
    """The table as the site template declares it (key ``sub``, on demand); nothing happens if
    it exists. For the local backend and tests (the template creates the real one)."""
    try:
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "sub", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"}])
    except dynamodb.exceptions.ResourceInUseException:
        pass                      # there already (perhaps still being created: waited for)
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return name


# -- the Lambda entry point ----------------------------------------------------------------------
_client: Any = None
_client_lock = threading.Lock()


def _dynamodb() -> Any:
    """One client per container (warm invocations reuse it and its connections)."""
    global _client
    with _client_lock:
        if _client is None:
            import boto3

            _client = boto3.client("dynamodb")
        return _client


def handler(event: Any, _context: Any) -> dict[str, int]:
    """``archpal_desktop.relay.changes.handler``: S3 notifications (or SQS batches of them);
    Lambda passes its context second (unused)."""
    table = os.environ.get(TABLE_ENV, "")
    if not table:
        raise RuntimeError(f"{TABLE_ENV} is not set: the change feed has no table")
    return {"updated": record_changes(_dynamodb(), table, event)}
