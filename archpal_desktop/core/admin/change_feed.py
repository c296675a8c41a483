"""``admin change-feed``: point an existing bucket's S3 events at the change feed's function
(docs/ADMIN.md, "Change feed"), for a site whose bucket the site template did not make.

PutBucketNotificationConfiguration replaces the bucket's whole notification configuration, so
a careless put deletes every other notification the bucket has. Here the current configuration
is read, our one entry (Id ``archpal-change-feed``: ``s3:ObjectCreated:*`` and
``s3:ObjectRemoved:*`` under ``users/``) is added or replaced, and every other entry (queues,
topics, functions, EventBridge) is put back as it was. S3 refuses two entries that share an
event type over overlapping key filters; such an entry is reported here instead, by its Id,
and nothing is changed. The local backend (localstack/change_feed.py) uses the same merge for
its queue.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from archpal_desktop.core.errors import ArchPalError, ConfigError, map_exception

FEED_ID = "archpal-change-feed"
FEED_EVENTS = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")
FEED_PREFIX = "users/"

#: the configuration's lists of destinations, and the field naming each one's target
KINDS: dict[str, str] = {
    "LambdaFunctionConfigurations": "LambdaFunctionArn",
    "QueueConfigurations": "QueueArn",
    "TopicConfigurations": "TopicArn",
}
#: a Lambda function's ARN, optionally with a version or alias (S3 invokes exactly that one)
_FUNCTION_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:"
                              r"[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$")
_KIND_NAMES = {"LambdaFunctionConfigurations": "function", "QueueConfigurations": "queue",
               "TopicConfigurations": "topic"}


def validate_function_arn(arn: str) -> str:
    if not _FUNCTION_ARN_RE.fullmatch(arn or ""):
        raise ConfigError(f"{arn!r} is not a Lambda function ARN.",
                          "Give the change feed function's ARN, e.g. "
                          "arn:aws:lambda:us-east-1:123456789012:function:archpal-changes "
                          "(aws lambda get-function --function-name NAME shows it).")
    return arn


def feed_entry(kind: str, arn: str) -> dict[str, Any]:
    """Our entry in ``kind`` (one of :data:`KINDS`) for the destination ``arn``."""
    return {"Id": FEED_ID, KINDS[kind]: arn, "Events": list(FEED_EVENTS),
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": FEED_PREFIX}]}}}


def _rules(entry: Mapping[str, Any]) -> tuple[str, str]:
    """(prefix, suffix) of an entry's key filter ("" where there is none)."""
    prefix = suffix = ""
    for rule in ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        name = str(rule.get("Name", "")).lower()
        if name == "prefix":
            prefix = str(rule.get("Value") or "")
        elif name == "suffix":
            suffix = str(rule.get("Value") or "")
    return prefix, suffix


def _event_overlap(a: str, b: str) -> bool:
    """``s3:ObjectCreated:*`` covers ``s3:ObjectCreated:Put``; equal names overlap too."""
    if a == b:
        return True
    return (a.endswith("*") and b.startswith(a[:-1])) or (b.endswith("*") and a.startswith(b[:-1]))


