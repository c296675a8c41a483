"""``admin usage``: objects and bytes per user and in total, and an estimated monthly bill from
the setup guide's cost figures (S3 Standard; prices overridable, they change by region and year).

Request volume cannot be read from a bucket listing, so it is an estimate the admin can
override; the default is stated in the output instead of being hidden in a total.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from archpal_desktop.core.errors import map_exception
from archpal_desktop.core.layout import USERS_PREFIX

STORAGE_PER_GB_MONTH = 0.023
PUT_PER_1000 = 0.005   # PUT, COPY, POST and LIST
GET_PER_1000 = 0.0004  # GET and all other requests
GB = 1024 ** 3

#: Default request estimate per active user and month: the web app PUTs the conversation file
#: and the index per message (~2 PUTs), reads back about as often; the desktop syncs every
#: 2 minutes while open (one LIST, billed as a PUT) - 8 h a day on 22 days is ~5,300 LISTs.
DEFAULT_PUTS_PER_ACTIVE_USER = 5_600
DEFAULT_GETS_PER_ACTIVE_USER = 600


@dataclass
class UserUsage:
    objects: int = 0
    bytes: int = 0
    last_modified: datetime | None = None


@dataclass
class Usage:
    users: dict[str, UserUsage] = field(default_factory=dict)
    other_objects: int = 0
    other_bytes: int = 0

    @property
    def total_objects(self) -> int:
        return sum(u.objects for u in self.users.values()) + self.other_objects

    @property
    def total_bytes(self) -> int:
        return sum(u.bytes for u in self.users.values()) + self.other_bytes

    def active_users(self, now: datetime | None = None, days: int = 30) -> int:
        since = (now or datetime.now(timezone.utc)) - timedelta(days=days)
        return sum(1 for u in self.users.values() if u.last_modified and u.last_modified >= since)


def collect_usage(s3, bucket: str) -> Usage:
    usage = Usage()
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                key, size = obj["Key"], int(obj.get("Size", 0))
                parts = key.split("/")
                if key.startswith(USERS_PREFIX) and len(parts) >= 3 and parts[1]:
                    u = usage.users.setdefault(parts[1], UserUsage())
                    u.objects += 1
                    u.bytes += size
                    lm = obj.get("LastModified")
                    if lm and (u.last_modified is None or lm > u.last_modified):
                        u.last_modified = lm
                else:
                    usage.other_objects += 1
                    usage.other_bytes += size
    except Exception as exc:
        raise map_exception(exc, key=bucket) from exc
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
    lines = [f"{'user':<40} {'objects':>8} {'bytes':>12}"]
    for sub in sorted(usage.users):
        u = usage.users[sub]
        lines.append(f"{sub:<40} {u.objects:>8} {u.bytes:>12}")
    if usage.other_objects:
        lines.append(f"{'(outside users/)':<40} {usage.other_objects:>8} {usage.other_bytes:>12}")
    lines.append(f"{'total (' + str(len(usage.users)) + ' users)':<40} {usage.total_objects:>8} "
                 f"{usage.total_bytes:>12}")
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
