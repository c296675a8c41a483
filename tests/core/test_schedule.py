"""The sync schedule's policy (issue 19) with a fake clock: uploads coalesced and scheduled by the
write, intervals by focus, battery and background, resume from sleep, offline back-off, never
two syncs at a time, and the admin's bounds from a site file."""
from __future__ import annotations

from pathlib import Path

from archpal_desktop.core import config as cfg
from archpal_desktop.core.sync import power
from archpal_desktop.core.sync.schedule import FULL, HEARTBEAT, PROBE, Intervals, Scheduler


class Clock:
    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = 1_700_000_000.0

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds

    def sleep_machine(self, seconds: float) -> None:
        """A suspended machine: the monotonic clock stands still, the wall clock does not."""
        self.wall += seconds


def make(**kw) -> tuple[Scheduler, Clock]:
    clock = Clock()
    return Scheduler(Intervals(**kw), monotonic=lambda: clock.mono, wall=lambda: clock.wall), clock


def run_until_due(s: Scheduler, clock: Clock, limit: float = 10_000, step: float = 0.25):
    waited = 0.0
    while waited <= limit:
        due = s.tick()
        if due is not None:
            return due, waited
        clock.advance(step)
        waited += step
    raise AssertionError("nothing came due")


def test_a_write_schedules_its_own_upload_and_a_burst_goes_up_once():
    s, clock = make()
    assert s.tick() is None
    s.local_write()
    clock.advance(0.4)
    s.local_write()            # a burst: joins the first write's upload, never postpones it
    clock.advance(0.4)
    s.local_write()
    assert s.tick() is None
    due, waited = run_until_due(s, clock)
    assert due.reason == "upload" and due.kind == FULL
    assert 0.1 <= waited <= 0.25        # 1 s after the *first* write, not after the last
    s.finished()
    clock.advance(5)
    assert s.tick() is None             # the burst went up in that one sync


def test_a_write_during_a_sync_runs_once_right_after_it_and_never_alongside():
    s, clock = make()
    s.request("user")
    assert s.tick().reason == "user"
    for _ in range(3):                  # writes and requests while it runs
        s.local_write()
        s.request("network")
        clock.advance(2)
        assert s.tick() is None, "a second sync while one runs"
    s.finished()
    due = s.tick()
    assert due is not None and due.kind == FULL
    assert s.tick() is None             # once, not once per request
    s.finished()
    clock.advance(1.5)
    assert s.tick() is None


def test_poll_intervals_follow_focus_battery_and_background():
    s, clock = make()
    s.finished()
    assert s.poll_interval == 12
    due, waited = run_until_due(s, clock)
    assert due.reason == "poll" and due.kind == PROBE and 11.5 <= waited <= 12.25
    s.finished(full=False)
    s.set_active(False)
    assert s.poll_interval == 300
    _, waited = run_until_due(s, clock)
    assert 299.5 <= waited <= 300.25
    s.finished(full=False)
    s.set_on_battery(True)
    assert s.poll_interval == 300            # the larger of background and battery
    s.set_active(True)
    assert s.poll_interval == 120            # active, on battery
    s.set_on_battery(False)
    clock.advance(30)
    # back in front after 30 s in the background: the active interval has passed, poll now
    assert s.tick().reason == "poll"


def test_the_window_coming_to_the_front_polls_at_once_after_a_long_background():
    s, clock = make()
    s.set_active(False)
    s.finished()
    clock.advance(100)
    assert s.tick() is None
    s.set_active(True)
    assert s.tick().reason == "poll"


def test_a_poll_is_a_probe_except_every_full_interval():
    s, clock = make(full=60)
    s.finished()
    kinds = []
    for _ in range(8):
        due, _ = run_until_due(s, clock)
        kinds.append(due.kind)
        s.finished(full=due.kind == FULL)
    assert kinds.count(FULL) >= 1 and kinds.count(PROBE) >= 5
    assert kinds[:4] == [PROBE] * 4          # 12, 24, 36, 48 s: probes; ~60 s: a full sync


def test_resume_from_sleep_syncs_at_once():
    s, clock = make()
    s.finished()
    clock.advance(HEARTBEAT)
    assert s.tick() is None
    clock.sleep_machine(3600)                # lid closed for an hour
    due = s.tick()
    assert due is not None and due.reason == "resume" and s.resumes == 1
    s.finished()
    clock.advance(HEARTBEAT)                 # an ordinary tick: no resume
    assert s.tick() is None and s.resumes == 1


def test_offline_retries_back_off_and_the_network_returning_syncs_at_once():
    s, clock = make()
    s.request("start")
    s.tick()
    s.finished(ok=False, offline=True)
    waits = []
    for _ in range(3):
        due, waited = run_until_due(s, clock)
        assert due.reason == "offline-retry"
        waits.append(waited)
        s.finished(ok=False, offline=True)
    assert waits[0] >= 11.5 and waits[1] > waits[0] * 0.9
    s.network_changed(True)
    assert s.tick().reason == "network"


def test_no_polls_when_polling_is_off_but_uploads_still_go():
    clock = Clock()
    s = Scheduler(Intervals(), monotonic=lambda: clock.mono, wall=lambda: clock.wall, polling=False)
    clock.advance(10_000)
    assert s.tick() is None
    s.local_write()
    due, _ = run_until_due(s, clock)
    assert due.reason == "upload"


def test_intervals_come_from_typed_settings_and_the_site_file_bounds_them(tmp_path, monkeypatch):
    site = tmp_path / "site.toml"
    site.write_text("[managed]\nsync_min_seconds = 30\nsync_max_seconds = 900\n")
    user = tmp_path / "user.toml"
    user.write_text("sync_active_seconds = 2\nsync_interval_seconds = 86400\nsync_min_seconds = 1\n")
    settings = cfg.load_settings(config_file=user, system_file=site, env={})
    assert settings.sync_active_seconds == 2            # what the student asked for...
    iv = Intervals.from_settings(settings)
    assert iv.active == 30 and iv.background == 900      # ...within the admin's locked bounds
    assert settings.sync_min_seconds == 30                # the student cannot lift the floor
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    defaults = Intervals.from_settings(cfg.load_settings(config_file=empty, system_file=empty, env={}))
    assert (defaults.active, defaults.battery, defaults.background, defaults.upload_delay) == \
        (12, 120, 300, 1.0)


def _supply(root: Path, name: str, **files: str) -> None:
    d = root / name
    d.mkdir(parents=True)
    for k, v in files.items():
        (d / k).write_text(v + "\n")


def test_battery_is_read_from_the_power_supply_class(tmp_path):
    assert power.on_battery_sysfs(tmp_path / "missing") is None
    desktop = tmp_path / "desktop"
    desktop.mkdir()
    assert power.on_battery(desktop) is False               # nothing there: mains
    laptop = tmp_path / "laptop"
    _supply(laptop, "AC", type="Mains", online="0")
    _supply(laptop, "BAT0", type="Battery", status="Discharging")
    _supply(laptop, "hidpp_battery_0", type="Battery", scope="Device", status="Discharging")
    assert power.on_battery(laptop) is True
    (laptop / "AC" / "online").write_text("1\n")
    (laptop / "BAT0" / "status").write_text("Charging\n")
    assert power.on_battery(laptop) is False
    mouse_only = tmp_path / "mouse"
    _supply(mouse_only, "hidpp_battery_0", type="Battery", scope="Device", status="Discharging")
    assert power.on_battery(mouse_only) is False            # a mouse's battery is not the machine's
