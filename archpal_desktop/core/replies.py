"""Moved to :mod:`archpal_desktop.core.assistant.queue` (kept for this session's merges)."""
from __future__ import annotations

from archpal_desktop.core.assistant.queue import (TABLE, ReplyEvent, ReplyRunner, RunResult,
                                                  awaiting_reply)

__all__ = ["TABLE", "ReplyEvent", "ReplyRunner", "RunResult", "awaiting_reply"]
