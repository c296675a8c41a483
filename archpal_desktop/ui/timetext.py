"""How a message's time reads, on its bubble and to a screen reader (one rule for both)."""
from __future__ import annotations

from archpal_desktop.core import layout


def time_text(ts: str) -> str:
    try:
        dt = layout.parse_ts(ts).astimezone()
    except Exception:  # a bad timestamp from another client must not break painting
        return ""
    return dt.strftime("%d %b %Y, %H:%M")
