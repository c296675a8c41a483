"""Sync the student can see: when it runs, and the status area that shows how it went.

:class:`SyncController` runs ``core.sync.sync_once`` in a worker on start, on a timer, when the
network comes back, and on demand; it never runs two at once (a request during a sync runs one
more afterwards). :class:`SyncStatus` shows online/offline, progress with counts, changes
waiting to upload, the last good sync and any error in words with the action to take.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from archpal_desktop.core.errors import (AccessDeniedError, ArchPalError, AuthError, BucketMissingError,
                                         ConfigError, OfflineError, RegionMismatchError, map_exception)
from archpal_desktop.ui import a11y, plain
from archpal_desktop.ui.sync_run import GuiSyncSettings, run_niced, settle_models_once
from archpal_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)

OFFLINE_RETRY_MS = 15_000
LAST_SYNC_KEY = "ui.last_good_sync"


@dataclass(frozen=True)
class SyncState:
    online: bool | None = None          # None: not known yet
    syncing: bool = False
    done: int = 0
    total: int = 0
    phase: str = ""
    pending: int = 0
    last_sync: float | None = None      # epoch seconds of the last sync with no error
    error: str = ""
    action: str = ""                    # "retry" | "sign-in" | "settings" | ""


def describe_last_sync(ts: float | None, now: float | None = None) -> str:
    if not ts:
        return "Never synced"
    now = now or time.time()
    age = max(0, now - ts)
    if age < 60:
        return "Synced just now"
    if age < 3600:
        return f"Synced {int(age // 60)} min ago"
    when = datetime.fromtimestamp(ts)
    if when.date() == datetime.now().date():
        return f"Synced at {when:%H:%M}"
    return f"Synced {when:%d %b %H:%M}"


def action_for(err: ArchPalError) -> str:
    if isinstance(err, OfflineError):
        return "retry"
    if isinstance(err, AuthError):
        return "sign-in"
    if isinstance(err, (ConfigError, BucketMissingError, RegionMismatchError, AccessDeniedError)):
        return "settings"
    return "retry"


class SyncController(QObject):
    state_changed = Signal(object)          # SyncState
    sync_finished = Signal(object)          # SyncResult
    sync_failed = Signal(object)            # the ArchPalError a sync ended with
    network_back = Signal()

    def __init__(self, tasks: TaskManager, store, settings, access: Callable[[], object],
                 parent: QObject | None = None, *, sync_fn: Callable | None = None):
        super().__init__(parent)
        self._tasks = tasks
        self._store = store
        self._settings = settings
        self._access = access
        if sync_fn is None:
            from archpal_desktop.core.sync import sync_once
            sync_fn = sync_once
        self._sync_fn = sync_fn
        last = store.kv_get(LAST_SYNC_KEY)
        self.state = SyncState(last_sync=float(last) if last else None)
        self._again = False
        self._task = None
        #: ui.sync_driver.SyncDriver once it owns the scheduling: sync_now() asks it, and this
        #: controller's own timers stay off (one scheduler; issue 19)
        self.driver = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.sync_now("timer"))
        self.set_interval(settings.sync_interval_seconds)
        self._latest_progress = None
        self._progress_timer = QTimer(self, singleShot=True, interval=50)
        self._progress_timer.timeout.connect(self._show_progress)
        self.retry_timer = QTimer(self, singleShot=True, interval=OFFLINE_RETRY_MS)
        self.retry_timer.timeout.connect(lambda: self.sync_now("offline-retry"))
        # asking the OS (D-Bus) costs a few ms: not before the window has painted
        QTimer.singleShot(0, self, self._watch_network)

    def set_interval(self, seconds: int) -> None:
        seconds = max(15, int(seconds))
        self.timer.setInterval(seconds * 1000)
        if self.driver is None:
            self.timer.start()
        else:
            self.driver.settings_changed()

    def _watch_network(self) -> None:
        """The OS tells us when the network returns (NetworkManager/glib); else we retry."""
        try:
            from PySide6.QtNetwork import QNetworkInformation
            if QNetworkInformation.loadDefaultBackend() and QNetworkInformation.instance():
                QNetworkInformation.instance().reachabilityChanged.connect(self._reachability)
        except Exception:  # no backend on this system: the offline retry timer covers it
            log.debug("no network information backend", exc_info=True)

    def _reachability(self, reachability) -> None:
        from PySide6.QtNetwork import QNetworkInformation
        if reachability == QNetworkInformation.Reachability.Online and self.state.online is False:
            self.network_back.emit()
            self.sync_now("network-back")

    def _set(self, **changes) -> None:
        self.state = replace(self.state, **changes)
        self.state_changed.emit(self.state)

    @property
    def running(self) -> bool:
        return self._task is not None and self._task.running

    def sync_now(self, reason: str = "user") -> None:
        if self.driver is not None:
            self.driver.request(reason)
            return
        self.start(reason)

    def start(self, reason: str = "user", *, probe: bool = False) -> None:
        """Run one sync now (the driver's call; ``probe``: a poll that HEADs the index first)."""
        if self.running:
            self._again = True
            return
        log.info("sync (%s)", reason)
        self.retry_timer.stop()
        if not probe:   # a poll shows "Syncing" only once it finds something to do
            self._set(syncing=True, done=0, total=0, phase="Connecting")
        store, access, sync_fn = self._store, self._access, self._sync_fn
        settings = GuiSyncSettings(self._settings)

        def work(report):
            # credentials may need the network (token renewal): never on the UI thread
            acc = access()
            extra = {"probe": True} if probe else {}
            return run_niced(lambda: sync_fn(store, acc, settings,
                                             progress=lambda d, t, p: report((d, t, p)),
                                             on_ready=lambda: settle_models_once(acc.session), **extra))

        self._task = self._tasks.run_in_background(work, self._done, self._failed, self._progress)

    def _progress(self, payload) -> None:
        # hundreds of reports a second in a first sync: show at most ~20 per second
        self._latest_progress = payload
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _show_progress(self) -> None:
        if self._latest_progress is None or not self.running:
            return
        done, total, phase = self._latest_progress
        self._set(syncing=True, done=int(done), total=int(total), phase=str(phase), online=True)

    def _done(self, result) -> None:
        self._task = None
        errors = list(getattr(result, "errors", []) or [])
        if errors:
            self._set(syncing=False, online=True, error=f"{len(errors)} item(s) could not be synced: "
                      f"{errors[0]}", action="retry")
        else:
            now = time.time()
            self._store_last(now)
            self._set(syncing=False, online=True, error="", action="", last_sync=now)
        self.sync_finished.emit(result)
        self._follow_up()

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        err = exc if isinstance(exc, ArchPalError) else map_exception(exc)
        log.info("sync failed: %s", err.code)
        offline = isinstance(err, OfflineError)
        # offline is said once, by the connection label; other errors in words with an action
        self._set(syncing=False, online=False if offline else self.state.online,
                  error="" if offline else str(err), action=action_for(err))
        if offline and self.driver is None:
            self.retry_timer.start()
        self.sync_failed.emit(err)
        self._follow_up()

    def _follow_up(self) -> None:
        self.refresh_pending()
        if self._again:
            self._again = False
            QTimer.singleShot(0, self, lambda: self.sync_now("queued"))

    def _store_last(self, ts: float) -> None:
        store = self._store
        self._tasks.run_db(lambda: store.kv_set(LAST_SYNC_KEY, ts))

    def refresh_pending(self) -> None:
        store = self._store
        self._tasks.run_db(store.pending_upload_count, lambda n: self._set(pending=int(n)))

    def mark_offline(self, err: ArchPalError) -> None:
        """Another part (the coach) met the network down: show it and retry on our timer."""
        self._set(online=False, error="", action=action_for(err))
        if self.driver is not None:
            self.driver.went_offline()
        elif not self.running:
            self.retry_timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.retry_timer.stop()
        if self.driver is not None:
            self.driver.stop()
        if self._task is not None:
            self._task.cancel()


class SyncStatus(QWidget):
    """The status area at the bottom of the window."""

    sync_requested = Signal()
    sign_in_requested = Signal()
    settings_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("Sync status")
        self.online = QLabel(self)
        a11y.value_label(self.online, "Connection")
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Sync progress")
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.detail = plain.label(QLabel(self))
        a11y.value_label(self.detail, "Sync details")
        self.pending = QLabel(self)
        a11y.value_label(self.pending, "Changes waiting to upload")
        self.last = QLabel(self)
        self.last.setObjectName("muted")
        a11y.value_label(self.last, "Last sync")
        self.error = plain.label(QLabel(self))  # server and S3 text: never markup
        self.error.setObjectName("statusError")
        a11y.value_label(self.error, "Sync problem")
        self.error.setWordWrap(False)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.coach = plain.label(QLabel(self))   # the coach's own state, apart from sync's
        self.coach.setObjectName("statusWarn")
        a11y.value_label(self.coach, "Coach")
        self.coach.hide()
        self.action = QPushButton(self)
        self.action.setAccessibleName("Fix the sync problem")
        self.action.hide()
        self.action.clicked.connect(self._act)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 8, 2)
        for w in (self.online, self.coach, self.progress, self.detail, self.pending, self.error):
            lay.addWidget(w)
        lay.addWidget(self.action)
        lay.addStretch(1)
        lay.addWidget(self.last)
        self._action = ""
        self.state = SyncState()
        self._tick = QTimer(self, interval=30_000)
        self._tick.timeout.connect(lambda: self.last.setText(describe_last_sync(self.state.last_sync)))
        self._tick.start()
        self.show_state(self.state)

    def show_state(self, s: SyncState) -> None:
        self.state = s
        if s.online is None:
            self.online.setText("● Connecting…")
        elif s.online:
            self.online.setText("● Online")
        else:
            self.online.setText("● Offline: working from this computer")
        self.online.setObjectName("statusOk" if s.online else ("statusWarn" if s.online is False else "muted"))
        self.online.style().unpolish(self.online)  # re-polish for the new object name
        self.online.style().polish(self.online)
        if s.syncing:
            self.progress.show()
            if s.total:
                self.progress.setRange(0, s.total)
                self.progress.setValue(min(s.done, s.total))
                self.progress.setFormat(f"{s.done} / {s.total}")
            else:
                self.progress.setRange(0, 0)
            self.detail.setText(f"Syncing… {s.phase}".strip())
            self.detail.show()
        else:
            self.progress.hide()
            self.detail.hide()
        if s.pending:
            self.pending.setText(f"{s.pending} change{'s' if s.pending != 1 else ''} waiting to upload")
            self.pending.show()
        else:
            self.pending.setText("All changes uploaded" if s.online and s.last_sync else "")
            self.pending.setVisible(bool(self.pending.text()))
        self.last.setText(describe_last_sync(s.last_sync))
        self.error.setText(s.error)
        self.error.setToolTip(plain.tip(s.error))
        self.error.setVisible(bool(s.error))
        self._action = s.action if (s.error or s.online is False) else ""
        labels = {"retry": "Try again", "sign-in": "Sign in…", "settings": "Open settings"}
        self.action.setText(labels.get(self._action, ""))
        self.action.setVisible(bool(self._action) and not s.syncing)
        self._announce(s)

    def set_coach(self, text: str) -> None:
        """The coach can't be reached (sync may still be online), or "" once it can."""
        self.coach.setText(f"· {text}" if text else "")
        self.coach.setToolTip(plain.tip(text))
        self.coach.setVisible(bool(text))
        if text:
            a11y.announce(self.coach, text)
        else:
            a11y.forget_announcement(self.coach)

    def _announce(self, s: SyncState) -> None:
        """Say what changed, politely: connection, syncing, the waiting count, a problem."""
        if s.online is not None:
            a11y.announce(self.online, self.online.text().lstrip("● "))
        if s.syncing:
            a11y.announce(self.detail, "Syncing")
        else:
            a11y.forget_announcement(self.detail)
        a11y.announce(self.pending, self.pending.text() if s.pending else "")
        if not s.pending:
            a11y.forget_announcement(self.pending)
        if s.error:
            a11y.announce(self.error, f"Sync problem: {s.error}")
        else:
            a11y.forget_announcement(self.error)

    def _act(self) -> None:
        if self._action == "sign-in":
            self.sign_in_requested.emit()
        elif self._action == "settings":
            self.settings_requested.emit()
        else:
            self.sync_requested.emit()
