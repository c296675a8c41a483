"""The account's steps outside the main window: sign in (again), sign out, the profile form,
and :class:`AccountActions`, the window's account and settings commands (issue 17 point 6).

Both the start-up (:mod:`archpal_desktop.ui.app`) and the window's menus use these; the window
imports this module, never ``ui.app`` (which imports the window): no import circle.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Signal
from PySide6.QtWidgets import QWidget

from archpal_desktop.core.errors import map_exception
from archpal_desktop.ui import plain
from archpal_desktop.ui.state import AppState
from archpal_desktop.ui.tasks import TaskManager


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


def show_sign_in(session, settings, tasks, parent=None, email: str = "") -> bool:
    """The sign-in dialog (ui/auth_dialog.py); True when signed in."""
    from archpal_desktop.ui.auth_dialog import AuthDialog
    dlg = AuthDialog(settings, session=session, tasks=tasks, parent=parent, email=email)
    return run_modal(dlg) and bool(session.signed_in or session.offline_only)


def run_modal(dialog) -> bool:
    """exec() a dialog, then hand it to Qt to delete once its last queued events (worker
    results) are handled: PySide gives ownership to C++ on deleteLater. Dropping the Python
    wrapper instead deleted it at once, under events still in flight ("shared QObject was
    deleted directly", then a heap corruption at exit)."""
    try:
        return bool(dialog.exec())
    finally:
        dialog.deleteLater()


def sign_out_from_profile(state: AppState) -> None:
    """The student chose "Sign out" on the first-run profile form."""
    try:
        wait_for(state.tasks, lambda: state.auth.sign_out(global_=True, remove_data=False))
    except Exception as exc:  # signing out locally always works; say what did not
        plain.warning(None, f"Signed out on this computer only.\n\n{map_exception(exc)}")


def edit_profile(state: AppState, parent=None) -> None:
    from archpal_desktop.ui.profile_form import ProfileForm
    form = ProfileForm(state.store, email=state.email, profile=state.store.get_profile(),
                       tasks=state.tasks, parent=parent)
    run_modal(form)


def sign_in_again(state: AppState, parent=None) -> bool:
    if state.auth is None:
        plain.information(parent, "This window uses fixed credentials; there is "
                                "nothing to sign in to. Check the settings instead.")
        return False
    return show_sign_in(state.auth, state.settings, state.tasks, parent, email=state.email)


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


class AccountActions(QObject):
    """Edit profile, Settings, Sign in again, Sign out, About and Keyboard shortcuts, for the
    window's menus, its status bar and the coach's error card. ``window`` is the dialogs' parent;
    ``sync`` (the window's SyncController) syncs after a new sign-in and takes a new interval."""
    signed_out = Signal()    # the window closes

    def __init__(self, state: AppState, sync, window: QWidget):
        super().__init__(window)
        self.state = state
        self.sync = sync
        self.window = window

    def show_shortcuts(self) -> None:
        from archpal_desktop.ui.shortcuts import ShortcutsDialog
        ShortcutsDialog(self.window).exec()

    def show_about(self) -> None:
        from archpal_desktop.ui.dialogs import AboutDialog
        AboutDialog(self.state, self.window).exec()

    def settings_dialog(self):
        from archpal_desktop.ui.settings_dialog import SettingsDialog
        dlg = SettingsDialog(self.state, self.window)
        dlg.applied.connect(self._settings_applied)
        return dlg

    def open_settings(self) -> None:
        self.settings_dialog().exec()

    def _settings_applied(self) -> None:
        from archpal_desktop.core import config as cfg
        s = self.state.settings
        if self.state.theme is not None:
            self.state.theme.set_font_size(int(s[cfg.FONT_SIZE] or 0))
            self.state.theme.set_mode(str(s[cfg.THEME]))
        self.sync.set_interval(int(s[cfg.SYNC_INTERVAL_SECONDS] or 120))

    def edit_profile(self) -> None:
        edit_profile(self.state, self.window)

    def sign_in_again(self) -> None:
        if sign_in_again(self.state, self.window):
            self.sync.sync_now("signed-in")

    def sign_out(self) -> None:
        if sign_out(self.state, self.window):
            self.signed_out.emit()
