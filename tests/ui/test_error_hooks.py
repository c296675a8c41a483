"""Nothing raised is lost (issue 17, point 7): an exception no one caught, in a Qt slot on the UI
thread or on another thread, is logged with its traceback and shown in words."""
from __future__ import annotations

import logging
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from archpal_desktop.ui.app import install_error_hooks


def _shown_boxes():
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


@pytest.mark.qt_no_exception_capture   # our hook, not pytest-qt's, receives the slot's exception
def test_an_exception_in_a_slot_is_logged_and_shown(qtbot, qapp, caplog):
    restore = install_error_hooks(qapp)
    try:
        with caplog.at_level(logging.ERROR, logger="archpal_desktop.unexpected"):
            QTimer.singleShot(0, lambda: {}["missing"])
            qtbot.waitUntil(lambda: bool(_shown_boxes()), timeout=5000)
        box = _shown_boxes()[0]
        # in words (issue 11: no class names in a message a student reads); the log has the type
        assert "Something went wrong" in box.text() and "KeyError" not in box.text()
        assert any("on the main thread" in r.getMessage() and r.exc_info and r.exc_info[0] is KeyError
                   for r in caplog.records)
        box.close()
    finally:
        restore()


def test_an_exception_on_another_thread_is_logged_and_shown(qtbot, qapp, caplog):
    restore = install_error_hooks(qapp)
    try:
        with caplog.at_level(logging.ERROR, logger="archpal_desktop.unexpected"):
            t = threading.Thread(target=lambda: 1 / 0, name="archpal-test-worker")
            t.start()
            t.join(10)
            qtbot.waitUntil(lambda: bool(_shown_boxes()), timeout=5000)
        box = _shown_boxes()[0]
        assert "division by zero" in box.text() and "ZeroDivisionError" not in box.text()
        assert any("in thread archpal-test-worker" in r.getMessage() and
                   (r.exc_info and r.exc_info[0] is ZeroDivisionError or "ZeroDivisionError" in r.getMessage())
                   for r in caplog.records)
        box.close()
    finally:
        restore()
