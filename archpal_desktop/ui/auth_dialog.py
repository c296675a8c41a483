"""The sign-in dialog: sign in, create an account, confirm the e-mailed code, forgot password,
choose a new password, and the authenticator (MFA) step — one window, keyboard-friendly.

Every Cognito call runs on the task runner's network pool (ui.tasks); the dialog shows a busy
state meanwhile and never blocks. Errors appear inline under the field they concern, or under
the page's title when they concern no field. On success ``signed_in(AuthSession)`` is emitted
and the dialog is accepted.

Where the site signs in on its own page (``sign_in`` "browser" or "both", ui/auth_browser.py),
the first page is "Sign in with your university" and the browser does the rest. With no secure
keyring, an offline start can open the last user's saved work. The form building block lives in
ui/auth_pages.py; the account pages (create, confirm, forgotten password) ui/auth_account.py;
the sign-out dialog is ui/auth_sign_out.py.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog, QLabel, QLineEdit, QProgressBar, QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth import (
    AuthInputError, AuthSession, Challenge, NotConfirmedError, check_email,
)
from archpal_desktop.core.auth import accounts
from archpal_desktop.core.auth.browser import sign_in_mode
from archpal_desktop.core.errors import ArchPalError, map_exception
from archpal_desktop.ui import plain
from archpal_desktop.ui.auth_account import AccountPagesMixin
from archpal_desktop.ui.auth_browser import BrowserPagesMixin
from archpal_desktop.ui.auth_pages import Page as _Page
from archpal_desktop.ui import a11y
from archpal_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)


class AuthDialog(QDialog, BrowserPagesMixin, AccountPagesMixin):
    signed_in = Signal(object)  # the AuthSession

    def __init__(self, settings: cfg.Settings, session: AuthSession | None = None,
                 tasks: TaskManager | None = None, parent: QWidget | None = None, email: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Sign in to ArchPal")
        self.setObjectName("auth_dialog")
        self.settings = settings
        self.session = session
        self.tasks = tasks or TaskManager(self)
        self.challenge: Challenge | None = None
        self.busy = False
        self.mode = sign_in_mode(settings)
        self._build()
        if email:
            self.pages["sign_in"].fields["email"].setText(email)
        self.show_page("browser" if self.mode == "browser" else "sign_in")
        self._show_notice()
        self._offer_offline()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        domains = [d.lstrip("@") for d in self.settings[cfg.ALLOWED_EMAIL_DOMAINS] or []]
        hint = f"name@{domains[0]}" if domains else "name@university.edu"
        self.notice = plain.label(QLabel())
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background: #fff4ce; color: #3b2f00; padding: 6px; border-radius: 4px;")
        self.notice.hide()
        self.stack = QStackedWidget()
        self.pages: dict[str, _Page] = {}

        p = self._page("sign_in", "Sign in", "Use your university account.")
        p.add_field("email", "E-mail", placeholder=hint)
        p.add_field("password", "Password", secret=True)
        p.add_primary("Sign in").clicked.connect(self._sign_in)
        p.add_link("Create an account", "to_sign_up").clicked.connect(lambda: self.show_page("sign_up"))
        p.add_link("Forgot password?", "to_forgot").clicked.connect(lambda: self.show_page("forgot"))
        if self.mode == "both":
            p.add_link("Sign in on your university's page instead", "to_browser",
                       own_row=True).clicked.connect(
                lambda: self.show_page("browser"))
        if self.mode in ("browser", "both"):
            self._build_browser_pages(self.mode)

        self._build_account_pages(hint)

        p = self._page("new_password", "Choose your own password",
                       "Your account was created with a temporary password. Choose your own to continue.")
        p.add_field("new_password", "New password", secret=True)
        p.add_field("repeat", "New password again", secret=True)
        p.add_primary("Continue").clicked.connect(self._answer_new_password)

        p = self._page("mfa", "Two-step sign-in", "Enter the 6-digit code from your authenticator app.")
        p.add_field("code", "Code", placeholder="123456")
        p.add_primary("Verify").clicked.connect(self._answer_mfa)
        p.add_link("Back to sign in", "to_sign_in").clicked.connect(lambda: self.show_page("sign_in"))

        for page in self.pages.values():
            for edit in page.fields.values():
                edit.returnPressed.connect(lambda pg=page: pg.primary and pg.primary.click())
        self.progress = QProgressBar()
        self.progress.setObjectName("busy")
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        self.status = plain.label(QLabel())
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.hide()

        self.offline_box = QWidget()
        self.offline_box.setObjectName("offline_box")
        box = QVBoxLayout(self.offline_box)
        box.setContentsMargins(0, 6, 0, 0)
        self.offline_text = QLabel()
        self.offline_text.setObjectName("offline_text")
        self.offline_text.setWordWrap(True)
        self.offline_text.setTextFormat(Qt.PlainText)
        box.addWidget(self.offline_text)
        self.offline_button = QPushButton("Open my conversations on this computer")
        self.offline_button.setObjectName("open_offline")
        self.offline_button.setAutoDefault(False)
        self.offline_button.clicked.connect(self._open_offline)
        box.addWidget(self.offline_button, 0, Qt.AlignLeft)
        self.offline_box.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.status)
        layout.addWidget(self.stack)
        layout.addWidget(self.progress)
        layout.addWidget(self.offline_box)
        self.setMinimumWidth(440)

    def _page(self, name: str, title: str, intro: str) -> _Page:
        page = _Page(name, title, intro)
        self.pages[name] = page
        self.stack.addWidget(page)
        return page

    # -- page state ---------------------------------------------------------------------------
    @property
    def page(self) -> _Page:
        return self.stack.currentWidget()  # type: ignore[return-value]

    def show_page(self, name: str, info: str = "") -> None:
        page = self.pages[name]
        prev = self.stack.currentWidget()
        current_email = prev.value("email").strip() if isinstance(prev, _Page) and "email" in prev.fields else ""
        self.stack.setCurrentWidget(page)
        page.clear_errors()
        if "email" in page.fields and current_email and not page.value("email"):
            page.fields["email"].setText(current_email)
        if page.primary:
            page.primary.setDefault(True)
        self.status.setText(info)
        self.status.setVisible(bool(info))
        first_empty = next((e for e in page.fields.values() if not e.text()), None)
        target = first_empty or next(iter(page.fields.values()), None) or page.primary
        if target is not None:
            target.setFocus()

    def _show_notice(self) -> None:
        text = self.session.notice if self.session else ""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def _offer_offline(self) -> None:
        """Issue 11, broken 5: with no secure keyring nothing is remembered between runs, so an
        offline start would lock the student out of their own saved work. When the last user's
        cache is on this computer, offer to open it; sync and the coach wait for a sign-in."""
        if self.session is None or self.session.keystore.secure:
            return
        data_dir = self.settings.data_dir()
        sub = accounts.last_user(data_dir) or ""
        info = accounts.user_info(data_dir, sub) if sub else {}
        if not sub or not accounts.has_cache(data_dir, sub) or \
                info.get("pool") not in (None, self.settings[cfg.COGNITO_USER_POOL_ID]):
            return
        who = str(info.get("email") or "your account")
        self.offline_text.setText(
            f"Can't sign in right now? The conversations of {who} are saved on this computer. "
            "You can open them and keep writing; syncing and the coach wait until you sign in.")
        self.offline_box.show()

    def _open_offline(self) -> None:
        def opened(ok) -> None:
            if not ok:
                self.page.set_error("", "The conversations saved on this computer could not be "
                                        "opened. Sign in to continue.")
                self.offline_box.hide()
                return
            self.signed_in.emit(self.session)
            self.accept()

        self._run("Opening your conversations…", lambda s: s.open_offline(), opened)

    def done(self, result: int) -> None:
        self._end_browser_attempt()
        super().done(result)

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        for page in self.pages.values():
            page.setEnabled(not busy)
        self.progress.setVisible(busy)
        if busy:
            self.status.setText(text)
            self.status.setVisible(bool(text))
            self.setCursor(Qt.BusyCursor)
        else:
            self.unsetCursor()

    # -- running work ---------------------------------------------------------------------
    def _run(self, what: str, fn, on_done) -> None:
        """Run ``fn(session)`` on the network pool; route its result or error back here."""
        if self.busy:
            return
        page = self.page
        page.clear_errors()
        self.set_busy(True, what)

        def work():
            if self.session is None:
                # building the boto3 client reads its models from disk: not on the UI thread
                self.session = AuthSession(self.settings)
            return fn(self.session)

        def done(result) -> None:
            self.set_busy(False)
            self.status.hide()
            self._show_notice()
            on_done(result)

        def failed(exc: BaseException) -> None:
            self.set_busy(False)
            self.status.hide()
            self._show_error(page, exc)

        self.tasks.run_in_background(work, done, failed)

    def _show_error(self, page: _Page, exc: BaseException) -> None:
        err = exc if isinstance(exc, ArchPalError) else map_exception(exc)
        if not isinstance(exc, ArchPalError):
            log.error("sign-in step failed", exc_info=(type(exc), exc, exc.__traceback__))
        if isinstance(err, NotConfirmedError) and page.name == "sign_in":
            self.show_page("confirm")
            self.pages["confirm"].set_error("", str(err))
            return
        field = getattr(err, "field", "")
        if field and field in page.fields:
            page.set_error(field, str(err))
            page.fields[field].setFocus()
            page.fields[field].selectAll()
        else:
            page.set_error("", str(err))

    def _check_email(self, page: _Page) -> str | None:
        try:
            return check_email(self.settings, page.value("email"))
        except AuthInputError as exc:
            page.set_error("email", str(exc))
            page.fields["email"].setFocus()
            return None

    def _need(self, page: _Page, key: str, message: str) -> str | None:
        text = page.value(key)
        if not text.strip():
            page.set_error(key, message)
            page.fields[key].setFocus()
            return None
        return text

    def _same(self, page: _Page, key: str) -> str | None:
        first = self._need(page, key, "Enter a password.")
        if first is None:
            return None
        if page.value("repeat") != first:
            page.set_error("repeat", "The two passwords are not the same.")
            page.fields["repeat"].setFocus()
            return None
        return first

    # -- actions --------------------------------------------------------------------------
    def _sign_in(self) -> None:
        page = self.pages["sign_in"]
        page.clear_errors()
        email = self._check_email(page)
        password = self._need(page, "password", "Enter your password.") if email else None
        if email and password:
            self._run("Signing in…", lambda s: s.sign_in(email, password), self._after_sign_in)

    def _after_sign_in(self, result) -> None:
        if isinstance(result, Challenge):
            self.challenge = result
            if result.name == "NEW_PASSWORD_REQUIRED":
                self.show_page("new_password")
            else:
                mfa = self.pages["mfa"]
                if result.name == "MFA_SETUP":
                    mfa.intro.setText("Your account needs two-step sign-in. Add this key to an "
                                      f"authenticator app, then enter the 6-digit code it shows:\n\n"
                                      f"{result.secret_code}")
                elif result.name == "SMS_MFA":
                    mfa.intro.setText("Enter the 6-digit code we sent you by text message.")
                else:
                    mfa.intro.setText("Enter the 6-digit code from your authenticator app.")
                mfa.fields["code"].clear()
                self.show_page("mfa")
            return
        for page in self.pages.values():
            for edit in page.fields.values():
                if edit.echoMode() == QLineEdit.Password:
                    edit.clear()  # no password stays in a widget after sign-in
        self.signed_in.emit(self.session)
        self.accept()

    def _answer_new_password(self) -> None:
        page = self.pages["new_password"]
        page.clear_errors()
        password = self._same(page, "new_password")
        challenge = self.challenge
        if password and challenge:
            self._run("Saving your new password…", lambda s: s.answer_challenge(challenge, password),
                      self._after_sign_in)

    def _answer_mfa(self) -> None:
        page = self.pages["mfa"]
        page.clear_errors()
        code = self._need(page, "code", "Enter the 6-digit code.")
        challenge = self.challenge
        if code and challenge:
            self._run("Checking the code…", lambda s: s.answer_challenge(challenge, code),
                      self._after_sign_in)
