"""Writing sprints: the timing (``timer``, Qt-free, clock injected) and the record in the
conversation and the cache (``book``). See docs/ARCHITECTURE.md, "Writing sprints"."""
from __future__ import annotations

from archpal_desktop.core.sprints.book import (DECLINED_KEY, RUNNING_KEY, Ended, SprintBook, end_text,
                                               offer_meta, sprint_meta, start_text)
from archpal_desktop.core.sprints.timer import (EXTEND_MINUTES, Clock, Sprint, SystemClock,
                                                remaining_text)

__all__ = ["DECLINED_KEY", "RUNNING_KEY", "Ended", "SprintBook", "end_text", "offer_meta", "sprint_meta",
           "start_text", "EXTEND_MINUTES", "Clock", "Sprint", "SystemClock", "remaining_text"]
