"""One signal for every committed cache write (after anki's ``operation_did_execute``).

The store announces what each committed write changed (core.cache.changes), on whichever
thread wrote it; :class:`ChangeBridge` carries that to the UI thread as ``changed`` and, for the
student's own writes, schedules their upload: one sync per burst of writes, UPLOAD_AFTER_MS
after the first (a message saved offline is tried at once too, not at the next timer tick).
The main window passes ``auto_upload=False``: its sync schedule (core/sync/schedule.py, driven
by ui/sync_driver.py) listens to ``changed`` and owns every upload (issue 19)."""
from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)

#: writes within this window go up in one sync
UPLOAD_AFTER_MS = 1500


class ChangeBridge(QObject):
    changed = Signal(object)      # core.cache.Changes, on the UI thread
    upload_due = Signal()         # the student's changes are waiting: sync now

    def __init__(self, store: Any, parent: QObject | None = None, *, auto_upload: bool = True,
                 upload_after_ms: int = UPLOAD_AFTER_MS):
        super().__init__(parent)
        self.auto_upload = auto_upload
        self._upload_timer = QTimer(self, singleShot=True, interval=upload_after_ms)
        self._upload_timer.setObjectName("upload-after-change")
        self._upload_timer.timeout.connect(self.upload_due)
        self.changed.connect(self._on_changed)
        unsubscribe = store.subscribe(self._from_any_thread)
        # the store outlives windows (a second window on the same account)
        self.destroyed.connect(lambda *_: unsubscribe())
        self._unsubscribe = unsubscribe

    def close(self) -> None:
        self._unsubscribe()
        self._upload_timer.stop()

    def _from_any_thread(self, changes: Any) -> None:
        # emitted on the writer's thread; Qt queues it to this object's (the UI) thread
        try:
            self.changed.emit(changes)
        except RuntimeError:  # this bridge was deleted while a worker wrote
            log.debug("change after the window closed: dropped")

    def _on_changed(self, changes: Any) -> None:
        if changes.upload and self.auto_upload and not self._upload_timer.isActive():
            self._upload_timer.start()
