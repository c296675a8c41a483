"""A running writing sprint's timing: plain data and arithmetic, no Qt and no clock of its own.

Every method takes ``now`` (an aware UTC datetime) from a :class:`Clock` the caller owns, so the
window ticks with the system clock and the tests with a fake one. Times are wall-clock instants,
which is what lets a sprint survive a restart: one that ran out while the app was closed ended at
:meth:`Sprint.end_time`.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from archpal_desktop.core import layout
from archpal_desktop.core.assistant.offer import MAX_MINUTES, MIN_MINUTES, parse_offer

EXTEND_MINUTES = 5


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class Sprint:
    """One running (or paused) sprint on this computer."""

    sprint_id: str
    conversation_id: str
    minutes: int                      # the planned length, +5 included
    goal: str
    started_at: str                   # the web app's timestamp form (layout.format_ts)
    paused_at: str | None = None
    paused_seconds: float = 0.0
    draft_words: int = 0              # words in the message box when it started
    proposal_id: str | None = None    # the coach's offer it answers, if any

    @classmethod
    def new(cls, conversation_id: str, minutes: int, goal: str, now: datetime, *,
            draft_words: int = 0, proposal_id: str | None = None,
            sprint_id: str | None = None) -> "Sprint":
        offer = parse_offer({"minutes": minutes, "goal": goal})
        if offer is None:
            raise ValueError(f"A sprint lasts {MIN_MINUTES} to {MAX_MINUTES} minutes.")
        return cls(sprint_id or str(uuid.uuid4()), conversation_id, offer["minutes"], offer["goal"],
                   layout.format_ts(now), draft_words=max(0, draft_words), proposal_id=proposal_id)

    # -- state ------------------------------------------------------------------------------
    @property
    def started(self) -> datetime:
        return layout.parse_ts(self.started_at)

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def elapsed(self, now: datetime) -> float:
        """Seconds of sprinting so far (pauses not counted)."""
        until = layout.parse_ts(self.paused_at) if self.paused_at else now
        return max(0.0, (until - self.started).total_seconds() - self.paused_seconds)

    def remaining(self, now: datetime) -> float:
        return max(0.0, self.minutes * 60 - self.elapsed(now))

    def is_over(self, now: datetime) -> bool:
        return not self.paused and self.remaining(now) <= 0

    def end_time(self) -> datetime:
        """When a sprint that is not paused runs out."""
        return self.started + timedelta(seconds=self.minutes * 60 + self.paused_seconds)

    # -- changes ------------------------------------------------------------------------------
    def pause(self, now: datetime) -> None:
        if not self.paused:
            self.paused_at = layout.format_ts(now)

    def resume(self, now: datetime) -> None:
        if self.paused_at:
            self.paused_seconds += max(0.0, (now - layout.parse_ts(self.paused_at)).total_seconds())
            self.paused_at = None

    def can_extend(self) -> bool:
        return self.minutes + EXTEND_MINUTES <= MAX_MINUTES

    def extend(self, minutes: int = EXTEND_MINUTES) -> None:
        self.minutes = min(MAX_MINUTES, self.minutes + minutes)

    # -- storage ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: Any) -> "Sprint | None":
        if not isinstance(doc, dict):
            return None
        try:
            sprint = cls(**{k: doc[k] for k in cls.__dataclass_fields__ if k in doc})
            sprint.started   # a timestamp that parses
        except (TypeError, ValueError, KeyError):
            return None
        return sprint


def remaining_text(seconds: float) -> str:
    """"12:05" (minutes:seconds) or "1:02:03"; rounded up, so 0:00 shows only at the end."""
    total = int(-(-seconds // 1))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
