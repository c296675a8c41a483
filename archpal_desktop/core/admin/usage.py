"""``admin usage``: objects and bytes per user and in total, and an estimated monthly bill from
the setup guide's cost figures (S3 Standard; prices overridable, they change by region and year).

Request volume cannot be read from a bucket listing, so it is an estimate the admin can
override; the default is stated in the output instead of being hidden in a total.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from archpal_desktop.core import layout
from archpal_desktop.core.admin import scan
from archpal_desktop.core.errors import ArchPalError, BadDataError
from archpal_desktop.core.termsafe import escape

STORAGE_PER_GB_MONTH = 0.023
PUT_PER_1000 = 0.005   # PUT, COPY, POST and LIST
GET_PER_1000 = 0.0004  # GET and all other requests
GB = 1024 ** 3

#: Default S3 request estimate per active user and month, from the schedule's measured counts
#: (docs/ADMIN.md, "How fresh, and what it costs"; bench sync.cost) for a student with the window
#: in front 8 h a day on 22 days who writes ~150 messages a month: the desktop's full sync once
#: an hour (176 LISTs), each message's two PUTs and one LIST (450), the web app's reads (~600 GET)
#: and one HEAD per upload the change feed reports back (150). Without the feed, each poll is a
#: HEAD: add 52,800 GETs (admin usage --gets).
DEFAULT_PUTS_PER_ACTIVE_USER = 626
DEFAULT_GETS_PER_ACTIVE_USER = 750


@dataclass
class UserUsage:
    objects: int = 0
    bytes: int = 0
    last_modified: datetime | None = None
    conversations: int = 0
    messages: int = 0
    user_messages: int = 0
    #: "YYYY-MM" -> messages written that month (from the messages' own timestamps)
    months: dict[str, int] = field(default_factory=dict)


@dataclass
class MonthUsage:
    messages: int = 0
    user_messages: int = 0
    active_users: int = 0
    conversations_started: int = 0


@dataclass
class Usage:
    users: dict[str, UserUsage] = field(default_factory=dict)
    months: dict[str, MonthUsage] = field(default_factory=dict)
    other_objects: int = 0
    other_bytes: int = 0
    problems: list[str] = field(default_factory=list)
    #: False when only the listing was read (--listing-only): no message figures
    read_messages: bool = True

    @property
    def total_objects(self) -> int:
        return sum(u.objects for u in self.users.values()) + self.other_objects

    @property
    def total_bytes(self) -> int:
        return sum(u.bytes for u in self.users.values()) + self.other_bytes

    def active_users(self, now: datetime | None = None, days: int = 30) -> int:
        since = (now or datetime.now(timezone.utc)) - timedelta(days=days)
        return sum(1 for u in self.users.values() if u.last_modified and u.last_modified >= since)


def _valid_sub(sub: str) -> bool:
    try:
        layout.validate_sub(sub)
    except BadDataError:
        return False
    return True


def _month(ts: Any) -> str | None:
    try:
        return layout.parse_ts(ts).strftime("%Y-%m")
    except (BadDataError, ValueError, TypeError, AttributeError):
        return None


def _add_user(usage: Usage, user: scan.UserKeys, results: dict[str, Any]) -> None:
    u = usage.users.setdefault(user.sub, UserUsage())
    for obj in user.objects:
        u.objects += 1
        u.bytes += obj.size
        if obj.last_modified and (u.last_modified is None or obj.last_modified > u.last_modified):
            u.last_modified = obj.last_modified
    for key in sorted(results):
        doc = results[key]
        if isinstance(doc, ArchPalError):
            usage.problems.append(f"{key}: {doc.message}; not counted.")
            continue
        u.conversations += 1
        started = _month(doc.get("created_at"))
        if started:
            usage.months.setdefault(started, MonthUsage()).conversations_started += 1
        for m in doc["messages"]:
            month = _month(m.get("timestamp"))
            u.messages += 1
            mine = m.get("role") == "user"
            u.user_messages += mine
            if month:
                u.months[month] = u.months.get(month, 0) + 1
                mu = usage.months.setdefault(month, MonthUsage())
                mu.messages += 1
                mu.user_messages += mine
    for month in u.months:
        usage.months.setdefault(month, MonthUsage()).active_users += 1


def collect_usage(s3, bucket: str, *, credentials=None, workers: int = 16,
                  read_messages: bool = True,
                  on_progress: Callable[[scan.Progress], None] | None = None) -> Usage:
    """Storage from one listing of the bucket; with ``read_messages`` also every conversation
    file (on the pool, as the research export reads them) for per-user and per-month figures.
    Memory holds one figure set per user and per month, never the conversations."""
    usage = Usage(read_messages=read_messages)

    def other(obj: scan.Listed) -> None:
        usage.other_objects += 1
        usage.other_bytes += obj.size

    def wanted(user: scan.UserKeys) -> list[scan.Listed]:
        if not read_messages or not _valid_sub(user.sub):
            return []
        return [o for o in user.objects if layout.classify_key(user.sub, o.key)[0] == "conversation"]

    def parse(key: str, body: bytes) -> Any:
        sub = key.split("/", 2)[1]
        return layout.parse_conversation(body, sub, layout.classify_key(sub, key)[1], key)

    progress = scan.Progress()
    stop = scan.threading.Event()
    counter = scan.count_ahead(s3, bucket, wanted, progress, stop=stop) \
        if on_progress is not None else None
    try:
        scan.scan(scan.BucketRemote(s3, bucket, credentials=credentials),
                  scan.prefetch(scan.iter_users(s3, bucket, others=other)), wanted, parse,
                  lambda user, results: _add_user(usage, user, results), workers=workers,
                  progress=progress, on_progress=on_progress)
    finally:
        stop.set()
    if counter is not None:
        counter.join(timeout=5)
    return usage


def estimate_cost(usage: Usage, *, storage_price: float = STORAGE_PER_GB_MONTH,
                  put_price: float = PUT_PER_1000, get_price: float = GET_PER_1000,
                  puts: int | None = None, gets: int | None = None,
                  now: datetime | None = None) -> dict[str, Any]:
    active = usage.active_users(now)
    puts = active * DEFAULT_PUTS_PER_ACTIVE_USER if puts is None else puts
    gets = active * DEFAULT_GETS_PER_ACTIVE_USER if gets is None else gets
    storage = usage.total_bytes / GB * storage_price
    requests = puts / 1000 * put_price + gets / 1000 * get_price
    return {"storage_gb": usage.total_bytes / GB, "storage_usd": storage,
            "active_users_30d": active, "puts": puts, "gets": gets,
            "requests_usd": requests, "total_usd": storage + requests,
            "prices": {"storage_per_gb_month": storage_price, "put_per_1000": put_price,
                       "get_per_1000": get_price}}


def format_usage(usage: Usage, cost: dict[str, Any]) -> str:
    """The report; user folder names come from the bucket, so each is escaped for the terminal."""
    msgs = usage.read_messages
    head = f"{'user':<40} {'objects':>8} {'bytes':>12}"
    lines = [head + (f" {'convs':>6} {'messages':>8} {'by student':>10}" if msgs else "")]
    for sub in sorted(usage.users):
        u = usage.users[sub]
        line = f"{escape(sub):<40} {u.objects:>8} {u.bytes:>12}"
        if msgs:
            line += f" {u.conversations:>6} {u.messages:>8} {u.user_messages:>10}"
        lines.append(line)
    if usage.other_objects:
        lines.append(f"{'(outside users/)':<40} {usage.other_objects:>8} {usage.other_bytes:>12}")
    lines.append(f"{'total (' + str(len(usage.users)) + ' users)':<40} {usage.total_objects:>8} "
                 f"{usage.total_bytes:>12}")
    if msgs and usage.months:
        lines += ["", f"{'month':<8} {'messages':>9} {'by student':>10} {'active users':>12} "
                      f"{'new convs':>9}"]
        for month in sorted(usage.months):
            m = usage.months[month]
            lines.append(f"{month:<8} {m.messages:>9} {m.user_messages:>10} {m.active_users:>12} "
                         f"{m.conversations_started:>9}")
    p = cost["prices"]
    lines += [
        "",
        f"Estimated monthly cost: ${cost['total_usd']:.4f}",
        f"  storage  {cost['storage_gb']:.6f} GB x ${p['storage_per_gb_month']}/GB-month"
        f" = ${cost['storage_usd']:.4f}",
        f"  requests {cost['puts']:,} PUT/LIST x ${p['put_per_1000']}/1,000 + {cost['gets']:,} GET x "
        f"${p['get_per_1000']}/1,000 = ${cost['requests_usd']:.4f}",
        f"  (requests estimated for {cost['active_users_30d']} user(s) active in the last 30 days "
        "unless --puts/--gets were given; data transfer within the region is free)",
    ]
    return "\n".join(lines)


def usage_json(usage: Usage, cost: dict[str, Any]) -> dict[str, Any]:
    users: dict[str, dict[str, Any]] = {}
    for sub, u in sorted(usage.users.items()):
        users[sub] = {"objects": u.objects, "bytes": u.bytes}
        if usage.read_messages:
            users[sub].update(conversations=u.conversations, messages=u.messages,
                              user_messages=u.user_messages, months=dict(sorted(u.months.items())))
    return {"users": users, "months": {k: vars(v) for k, v in sorted(usage.months.items())},
            "total_objects": usage.total_objects, "total_bytes": usage.total_bytes,
            "other_objects": usage.other_objects, "cost": cost, "problems": usage.problems}
