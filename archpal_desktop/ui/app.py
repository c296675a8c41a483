"""Opening the window: Qt application, theme, who is signed in, the cache, then the main window.

Order matters for a fast, offline start: a stored session (``AuthSession.restore``) needs no
network, so the last user's cache opens at once and the tokens renew in the sync worker. Only
when nobody is signed in does the sign-in dialog appear; with ``--demo`` the demo account
signs in through the same Cognito code path, on the local backend.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from archpal_desktop import APP_ID, APP_NAME, __version__
from archpal_desktop.core import config as cfg
from archpal_desktop.core.errors import ArchPalError, map_exception
from archpal_desktop.ui.state import AppState
from archpal_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("ArchPal")
    app.setDesktopFileName(APP_ID)
    from archpal_desktop.ui.companion import app_icon
    app.setWindowIcon(app_icon())
    return app


def wait_for(tasks: TaskManager, fn, *, parent: QWidget | None = None) -> Any:
    """Run ``fn`` in a worker while the event loop keeps running; return or raise its outcome."""
    loop = QEventLoop()
    box: dict[str, Any] = {}
    tasks.run_in_background(fn, lambda r: (box.setdefault("result", r), loop.quit()),
                            lambda e: (box.setdefault("error", e), loop.quit()))
    loop.exec()
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _cognito_configured(settings) -> bool:
    return bool(settings[cfg.COGNITO_USER_POOL_ID] and settings[cfg.COGNITO_CLIENT_ID])


def _show_sign_in(session, settings, tasks, parent=None) -> bool:
    """The auth engineer's dialog (ui/auth_dialog.py); True when signed in."""
    from archpal_desktop.ui import auth_dialog
    dlg_cls = getattr(auth_dialog, "SignInDialog", None) or getattr(auth_dialog, "AuthDialog")
    try:
        dlg = dlg_cls(session, parent=parent)
    except TypeError:
        dlg = dlg_cls(session, settings, parent=parent)
    return bool(dlg.exec()) and bool(session.signed_in)


def _need_profile(state: AppState, parent=None) -> bool:
    """First sign-in: the profile form (ui/profile_form.py); False if the student cancelled."""
    if state.store.get_profile():
        return True
    from archpal_desktop.ui import profile_form
    form_cls = getattr(profile_form, "ProfileForm", None) or getattr(profile_form, "ProfileDialog")
    try:
        form = form_cls(state.store, email=state.email, parent=parent)
    except TypeError:
        form = form_cls(state.store, parent=parent)
    return bool(form.exec())


def resolve_user(ctx, settings, tasks: TaskManager) -> tuple[str, str, Any, Any] | None:
    """(sub, email, access factory, auth session) for the person using the window, or None."""
    demo = getattr(ctx, "demo", None)
    if _cognito_configured(settings):
        from archpal_desktop.core.auth import AuthSession
        session = AuthSession(settings)
        if demo is not None and getattr(demo, "email", None):
            # the demo account signs in through the normal Cognito path, on the local backend
            result = wait_for(tasks, lambda: session.sign_in(demo.email, demo.password))
            if result is not session:
                raise ArchPalError("The demo account needs an extra sign-in step.",
                                   "Sign in from the window.")
        elif not session.restore():
            if not _show_sign_in(session, settings, tasks):
                return None
        return session.sub, session.email, session.access, session
    # no Cognito: an admin/dev setup with --user SUB and static credentials, or the demo's sub
    sub = ctx.current_sub()
    from archpal_desktop.core.aws import static_access
    return sub, "", (lambda: static_access(settings, sub)), None


def build_state(ctx, app: QApplication, tasks: TaskManager) -> AppState | None:
    from archpal_desktop.ui.theme import ThemeManager
    settings = ctx.settings
    theme = ThemeManager(app, str(settings[cfg.THEME]), int(settings[cfg.FONT_SIZE] or 0))
    who = resolve_user(ctx, settings, tasks)
    if who is None:
        return None
    sub, email, access, session = who
    store = ctx.open_store(sub)
    return AppState(settings=settings, store=store, tasks=tasks, sub=sub, email=email, access=access,
                    auth=session, theme=theme, demo=getattr(ctx, "demo", None))


def run_app(ctx) -> int:
    app = make_app()
    tasks = TaskManager(app)
    try:
        try:
            state = build_state(ctx, app, tasks)
        except ArchPalError as exc:
            QMessageBox.critical(None, APP_NAME, str(exc))
            return 1
        if state is None:
            return 0
        if state.auth is not None or state.demo is not None:
            try:
                if not _need_profile(state):
                    return 0
            except ModuleNotFoundError:
                log.warning("profile form not available")
        from archpal_desktop.ui.main_window import MainWindow
        window = MainWindow(state)
        window.show()
        return app.exec()
    finally:
        tasks.shutdown()


# -- actions the main window delegates here (sign-in lives outside the window) --------------------
def edit_profile(state: AppState, parent=None) -> None:
    try:
        from archpal_desktop.ui import profile_form
    except ModuleNotFoundError:
        QMessageBox.information(parent, APP_NAME, "The profile form is not available in this build.")
        return
    form_cls = getattr(profile_form, "ProfileForm", None) or getattr(profile_form, "ProfileDialog")
    try:
        form = form_cls(state.store, email=state.email, parent=parent)
    except TypeError:
        form = form_cls(state.store, parent=parent)
    form.exec()


def sign_in_again(state: AppState, parent=None) -> bool:
    if state.auth is None:
        QMessageBox.information(parent, APP_NAME, "This window uses fixed credentials; there is "
                                "nothing to sign in to. Check the settings instead.")
        return False
    try:
        return _show_sign_in(state.auth, state.settings, state.tasks, parent)
    except ModuleNotFoundError:
        return False


def sign_out(state: AppState, parent=None) -> bool:
    if state.auth is None:
        return False
    box = QMessageBox(QMessageBox.Icon.Question, "Sign out",
                      "Sign out of ArchPal on this computer?", parent=parent)
    keep = box.addButton("Sign out, keep my data here", QMessageBox.ButtonRole.AcceptRole)
    wipe = box.addButton("Sign out and remove my data from this computer",
                         QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    if clicked not in (keep, wipe):
        return False
    session = state.auth
    try:
        wait_for(state.tasks, lambda: session.sign_out(global_=True, remove_data=clicked is wipe))
    except Exception as exc:  # signing out locally always works; say what did not
        QMessageBox.warning(parent, APP_NAME, f"Signed out on this computer only.\n\n{map_exception(exc)}")
    return True
