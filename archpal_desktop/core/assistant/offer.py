"""A writing sprint the coach offers: ``{"minutes": 1..120, "goal": "short text"}``.

With Bedrock (and the relay) the offer is the optional ``writing_sprint`` field of the forced
``coach_reply`` tool, beside ``emotion`` and ``response_text``. With a model that answers in plain
text (a local OpenAI-compatible server, or a Bedrock model that cannot be forced) it is one JSON
line before the inline emotion, exactly ``{"writing_sprint": {"minutes": 25, "goal": "..."}}``;
:func:`split_inline_offer` takes it off the text. An offer is only ever a proposal: the app starts
nothing until the student presses Start (docs/ARCHITECTURE.md, "Writing sprints").
"""
from __future__ import annotations

import json
import re
from typing import Any

OFFER_KEY = "writing_sprint"
MIN_MINUTES, MAX_MINUTES = 1, 120
GOAL_CHARS = 120
DEFAULT_GOAL = "Focused writing"

_OFFER_START = re.compile(r'\{\s*"' + OFFER_KEY + r'"\s*:')
_OFFER_PREFIX = '{"' + OFFER_KEY + '":'


def parse_offer(value: Any) -> dict | None:
    """A model's offer -> ``{"minutes": int, "goal": str}``, or None when it is not a usable one."""
    if not isinstance(value, dict):
        return None
    minutes = value.get("minutes")
    if isinstance(minutes, str) and minutes.strip().isdigit():
        minutes = int(minutes.strip())
    if isinstance(minutes, float) and minutes.is_integer():
        minutes = int(minutes)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        return None
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        return None
    goal = value.get("goal")
    goal = " ".join(goal.split()) if isinstance(goal, str) else ""
    if len(goal) > GOAL_CHARS:
        goal = goal[:GOAL_CHARS - 1].rstrip() + "…"
    return {"minutes": minutes, "goal": goal or DEFAULT_GOAL}


def split_inline_offer(text: str) -> tuple[str, dict | None]:
    """Take a trailing ``{"writing_sprint": {...}}`` line off a plain-text reply."""
    matches = list(_OFFER_START.finditer(text or ""))
    for match in reversed(matches):
        try:
            doc, end = json.JSONDecoder().raw_decode(text, match.start())
        except ValueError:
            continue
        if text[end:].strip():
            continue
        return text[:match.start()].rstrip(), parse_offer(doc.get(OFFER_KEY)) if isinstance(doc, dict) else None
    return text, None


def offer_tail_start(text: str) -> int:
    """Where a (possibly still growing) offer line starts in streamed text, or -1: a streaming
    filter holds everything from there back, so the JSON never flashes on screen."""
    for i in [m.start() for m in re.finditer(r"\{", text)]:
        squeezed = re.sub(r"\s+", "", text[i:i + 200])
        if squeezed.startswith(_OFFER_PREFIX) or (_OFFER_PREFIX.startswith(squeezed) and squeezed):
            return i
    return -1
