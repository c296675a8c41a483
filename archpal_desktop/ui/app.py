"""Opening the window: Qt application, theme, who is signed in, the cache, then the main window.

Order matters for a fast, offline start: a stored session (``AuthSession.restore``) needs no
network, so the last user's cache opens at once and the tokens renew in the sync worker. Only
when nobody is signed in does the sign-in dialog appear; with ``--demo`` the demo account
signs in through the same Cognito code path, on the local backend.
"""
from __future__ import annotations

import logging
import sys
from typing import Any, Callable

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from archpal_desktop import APP_ID, APP_NAME, __version__
from archpal_desktop.core import config as cfg
from archpal_desktop.core.errors import ArchPalError, map_exception
from archpal_desktop.ui import plain
from archpal_desktop.ui.state import AppState
from archpal_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)


#: how often a thread holding the GIL is asked to hand it over (Python's default is 5 ms).
#: With sync and reply threads busy, the UI thread can wait several of those in a row for
#: its turn; a shorter interval keeps painting and typing smooth for a small throughput cost.
GIL_SWITCH_INTERVAL = 0.001


def make_app(argv: list[str] | None = None) -> QApplication:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
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


def settle_memory() -> None:
    """Once the window is up: move everything loaded so far (modules, Qt wrappers, settings)
    out of the cycle collector's view (``gc.freeze``). A full collection then only walks what
    was made since, which keeps its pause short while a first sync parses hundreds of
    files; measured on the sync-stall benchmark it halves the longest UI stall."""
    import gc
    gc.collect()
    gc.freeze()


def _cognito_configured(settings) -> bool:
    return bool(settings[cfg.COGNITO_USER_POOL_ID] and settings[cfg.COGNITO_CLIENT_ID])


def _show_sign_in(session, settings, tasks, parent=None, email: str = "") -> bool:
    """The sign-in dialog (ui/auth_dialog.py); True when signed in."""
    from archpal_desktop.ui.auth_dialog import AuthDialog
    dlg = AuthDialog(settings, session=session, tasks=tasks, parent=parent, email=email)
    return _run_modal(dlg) and bool(session.signed_in or session.offline_only)


def _run_modal(dialog) -> bool:
    """exec() a dialog, then hand it to Qt to delete once its last queued events (worker
    results) are handled: PySide gives ownership to C++ on deleteLater. Dropping the Python
    wrapper instead deleted it at once, under events still in flight ("shared QObject was
    deleted directly", then a heap corruption at exit)."""
    try:
        return bool(dialog.exec())
    finally:
        dialog.deleteLater()


def _first_sync(state: AppState) -> None:
    """A returning user on a new computer: pull their profile before deciding on the form."""
    from archpal_desktop.core.sync import sync_once
    try:
        wait_for(state.tasks, lambda: sync_once(state.store, state.access(), state.settings))
    except Exception as exc:  # offline or refused: the form (or the window) still opens
        log.info("first sync before the profile failed: %s", map_exception(exc).code)


def _need_profile(state: AppState, parent=None) -> bool:
    """After the first sign-in: the profile form (ui/profile_form.py); False if cancelled."""
    if state.store.get_profile():
        return True
    if state.access is not None:
        _first_sync(state)
        if state.store.get_profile():
            return True
    from archpal_desktop.ui.profile_form import ProfileForm
    form = ProfileForm(state.store, email=state.email, tasks=state.tasks, parent=parent)
    return _run_modal(form)


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
    return sub, "", static_access_factory(settings, sub), None


def static_access_factory(settings, sub: str):
    """Access for the window's syncs with static keys: one boto3 session while the keys stay
    the same (botocore loads its models once per session, as the signed-in path does)."""
    from archpal_desktop.core.aws import static_access

    held: dict[str, Any] = {}

    def access():
        keys = tuple(settings[k] for k in (cfg.AWS_ACCESS_KEY_ID, cfg.AWS_SECRET_ACCESS_KEY,
                                           cfg.AWS_SESSION_TOKEN, cfg.AWS_REGION))
        if held.get("keys") != keys:
            held["keys"], held["access"] = keys, static_access(settings, sub)
        return held["access"]

    return access


