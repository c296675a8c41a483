"""When the window syncs (issue 19): one Qt-free policy with an injectable clock.

The window's driver (ui/sync_driver.py) feeds it what happens (a local write, the window
coming to the front or going to the back, the machine on battery, the network changing, a sync
ending) and asks it, on every tick, whether a sync is due and of which kind. The policy:

- **A local write** (message, rename, delete, profile; drafts never reach here) is uploaded
  ``upload_delay`` seconds after the *first* write of a burst: later writes join that upload
  instead of pushing it back, so a student typing fast still sees their first message on S3
  within about a second. A write during a sync makes one more sync right after it.
- **Polling** for the web app's changes: every ``active`` seconds while the window is the
  active one, ``battery`` seconds on battery, ``background`` seconds in the background (the
  larger of the two when both apply). A poll is a *probe* (one HEAD of the conversation
  index, which the web app rewrites after every message) that turns into a full sync only when
  the index changed; every ``full`` seconds a poll is a full sync anyway (the profile, a file
  whose index write failed).
- **At once**: on start, on the student's "Sync now", when the network changes, and on resume
  from sleep, seen as the wall clock jumping ahead of the monotonic clock between two ticks
  (the monotonic clock stops while the machine sleeps).
- **Offline**: retried after ``offline_retry`` seconds, doubling up to the poll interval.
- **Never two syncs at a time**: nothing is due while one runs; whatever was asked meanwhile
  runs once, right after it.

Every interval is a setting (core/config.py); ``floor``/``ceiling`` are the bounds an admin can
lock in the site file (docs/ADMIN.md, "How fresh, and what it costs").
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable

#: the driver ticks at least this often (seconds), so a resume from sleep is seen promptly
HEARTBEAT = 5.0
#: the wall clock ahead of the monotonic one by more than this between ticks: the machine slept
RESUME_JUMP = 20.0

# the kinds of sync a tick can ask for
FULL = "full"     # LIST, GET what changed, PUT what differs
PROBE = "probe"   # HEAD the index first; a full sync only if it changed or something waits


@dataclass(frozen=True)
class Intervals:
    """Seconds. Defaults are the ones the cost figures in docs/ADMIN.md are measured at."""
    active: float = 12.0        # the window is the active one, on mains
    battery: float = 120.0      # on battery (or battery saver)
    background: float = 300.0   # the window is not the active one
    full: float = 1800.0        # a poll is a full sync at least this often
    upload_delay: float = 1.0   # a local write goes up this long after the first of a burst
    offline_retry: float = 15.0
    floor: float = 10.0         # no poll interval below this (an admin bound)
    ceiling: float = 3600.0     # nor above this (an admin bound)

    def bounded(self) -> "Intervals":
        lo = max(1.0, float(self.floor))
        hi = max(lo, float(self.ceiling))

        def clamp(v: float) -> float:
            return min(hi, max(lo, float(v)))
        return replace(self, floor=lo, ceiling=hi, active=clamp(self.active), battery=clamp(self.battery),
                       background=clamp(self.background), full=max(clamp(self.full), clamp(self.active)),
                       upload_delay=min(5.0, max(0.0, float(self.upload_delay))),
                       offline_retry=min(hi, max(1.0, float(self.offline_retry))))

    @classmethod
    def from_settings(cls, settings: Any) -> "Intervals":
        """The typed readers of core.config.Settings (any object with those attributes)."""
        return cls(active=settings.sync_active_seconds, battery=settings.sync_battery_seconds,
                   background=settings.sync_interval_seconds, full=settings.sync_full_seconds,
                   upload_delay=settings.sync_upload_delay_seconds,
                   floor=settings.sync_min_seconds, ceiling=settings.sync_max_seconds).bounded()


@dataclass(frozen=True)
class Due:
    reason: str   # "upload", "poll", "start", "user", "resume", "network", "offline-retry", ...
    kind: str     # FULL or PROBE


class Scheduler:
    """Not thread-safe: the driver calls it from the UI thread only."""

    def __init__(self, intervals: Intervals | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, active: bool = True, on_battery: bool = False,
                 polling: bool = True):
        self.intervals = (intervals or Intervals()).bounded()
        self._mono, self._wall = monotonic, wall
        self.active = active
        self.on_battery = on_battery
        self.polling = polling            # False: uploads and requests only, no polls
        self.running = False
        now = monotonic()
        self._last_mono, self._last_wall = now, wall()
        self._last_end = now          # the last sync's end (polls count from there)
        self._last_full = now
        self._upload_at: float | None = None
        self._asked: str | None = None    # a reason to sync at once
        self._offline = False
        self._failures = 0                # offline attempts in a row
        self.resumes = 0                  # resumes from sleep seen (for the log and the tests)

    # -- what happened ------------------------------------------------------------------------
    def set_intervals(self, intervals: Intervals) -> None:
        self.intervals = intervals.bounded()

    def set_active(self, active: bool) -> None:
        """The window came to the front (polls count from the last sync, so one is due at once
        if the background interval kept it waiting longer than the active one) or went back."""
        self.active = bool(active)

    def set_on_battery(self, on_battery: bool) -> None:
        self.on_battery = bool(on_battery)

    def local_write(self) -> None:
        """The student saved something that must reach S3. Coalesced: the first write of a
        burst sets the time; later ones join it (a burst never postpones its first upload)."""
        if self._upload_at is None:
            self._upload_at = self._mono() + self.intervals.upload_delay

    def request(self, reason: str) -> None:
        """Sync at once (start, the student's "Sync now", the network changed, signed in)."""
        if self._asked is None or reason == "user":
            self._asked = reason

    def network_changed(self, online: bool) -> None:
        if online:
            self._offline = False
            self._failures = 0
            self.request("network")

    def went_offline(self) -> None:
        """Another part (the coach) met the network down: retry on the offline schedule."""
        if not self._offline:
            self._offline, self._failures = True, 1
            self._last_end = self._mono()

    # -- the sync's life ------------------------------------------------------------------------
    def tick(self) -> Due | None:
        """Called by the driver's timer and after every event: the sync due now, if any (it is
        then counted as running until :meth:`finished`)."""
        now, wall = self._mono(), self._wall()
        if (wall - self._last_wall) - (now - self._last_mono) > RESUME_JUMP:
            self.resumes += 1
            self.request("resume")
        self._last_mono, self._last_wall = now, wall
        if self.running:
            return None
        due = self._due(now)
        if due is not None:
            self.running = True
            self._asked = None
            if due.kind == FULL:
                # whatever this sync covers is no longer waiting
                self._upload_at = None
        return due

    def finished(self, *, ok: bool = True, offline: bool = False, full: bool = True) -> None:
        """The sync ended. ``full``: it listed everything (a probe that found nothing did not)."""
        now = self._mono()
        self.running = False
        self._last_end = now
        if full and ok:
            self._last_full = now
        if offline:
            self._offline = True
            self._failures += 1
        else:
            self._offline, self._failures = False, 0

    # -- what is due --------------------------------------------------------------------------
    @property
    def poll_interval(self) -> float:
        iv = self.intervals
        if self.active and not self.on_battery:
            return iv.active
        if self.active:
            return iv.battery
        return max(iv.background, iv.battery) if self.on_battery else iv.background

    def _retry_delay(self) -> float:
        iv = self.intervals
        return min(max(iv.offline_retry, self.poll_interval),
                   iv.offline_retry * 2 ** max(0, self._failures - 1))

    def next_at(self) -> float:
        """The monotonic time of the next sync due (nothing asked or written meanwhile)."""
        if self._asked is not None:
            return self._last_mono
        if not self.polling and not self._offline:
            base = float("inf")
        else:
            base = self._last_end + (self._retry_delay() if self._offline else self.poll_interval)
        return min(base, self._upload_at) if self._upload_at is not None else base

    def seconds_until_next(self) -> float:
        """For the driver's timer: never longer than HEARTBEAT (to see a resume from sleep)."""
        if self.running:
            return HEARTBEAT
        return max(0.0, min(HEARTBEAT, self.next_at() - self._mono()))

    def _due(self, now: float) -> Due | None:
        if self._asked is not None:
            return Due(self._asked, FULL)
        if self._upload_at is not None and self._upload_at <= now:
            return Due("upload", FULL)
        if self._offline:
            if now >= self._last_end + self._retry_delay():
                return Due("offline-retry", FULL)
            return None
        if self.polling and now >= self._last_end + self.poll_interval:
            full = now - self._last_full >= self.intervals.full
            return Due("poll", FULL if full else PROBE)
        return None
