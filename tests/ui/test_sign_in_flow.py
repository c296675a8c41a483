"""First start on a new computer: the sign-in dialog, then the profile form, then the window —
driven by typing, against the embedded backend's Cognito and S3 over HTTP."""
from __future__ import annotations

import types

import boto3
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout
from archpal_desktop.localstack.demo import start_demo
from archpal_desktop.ui import app as ui_app
from archpal_desktop.ui.auth_dialog import AuthDialog
from archpal_desktop.ui.main_window import MainWindow
from archpal_desktop.ui.profile_form import ProfileForm
from archpal_desktop.ui.tasks import TaskManager


def test_sign_in_then_profile_then_window(qtbot, qapp, tmp_path):
    demo = start_demo(tmp_path / "demo", announce=False)
    tasks = TaskManager()
    w = None
    try:
        # a student with no profile yet: the web app's info.json is not there
        boto3.client("s3", region_name="us-east-1").delete_object(Bucket=demo.bucket,
                                                                  Key=layout.info_key(demo.sub))
        settings = cfg.load_settings(cli_overrides=demo.settings_overrides())
        seen = []

        def drive_modal():
            dlg = QApplication.activeModalWidget()
            if isinstance(dlg, AuthDialog) and "auth" not in seen:
                seen.append("auth")
                page = dlg.pages["sign_in"]
                qtbot.keyClicks(page.fields["email"], demo.email)
                qtbot.keyClicks(page.fields["password"], demo.password)
                qtbot.keyClick(page.fields["password"], Qt.Key.Key_Return)
            elif isinstance(dlg, ProfileForm) and "profile" not in seen:
                seen.append("profile")
                inputs = dlg.inputs
                qtbot.keyClicks(inputs["first_name"], "  Grace ")
                qtbot.keyClicks(inputs["last_name"], "Hopper")
                inputs["college_year"].setCurrentIndex(inputs["college_year"].findData("Second Year"))
                qtbot.keyClicks(inputs["major"], "Computer Science")
                qtbot.keyClicks(inputs["course_number"], "ENGL 1102")
                qtbot.keyClick(inputs["course_number"], Qt.Key.Key_Return)
        timer = QTimer()
        timer.timeout.connect(drive_modal)
        timer.start(50)
        ctx = types.SimpleNamespace(demo=None)   # a normal start: no demo shortcut
        sub, email, access, session = ui_app.resolve_user(ctx, settings, tasks)
        assert seen == ["auth"] and sub == demo.sub and session.verified
        from archpal_desktop.core.cache import Store
        store = Store.open_for_user(settings.data_dir(), sub)
        from archpal_desktop.ui.state import AppState
        state = AppState(settings=settings, store=store, tasks=tasks, sub=sub, email=email,
                         access=access, auth=session)
        assert ui_app._need_profile(state)
        timer.stop()
        assert seen == ["auth", "profile"]
        assert store.get_profile()["first_name"] == "Grace"       # trimmed, in the web format
        w = MainWindow(state)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitUntil(lambda: w.status.state.online is True and not w.sync.running, timeout=30000)
        # the profile went up to S3 in the web app's format
        body = boto3.client("s3", region_name="us-east-1").get_object(
            Bucket=demo.bucket, Key=layout.info_key(demo.sub))["Body"].read()
        assert layout.loads(body)["major"] == "Computer Science"
    finally:
        if w is not None:
            w.close()
        qtbot.waitUntil(lambda: not tasks.busy, timeout=20000)
        assert tasks.shutdown()
        if "store" in locals():
            store.close()
        demo.close()
