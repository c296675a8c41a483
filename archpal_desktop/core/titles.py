"""A conversation's title from its first message: a local rule, no extra request to the coach.

The web app names a new conversation after its UTC creation time; a conversation started here is
renamed after its first message instead (synced as an ordinary rename). A conversation whose
title someone chose (the web app's student, a rename here) keeps it: only the default title is
ever replaced.
"""
from __future__ import annotations

import re

from archpal_desktop.core import layout

MAX_CHARS = 48
MAX_WORDS = 8

_ATTACHMENT = re.compile(r"^📎 \*\*(?P<name>.+?)\*\*")
_MARKUP = re.compile(r"[`*_#>\[\]~|]+")
_SPACE = re.compile(r"\s+")
# openings that carry no topic ("hi, can you help me with my essay on X" -> "My essay on X")
_FILLER = re.compile(r"^(?:(?:hi|hello|hey|dear archpal|archpal)\b[\s,!.:-]*)?"
                     r"(?:(?:can|could|would) you (?:please )?(?:help me(?: with)?|look at)\s+|"
                     r"(?:please )?help me(?: with)?\s+|i need help(?: with)?\s+|"
                     r"i(?:'m| am) (?:working on|writing)\s+)?", re.IGNORECASE)


def title_from_message(text: str) -> str:
    """A short title for a conversation whose first message is ``text`` ("" if none fits)."""
    text = (text or "").strip()
    attached = _ATTACHMENT.match(text)
    if attached and text.split("\n", 1)[0].startswith("📎"):
        # a draft sent on its own: name the conversation after the file
        return _clip(f"Draft: {attached.group('name')}")
    first = next((line for line in text.splitlines() if line.strip() and not line.startswith("📎")), "")
    first = _MARKUP.sub(" ", first)
    first = _SPACE.sub(" ", first).strip()
    # the first sentence after a greeting is usually the topic
    first = _FILLER.sub("", first, count=1).strip() or first
    trimmed = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0].rstrip(" .,;:")
    if not trimmed:
        return ""
    return _clip(trimmed[0].upper() + trimmed[1:])


def _clip(text: str) -> str:
    words = text.split(" ")
    if len(words) > MAX_WORDS:
        text = " ".join(words[:MAX_WORDS]) + "…"
    if len(text) > MAX_CHARS:
        cut = text[:MAX_CHARS].rsplit(" ", 1)[0] if " " in text[:MAX_CHARS] else text[:MAX_CHARS]
        text = cut.rstrip(" ,;:-") + "…"
    return text


def is_default_title(title: str, created_at: str) -> bool:
    """True when ``title`` is still the creation-time title the web app (and we) give a new one."""
    try:
        return title.strip() == layout.default_title(created_at)
    except Exception:  # an unreadable created_at from another client: treat the title as chosen
        return False
