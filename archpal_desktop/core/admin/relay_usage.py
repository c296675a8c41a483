"""``admin usage``, the relay's part: tokens per day from the relay's DynamoDB counters (the
``site#<day>`` rows, kept ~35 days by their TTL) and the estimated model cost.

Prices are per million tokens and overridable like the S3 ones (they differ by model, region
and year); the defaults are Claude Sonnet 4's on-demand list prices on Bedrock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from archpal_desktop.core.errors import map_exception

INPUT_PER_MTOK = 3.00
OUTPUT_PER_MTOK = 15.00
DEFAULT_DAYS = 30


@dataclass
class DayTokens:
    day: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


def _n(item: dict, name: str) -> int:
    return int((item.get(name) or {}).get("N") or 0)


def collect(dynamodb: Any, table: str, *, days: int = DEFAULT_DAYS,
            now: datetime | None = None) -> list[DayTokens]:
    """The last ``days`` UTC days, oldest first (days with no row count as zero)."""
    now = now or datetime.now(timezone.utc)
    wanted = [(now - timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days - 1, -1, -1)]
    found: dict[str, DayTokens] = {}
    try:
        for start in range(0, len(wanted), 100):   # BatchGetItem takes 100 keys a call
            keys = [{"pk": {"S": f"site#{d}"}} for d in wanted[start:start + 100]]
            request = {table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                out = dynamodb.batch_get_item(RequestItems=request)
                for item in out.get("Responses", {}).get(table, []):
                    day = item["pk"]["S"].split("#", 1)[1]
                    found[day] = DayTokens(day, _n(item, "requests"), _n(item, "input_tokens"),
                                           _n(item, "output_tokens"))
                request = out.get("UnprocessedKeys") or {}
    except Exception as exc:
        raise map_exception(exc, key=table) from exc
    return [found.get(d, DayTokens(d)) for d in wanted]


def estimate(days: list[DayTokens], *, input_price: float = INPUT_PER_MTOK,
             output_price: float = OUTPUT_PER_MTOK) -> dict[str, Any]:
    tin = sum(d.input_tokens for d in days)
    tout = sum(d.output_tokens for d in days)
    cost = tin / 1e6 * input_price + tout / 1e6 * output_price
    return {"days": [{"day": d.day, "requests": d.requests, "input_tokens": d.input_tokens,
                      "output_tokens": d.output_tokens,
                      "usd": d.input_tokens / 1e6 * input_price + d.output_tokens / 1e6 * output_price}
                     for d in days],
            "input_tokens": tin, "output_tokens": tout, "total_usd": cost,
            "prices": {"input_per_mtok": input_price, "output_per_mtok": output_price}}


def format_relay(report: dict[str, Any]) -> str:
    p = report["prices"]
    lines = ["", "Coach relay (model tokens per UTC day):",
             f"{'day':<12} {'requests':>9} {'input':>12} {'output':>12} {'USD':>10}"]
    for d in report["days"]:
        if d["requests"] or d["input_tokens"] or d["output_tokens"]:
            lines.append(f"{d['day']:<12} {d['requests']:>9,} {d['input_tokens']:>12,} "
                         f"{d['output_tokens']:>12,} {d['usd']:>10.4f}")
    lines.append(f"Estimated model cost over {len(report['days'])} days: ${report['total_usd']:.4f} "
                 f"({report['input_tokens']:,} in x ${p['input_per_mtok']}/M + "
                 f"{report['output_tokens']:,} out x ${p['output_per_mtok']}/M)")
    return "\n".join(lines)


def add_arguments(parser: Any) -> None:
    parser.add_argument("--relay-table", help="the coach relay's DynamoDB table (default: coach_relay_table)")
    parser.add_argument("--relay-days", type=int, default=DEFAULT_DAYS, help="days of relay tokens (30)")
    parser.add_argument("--input-price", type=float, default=None,
                        help=f"USD per million input tokens ({INPUT_PER_MTOK})")
    parser.add_argument("--output-price", type=float, default=None,
                        help=f"USD per million output tokens ({OUTPUT_PER_MTOK})")


def report(args: Any, table: str, session: Any, region: str) -> dict[str, Any] | None:
    """The relay's figures for ``admin usage``, or None when no relay table is known."""
    table = getattr(args, "relay_table", None) or table
    if not table:
        return None
    db = session.client("dynamodb", region_name=region)
    prices = {k: v for k, v in (("input_price", args.input_price), ("output_price", args.output_price))
              if v is not None}
    return estimate(collect(db, table, days=max(1, int(args.relay_days))), **prices)
