"""The app as the AT-SPI tests run it: ``archpal-desktop --demo`` as a new student meets it.

The real ``run_app`` on the embedded demo backend, with two differences from ``--demo`` that put
every screen in the walk: the demo account is not signed in automatically (so the sign-in dialog
shows, as on a first start) and its seeded profile is removed (so the profile form shows, as for a
student new to ArchPal). SIGUSR1 makes the network drop (a proxy in front of the demo's S3
and Cognito refuses every connection), for the "going offline" announcement.
"""
from __future__ import annotations

import os
import signal
import sys


def _focus_new_windows_class():
    from PySide6.QtCore import QEvent, QObject, Qt, QTimer
    from PySide6.QtWidgets import QWidget

    class FocusNewWindows(QObject):
        """Xvfb has no window manager: give a newly shown window the keyboard, as one would."""

        def eventFilter(self, obj, event) -> bool:  # noqa: N802
            if isinstance(obj, QWidget) and obj.isWindow() \
                    and obj.windowType() in (Qt.WindowType.Window, Qt.WindowType.Dialog):
                if event.type() == QEvent.Type.Show:
                    QTimer.singleShot(50, obj, lambda: obj.isVisible() and obj.activateWindow())
                elif event.type() == QEvent.Type.Hide:   # a dialog closed: back to the window below
                    QTimer.singleShot(50, self, self._refocus)
            return False

        def _refocus(self) -> None:
            from PySide6.QtWidgets import QApplication
            top = QApplication.activeModalWidget() or next(
                (w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()
                 and w.windowType() == Qt.WindowType.Window), None)
            if top is not None:
                top.activateWindow()
    return FocusNewWindows


def main(data_dir: str) -> int:
    global _FocusNewWindows
    _FocusNewWindows = _focus_new_windows_class()
    import boto3
    from PySide6.QtCore import QTimer

    from archpal_desktop.cli import build_parser
    from archpal_desktop.cli.context import Context
    from archpal_desktop.localstack.proxy import FaultProxy
    from archpal_desktop.localstack.server import ENDPOINT_VARS
    from archpal_desktop.ui import app as ui_app

    ctx = Context(build_parser().parse_args(["--demo", "--data-dir", data_dir]))
    settings = ctx.settings            # starts the demo backend and seeds the account
    demo = ctx.demo
    boto3.client("s3", region_name="us-east-1").delete_object(
        Bucket=demo.bucket, Key=f"users/{demo.sub}/info.json")
    demo.email = ""                    # nobody signed in: the normal sign-in dialog opens
    assert settings is not None

    # the app reaches the demo's S3 and Cognito through a proxy that can refuse every
    # connection, which is how a dropped network looks to it
    proxy = FaultProxy(demo.moto.url, secret=demo.moto.secret).start()  # passes the run's secret on
    for name in ENDPOINT_VARS:
        os.environ[name] = proxy.url

    def go_offline(*_a) -> None:
        proxy.offline = True
    signal.signal(signal.SIGUSR1, go_offline)
    app = ui_app.make_app()
    wake = QTimer(app, interval=200)   # lets Python run its signal handler while Qt's loop waits
    wake.start()
    focus = _FocusNewWindows(app)
    app.installEventFilter(focus)
    print("ready", flush=True)
    try:
        return ui_app.run_app(ctx)
    finally:
        proxy.stop()
        ctx.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