def build_state(ctx, app: QApplication, tasks: TaskManager) -> AppState | None:
    from archpal_desktop.ui.theme import ThemeManager
    settings = ctx.settings
    theme = ThemeManager(app, settings.theme, settings.font_size)
    who = resolve_user(ctx, settings, tasks)
    if who is None:
        return None
    sub, email, access, session = who
    store = ctx.open_store(sub)
    return AppState(settings=settings, store=store, tasks=tasks, sub=sub, email=email, access=access,
                    auth=session, theme=theme)


class _ErrorReporter(QObject):
    """Shows an error raised anywhere, on the UI thread (core.errors.hooks routes it here)."""

    report = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.report.connect(self._show)
        self._open: list[QMessageBox] = []   # a parentless box lives while Python holds it

    def _show(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME,
                          f"Something went wrong: {text}\n\nYour work is saved; the details are in "
                          "the log file (Help > About).", parent=QApplication.activeWindow())
        box.setTextFormat(Qt.TextFormat.PlainText)
        self._open.append(box)
        box.finished.connect(lambda _r, b=box: self._open.remove(b) if b in self._open else None)
        box.open()   # not modal: an error must never stop the event loop


def install_error_hooks(app: QApplication) -> Callable[[], None]:
    from archpal_desktop.core.errors import hooks
    reporter = _ErrorReporter(app)
    put_back = hooks.install(reporter.report.emit)   # emit is safe from any thread

    def restore() -> None:   # holds the reporter (and its connection) until the hooks go
        put_back()
        reporter.deleteLater()
    return restore


def run_app(ctx) -> int:
    app = make_app()
    restore_hooks = install_error_hooks(app)
    tasks = TaskManager(app)
    try:
        try:
            state = build_state(ctx, app, tasks)
        except ArchPalError as exc:
            plain.critical(None, str(exc))
            return 1
        if state is None:
            return 0
        if state.auth is not None and not _need_profile(state):
            return 0
        from archpal_desktop.ui.main_window import MainWindow
        window = MainWindow(state)
        window.show()
        if state.settings.warnings:  # e.g. a settings file other users can write was ignored
            box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME,
                              "\n\n".join(state.settings.warnings), parent=window)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.open()
        QTimer.singleShot(0, window, settle_memory)
        return app.exec()
    finally:
        tasks.shutdown()
        restore_hooks()


# -- actions the main window delegates here (sign-in lives outside the window) --------------------
def edit_profile(state: AppState, parent=None) -> None:
    from archpal_desktop.ui.profile_form import ProfileForm
    form = ProfileForm(state.store, email=state.email, profile=state.store.get_profile(),
                       tasks=state.tasks, parent=parent)
    _run_modal(form)


def sign_in_again(state: AppState, parent=None) -> bool:
    if state.auth is None:
        plain.information(parent, "This window uses fixed credentials; there is "
                                "nothing to sign in to. Check the settings instead.")
        return False
    return _show_sign_in(state.auth, state.settings, state.tasks, parent, email=state.email)


def sign_out(state: AppState, parent=None) -> bool:
    if state.auth is None:
        return False
    from archpal_desktop.ui.auth_sign_out import SignOutDialog
    try:
        pending = state.store.pending_upload_count()
    except Exception:  # the count is a courtesy; signing out must still be possible
        pending = 0
    session = state.auth
    dlg = SignOutDialog(state.email or state.sub, pending, parent,
                        browser=getattr(session, "via", "") == "browser")
    accepted = bool(dlg.exec())
    remove = bool(dlg.remove_data.isChecked())
    end_browser = dlg.end_browser.isVisible() and dlg.end_browser.isChecked()
    dlg.deleteLater()
    if not accepted:
        return False
    try:
        from archpal_desktop.ui.auth_browser import end_browser_session
        if end_browser:  # the URL first: signing out forgets the session's provider
            end_browser_session(state.tasks, session)
        wait_for(state.tasks, lambda: session.sign_out(global_=True, remove_data=remove))
    except Exception as exc:  # signing out locally always works; say what did not
        plain.warning(parent, f"Signed out on this computer only.\n\n{map_exception(exc)}")
    return True