def overlaps(ours: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether S3 would refuse the two entries together: a shared event type over key filters
    that can match one key (prefixes one of the other's start, suffixes one of the other's end)."""
    if not any(_event_overlap(a, b) for a in ours.get("Events") or [] for b in other.get("Events") or []):
        return False
    (p1, s1), (p2, s2) = _rules(ours), _rules(other)
    return (p1.startswith(p2) or p2.startswith(p1)) and (s1.endswith(s2) or s2.endswith(s1))


def _describe(kind: str, entry: Mapping[str, Any]) -> str:
    prefix, suffix = _rules(entry)
    where = "".join([f" under {prefix!r}" if prefix else " on every key",
                     f" ending {suffix!r}" if suffix else ""])
    return (f"{_KIND_NAMES.get(kind, kind)} {entry.get('Id') or '(no id)'} -> "
            f"{entry.get(KINDS.get(kind, ''), '?')} ({', '.join(entry.get('Events') or [])}{where})")


@dataclass
class FeedPlan:
    """What putting the feed on a bucket does: the configuration to put, and in words."""

    bucket: str
    configuration: dict[str, Any]
    action: str                        # "added", "replaced" or "unchanged"
    kept: list[str] = field(default_factory=list)       # the other entries, described
    previous: str = ""                 # our earlier entry, described (when replaced)

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


def current_configuration(s3: Any, bucket: str) -> dict[str, Any]:
    """The bucket's notification configuration as PutBucketNotificationConfiguration takes it."""
    try:
        got = s3.get_bucket_notification_configuration(Bucket=bucket)
    except Exception as exc:
        raise map_exception(exc, key=bucket) from exc
    return {k: copy.deepcopy(v) for k, v in got.items() if k != "ResponseMetadata"}


def plan_feed(current: Mapping[str, Any], bucket: str, kind: str, arn: str) -> FeedPlan:
    """Add or replace our entry in ``current``, keeping every other one. ConfigError, naming
    them, when another entry overlaps ours (S3 would refuse the whole configuration)."""
    if kind not in KINDS:
        raise ValueError(kind)
    ours = feed_entry(kind, arn)
    out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in current.items()
                           if k not in KINDS and k != "ResponseMetadata"}
    kept: list[str] = []
    clashes: list[str] = []
    previous: tuple[str, dict[str, Any]] | None = None
    for k in KINDS:
        entries = []
        for entry in current.get(k) or []:
            if entry.get("Id") == FEED_ID:
                previous = (k, dict(entry))
                continue
            if overlaps(ours, entry):
                clashes.append(_describe(k, entry))
            entries.append(copy.deepcopy(entry))
            kept.append(_describe(k, entry))
        if k == kind:
            entries.append(ours)
        if entries:
            out[k] = entries
    if clashes:
        raise ConfigError(
            f"Another notification of bucket {bucket} overlaps the change feed's "
            f"({' and '.join(FEED_EVENTS)} under {FEED_PREFIX!r}): " + "; ".join(clashes) + ". S3 "
            "refuses two notifications of one event type on overlapping keys, so nothing was changed.",
            "Narrow that notification (another prefix or event), or send those events to one queue "
            "or topic that both consumers read; then run this command again.")
    if previous is None:
        action = "added"
    elif previous[0] == kind and _same(previous[1], ours):
        action = "unchanged"
    else:
        action = "replaced"
    return FeedPlan(bucket, out, action, kept,
                    _describe(*previous) if previous is not None and action == "replaced" else "")


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    def norm(e: Mapping[str, Any]) -> str:
        target = {k: e.get(v) for k, v in KINDS.items() if e.get(v)}
        return json.dumps([target, sorted(e.get("Events") or []), _rules(e)], sort_keys=True)
    return norm(a) == norm(b)


def put_feed(s3: Any, bucket: str, kind: str, arn: str, *, dry_run: bool = False) -> FeedPlan:
    """Read, merge and (unless ``dry_run`` or already in place) put the configuration."""
    plan = plan_feed(current_configuration(s3, bucket), bucket, kind, arn)
    if dry_run or not plan.changed:
        return plan
    try:
        s3.put_bucket_notification_configuration(Bucket=bucket,
                                                 NotificationConfiguration=plan.configuration)
    except ArchPalError:
        raise
    except Exception as exc:
        err = (getattr(exc, "response", None) or {}).get("Error") or {}
        if err.get("Code") == "InvalidArgument" and "destination" in str(err.get("Message", "")).lower():
            raise ConfigError(
                f"S3 could not deliver to a destination of bucket {bucket}'s notifications "
                f"({err.get('Message')}); nothing was changed.",
                "S3 checks every destination on each change: give S3 permission to invoke the "
                "function (aws lambda add-permission --action lambda:InvokeFunction --principal "
                f"s3.amazonaws.com --source-arn arn:aws:s3:::{bucket} --source-account <account>), "
                "and check the bucket's other queues and topics still exist.") from exc
        raise map_exception(exc, key=bucket) from exc
    return plan


def format_plan(plan: FeedPlan, arn: str, *, dry_run: bool = False) -> str:
    what = f"{FEED_ID} ({', '.join(FEED_EVENTS)} under {FEED_PREFIX!r} -> {arn})"
    if plan.action == "unchanged":
        head = f"The change feed is already in place on bucket {plan.bucket}: {what}. Nothing changed."
    else:
        verb = {"added": "Add" if dry_run else "Added", "replaced": "Replace" if dry_run else "Replaced"}
        head = (("Dry run, nothing changed. Would: " if dry_run else "")
                + f"{verb[plan.action]} the change feed notification on bucket {plan.bucket}: {what}.")
        if plan.previous:
            head += f"\n  (it was: {plan.previous})"
    lines = [head]
    if plan.kept:
        lines.append(f"Kept {len(plan.kept)} other notification(s) as they were:")
        lines += [f"  - {k}" for k in plan.kept]
    else:
        lines.append("The bucket has no other notifications.")
    if dry_run and plan.changed:
        lines.append("The configuration that would be put:")
        lines.append(json.dumps(plan.configuration, indent=2))
    return "\n".join(lines)
