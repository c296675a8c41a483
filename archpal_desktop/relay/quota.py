"""Daily token quotas in DynamoDB: one counter item per student and day, one for the site.

Items (partition key ``pk``): ``user#<sub>#<YYYY-MM-DD>`` and ``site#<YYYY-MM-DD>`` (UTC days),
with ``tokens`` (what counts against the quota, reservations included), ``input_tokens``,
``output_tokens``, ``requests`` and ``expires_at`` (epoch seconds; the table's TTL attribute, so
old days disappear by themselves).

Why reservations: a request is admitted with one conditional ``UpdateItem`` that adds its worst
case (input estimate + max_tokens) only if the counter is still under the limit, then settles to
the real figure when the reply ends. Two requests racing each other both go through the same
atomic condition; the second sees the first's reservation. So however many replies run at once,
the admitted ones' reservations all started under the limit and the total can pass it by at
most the last reply admitted.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

log = logging.getLogger(__name__)

#: days a counter row is kept after its day ends (admin usage reads them; TTL then removes them)
KEEP_DAYS = 35


@dataclass(frozen=True)
class QuotaExceeded(Exception):
    scope: str          # "student" | "site"
    reset_at: datetime  # when the counter starts again (the next UTC midnight)


def day_of(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime("%Y-%m-%d")


def next_reset(now: datetime) -> datetime:
    day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


def user_key(sub: str, day: str) -> str:
    return f"user#{sub}#{day}"


def site_key(day: str) -> str:
    return f"site#{day}"


@dataclass
class Reservation:
    sub: str
    day: str
    tokens: int
    settled: bool = False


class Quota:
    """Admission and settlement against one table (``dynamodb`` is a boto3 client)."""

    def __init__(self, dynamodb: Any, table: str, *, student_limit: int, site_limit: int,
                 pool: ThreadPoolExecutor | None = None):
        self._pool = pool or ThreadPoolExecutor(max_workers=4, thread_name_prefix="relay-quota")
        self.db = dynamodb
        self.table = table
        self.student_limit = int(student_limit)
        self.site_limit = int(site_limit)

    def _add(self, pk: str, tokens: int, requests: int, expires: int, limit: int,
             input_tokens: int = 0, output_tokens: int = 0) -> None:
        kwargs: dict[str, Any] = {
            "TableName": self.table, "Key": {"pk": {"S": pk}},
            "UpdateExpression": "ADD tokens :t, requests :r, input_tokens :i, output_tokens :o "
                                "SET expires_at = :e",
            "ExpressionAttributeValues": {":t": {"N": str(tokens)}, ":r": {"N": str(requests)},
                                          ":i": {"N": str(input_tokens)},
                                          ":o": {"N": str(output_tokens)}, ":e": {"N": str(expires)}},
        }
        if limit > 0:
            kwargs["ConditionExpression"] = "attribute_not_exists(tokens) OR tokens < :limit"
            kwargs["ExpressionAttributeValues"][":limit"] = {"N": str(limit)}
        self.db.update_item(**kwargs)

    @staticmethod
    def _expires(day: str) -> int:
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return int((start + timedelta(days=1 + KEEP_DAYS)).timestamp())

    def admit(self, sub: str, reserve: int, now: datetime | None = None) -> Reservation:
        """Reserve ``reserve`` tokens for ``sub`` today, or raise :class:`QuotaExceeded`."""
        now = now or datetime.now(timezone.utc)
        day = day_of(now)
        expires = self._expires(day)
        failed = self.db.exceptions.ConditionalCheckFailedException
        # both counters at once (the first words wait on this); whichever refuses, the other's
        # reservation is given back, so a refused request costs nothing
        user = self._pool.submit(self._add, user_key(sub, day), reserve, 1, expires, self.student_limit)
        try:
            self._add(site_key(day), reserve, 1, expires, self.site_limit)
            site_ok = True
        except failed:
            site_ok = False
        try:
            user.result()
        except failed:
            if site_ok:
                self._add(site_key(day), -reserve, -1, expires, 0)
            raise QuotaExceeded("student", next_reset(now)) from None
        if not site_ok:
            self._add(user_key(sub, day), -reserve, -1, expires, 0)
            raise QuotaExceeded("site", next_reset(now)) from None
        return Reservation(sub, day, reserve)

    def settle(self, res: Reservation, input_tokens: int, output_tokens: int) -> None:
        """Replace the reservation by what the reply really used (never raises)."""
        if res.settled:
            return
        res.settled = True
        delta = input_tokens + output_tokens - res.tokens
        expires = self._expires(res.day)
        for pk in (user_key(res.sub, res.day), site_key(res.day)):
            try:
                self._add(pk, delta, 0, expires, 0, input_tokens, output_tokens)
            except Exception:  # the reservation then stays counted: errs on the site's side
                log.exception("could not settle the quota counter %s", pk.split("#")[0])

    def used(self, sub: str, now: datetime | None = None) -> int:
        item = self.db.get_item(TableName=self.table, Key={"pk": {"S": user_key(sub, day_of(
            now or datetime.now(timezone.utc)))}}, ConsistentRead=True).get("Item") or {}
        return int((item.get("tokens") or {}).get("N") or 0)
