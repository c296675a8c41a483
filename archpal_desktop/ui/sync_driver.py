"""The thin Qt side of the sync schedule (issue 19): feeds core.sync.schedule.Scheduler what
happens and starts the syncs it asks for through the window's SyncController.

What it listens to: the cache's change announcements (the student's own writes: upload soon),
the application's state (the window active or not), the power supply (read off the UI thread
every minute), the OS's network information (QNetworkInformation: reachability and transport
changes), the controller's end of each sync, and one single-shot timer armed to the next due
time, never more than HEARTBEAT away (a resume from sleep shows as a wall-clock jump there).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from archpal_desktop.core.errors import OfflineError
from archpal_desktop.core.sync import power
from archpal_desktop.core.sync.schedule import FULL, PROBE, Intervals, Scheduler

log = logging.getLogger(__name__)

POWER_EVERY_MS = 60_000
# the clocks the schedule reads (a test puts a fake clock here before the window is built)
MONOTONIC: Callable[[], float] = time.monotonic
WALL: Callable[[], float] = time.time
#: a test's shorter tick (ms); None: the schedule's own (at most HEARTBEAT)
TICK_MS: int | None = None


class SyncDriver(QObject):
    def __init__(self, controller: Any, changes: Any, settings: Any, tasks: Any,
                 parent: QObject | None = None, *, poll: bool = True,
                 monotonic: Callable[[], float] | None = None, wall: Callable[[], float] | None = None,
                 read_power: Callable[[], bool] | None = None, heartbeat_ms: int | None = None):
        super().__init__(parent)
        self.controller = controller
        self._settings = settings
        self._tasks = tasks
        self._read_power = read_power or power.on_battery
        self._heartbeat_ms = heartbeat_ms if heartbeat_ms is not None else TICK_MS
        app = QGuiApplication.instance()
        self.scheduler = Scheduler(Intervals.from_settings(settings), monotonic=monotonic or MONOTONIC,
                                   wall=wall or WALL, active=self._window_active(), polling=poll)
        self.last_due = None       # the last sync started: (reason, kind), for the log and tests
        self._probing = False
        self._timer = QTimer(self, singleShot=True)
        self._timer.setObjectName("sync-schedule")
        self._timer.timeout.connect(self.pump)
        self._power_timer = QTimer(self, interval=POWER_EVERY_MS)
        self._power_timer.setObjectName("sync-power")
        self._power_timer.timeout.connect(self._check_power)
        controller.timer.stop()
        controller.retry_timer.stop()
        controller.driver = self
        controller.sync_finished.connect(self._finished)
        controller.sync_failed.connect(self._failed)
        changes.changed.connect(self._changed)
        if app is not None:
            app.applicationStateChanged.connect(self._app_state)
        if parent is not None:   # the window (or one of its dialogs) active, or not
            parent.installEventFilter(self)
        QTimer.singleShot(0, self, self._watch_network)
        self._power_timer.start()
        QTimer.singleShot(0, self, self._check_power)
        self._arm()

    # -- inputs ---------------------------------------------------------------------------------
    def request(self, reason: str) -> None:
        """Sync at once (start, "Sync now", signed in, the network back); one after a running one."""
        self.scheduler.request(reason)
        self.pump()

    def went_offline(self) -> None:
        self.scheduler.went_offline()
        self._arm()

    def settings_changed(self) -> None:
        self.scheduler.set_intervals(Intervals.from_settings(self._settings))
        self._arm()

    def _changed(self, changes: Any) -> None:
        if getattr(changes, "upload", False):
            self.scheduler.local_write()
            self._arm()

    def _window_active(self) -> bool:
        """The window, or a dialog of it, is the active window of an active application."""
        if QGuiApplication.applicationState() != Qt.ApplicationState.ApplicationActive:
            return False
        window, w = self.parent(), QApplication.activeWindow()
        while w is not None:
            if w is window:
                return True
            w = w.parentWidget()
        return False

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.WindowActivate, QEvent.Type.WindowDeactivate):
            QTimer.singleShot(0, self, self._app_state)   # once Qt has moved the activation
        return False

    def _app_state(self, *_state: Any) -> None:
        active = self._window_active()
        if active != self.scheduler.active:
            log.info("sync: window %s", "active" if active else "in the background")
            self.scheduler.set_active(active)
            self.pump()

    def _check_power(self) -> None:
        read = self._read_power
        self._tasks.run_in_background(lambda: read(), self._power_read, lambda exc: None)

    def _power_read(self, on_battery: bool) -> None:
        if bool(on_battery) != self.scheduler.on_battery:
            log.info("sync: %s", "on battery" if on_battery else "on mains")
            self.scheduler.set_on_battery(bool(on_battery))
            self._arm()

    def _watch_network(self) -> None:
        try:
            from PySide6.QtNetwork import QNetworkInformation
            if QNetworkInformation.loadDefaultBackend() and QNetworkInformation.instance():
                info = QNetworkInformation.instance()
                info.reachabilityChanged.connect(self._reachability)
                info.transportMediumChanged.connect(lambda *_: self._network_changed(True))
        except Exception:  # no backend here: offline retries and resume checks cover it
            log.debug("no network information backend", exc_info=True)

    def _reachability(self, reachability: Any) -> None:
        from PySide6.QtNetwork import QNetworkInformation
        self._network_changed(reachability != QNetworkInformation.Reachability.Disconnected)

    def _network_changed(self, online: bool) -> None:
        self.scheduler.network_changed(online)
        self.pump()

    # -- the syncs ------------------------------------------------------------------------------
    def pump(self) -> None:
        """Start the sync that is due, if any, and re-arm the timer."""
        if self.controller.running:
            self._arm()
            return
        due = self.scheduler.tick()
        if due is not None:
            self.last_due = due
            self._probing = due.kind == PROBE
            log.info("sync (%s, %s)", due.reason, due.kind)
            self.controller.start(due.reason, probe=due.kind == PROBE)
            if not self.controller.running:   # it could not start (no worker): try again later
                self.scheduler.finished(ok=False)
        self._arm()

    def _finished(self, result: Any) -> None:
        # a probe that found the index unchanged did not list anything
        listed = not self._probing or bool((getattr(result, "requests", {}) or {}).get("list"))
        self.scheduler.finished(ok=not getattr(result, "errors", None), full=listed)
        self.pump()

    def _failed(self, err: Any) -> None:
        self.scheduler.finished(ok=False, offline=isinstance(err, OfflineError))
        self.pump()

    def _arm(self) -> None:
        ms = int(self.scheduler.seconds_until_next() * 1000)
        if self._heartbeat_ms is not None:
            ms = min(ms, self._heartbeat_ms)
        self._timer.start(max(0, ms))

    def stop(self) -> None:
        self._timer.stop()
        self._power_timer.stop()
        app = QGuiApplication.instance()
        if app is not None:
            try:
                app.applicationStateChanged.disconnect(self._app_state)
            except (RuntimeError, TypeError):
                pass


__all__ = ["SyncDriver", "FULL", "PROBE"]
