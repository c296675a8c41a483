"""The sign-in dialog: sign in, create an account, confirm the e-mailed code, forgot password,
choose a new password, and the authenticator (MFA) step — one window, keyboard-friendly.

Every Cognito call runs on the task runner's network pool (ui.tasks); the dialog shows a busy
state meanwhile and never blocks. Errors appear inline under the field they concern, or under
the page's title when they concern no field. On success ``signed_in(AuthSession)`` is emitted
and the dialog is accepted.

``SignOutDialog`` asks before signing out and offers to remove this user's local data.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
    QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth import (
    AuthInputError, AuthSession, Challenge, NotConfirmedError, check_email,
)
from archpal_desktop.core.errors import ArchPalError, map_exception
from archpal_desktop.ui import a11y
from archpal_desktop.ui.tasks import TaskManager

log = logging.getLogger(__name__)


class _Page(QWidget):
    """A titled form: fields with an error line under each, a page error, buttons."""

    def __init__(self, name: str, title: str, intro: str = ""):
        super().__init__()
        self.setObjectName(f"page_{name}")
        self.name = name
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        heading = QLabel(title)
        heading.setObjectName("title")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        heading.setFont(font)
        layout.addWidget(heading)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.intro.setObjectName(f"{name}_intro")
        self.intro.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.intro.setVisible(bool(intro))
        layout.addWidget(self.intro)
        self.page_error = self._error_label(f"{name}_error")
        layout.addWidget(self.page_error)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        layout.addLayout(self.form)
        self.buttons = QHBoxLayout()
        layout.addLayout(self.buttons)
        self.links = QHBoxLayout()
        layout.addLayout(self.links)
        layout.addStretch(1)
        self.primary: QPushButton | None = None

    @staticmethod
    def _error_label(name: str) -> QLabel:
        return a11y.error_label(name)   # themed colour, a mark, its words read as its text

    def add_field(self, key: str, label: str, *, secret: bool = False, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"{self.name}_{key}")
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(label)
        if secret:
            edit.setEchoMode(QLineEdit.Password)
        error = self._error_label(f"{self.name}_{key}_error")
        box = QVBoxLayout()
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(edit)
        box.addWidget(error)
        self.form.addRow(a11y.label_for(label, edit), box)
        a11y.mark_required(edit)
        self.fields[key] = edit
        self.errors[key] = error
        edit.textEdited.connect(lambda _t, k=key: self.set_error(k, ""))
        return edit

    def add_primary(self, text: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(f"{self.name}_submit")
        self.buttons.addStretch(1)
        self.buttons.addWidget(button)
        self.primary = button
        return button

    def add_link(self, text: str, name: str) -> QPushButton:
        link = QPushButton(text)
        link.setObjectName(f"{self.name}_{name}")
        link.setFlat(True)
        link.setAutoDefault(False)
        link.setCursor(Qt.PointingHandCursor)
        link.setStyleSheet("QPushButton { color: palette(link); text-decoration: underline; border: none; }"
                           "QPushButton:focus { border: 2px solid palette(highlight); }")  # a11y focus ring
        self.links.addWidget(link)
        return link

    def set_error(self, key: str, text: str) -> None:
        label = self.errors.get(key, self.page_error) if key else self.page_error
        a11y.set_field_error(self.fields.get(key) if key else None, label, text)
        if text and not key:
            a11y.announce(label, text, polite=False)

    def clear_errors(self) -> None:
        for key in list(self.errors) + [""]:
            self.set_error(key, "")

    def value(self, key: str) -> str:
        return self.fields[key].text()


class AuthDialog(QDialog):
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
        self._build()
        if email:
            self.pages["sign_in"].fields["email"].setText(email)
        self.show_page("sign_in")
        self._show_notice()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        domains = [d.lstrip("@") for d in self.settings[cfg.ALLOWED_EMAIL_DOMAINS] or []]
        hint = f"name@{domains[0]}" if domains else "name@university.edu"
        self.notice = QLabel()
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

        p = self._page("sign_up", "Create your account",
                       "Use your university e-mail address; we will e-mail you a code.")
        p.add_field("email", "E-mail", placeholder=hint)
        p.add_field("password", "Password", secret=True)
        p.add_field("repeat", "Password again", secret=True)
        p.add_primary("Create account").clicked.connect(self._sign_up)
        p.add_link("I already have an account", "to_sign_in").clicked.connect(lambda: self.show_page("sign_in"))

        p = self._page("confirm", "Confirm your e-mail", "Enter the 6-digit code we e-mailed you.")
        p.add_field("code", "Code", placeholder="123456")
        p.add_primary("Confirm").clicked.connect(self._confirm)
        p.add_link("Send a new code", "resend").clicked.connect(self._resend)
        p.add_link("Back to sign in", "to_sign_in").clicked.connect(lambda: self.show_page("sign_in"))

        p = self._page("forgot", "Forgot your password?",
                       "We will e-mail you a code to choose a new password.")
        p.add_field("email", "E-mail", placeholder=hint)
        p.add_primary("Send code").clicked.connect(self._forgot)
        p.add_link("Back to sign in", "to_sign_in").clicked.connect(lambda: self.show_page("sign_in"))

        p = self._page("reset", "Choose a new password", "Enter the code we e-mailed you.")
        p.add_field("code", "Code", placeholder="123456")
        p.add_field("new_password", "New password", secret=True)
        p.add_field("repeat", "New password again", secret=True)
        p.add_primary("Save password").clicked.connect(self._reset)
        p.add_link("Back to sign in", "to_sign_in").clicked.connect(lambda: self.show_page("sign_in"))

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
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.status)
        layout.addWidget(self.stack)
        layout.addWidget(self.progress)
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
        (first_empty or next(iter(page.fields.values()))).setFocus()

    def _show_notice(self) -> None:
        text = self.session.notice if self.session else ""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

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

    def _sign_up(self) -> None:
        page = self.pages["sign_up"]
        page.clear_errors()
        email = self._check_email(page)
        password = self._same(page, "password") if email else None
        if email and password:
            self.pages["sign_in"].fields["email"].setText(email)
            self._run("Creating your account…", lambda s: s.sign_up(email, password),
                      lambda r: self._after_sign_up(email, r))

    def _after_sign_up(self, email: str, result) -> None:
        if result.confirmed:
            self._auto_sign_in(email, "Your account is ready.")
            return
        where = result.destination or email
        self.show_page("confirm", f"We sent a 6-digit code to {where}.")

    def _confirm(self) -> None:
        page = self.pages["confirm"]
        code = self._need(page, "code", "Enter the code from the e-mail.")
        email = self.pages["sign_in"].value("email").strip()
        if code:
            self._run("Confirming…", lambda s: s.confirm_sign_up(email, code),
                      lambda _r: self._auto_sign_in(email, "Your e-mail address is confirmed."))

    def _auto_sign_in(self, email: str, info: str) -> None:
        password = self.pages["sign_up"].value("password") or self.pages["sign_in"].value("password")
        self.pages["sign_in"].fields["email"].setText(email)
        self.show_page("sign_in", info + " Sign in to continue.")
        if password:
            self.pages["sign_in"].fields["password"].setText(password)
            self._sign_in()

    def _resend(self) -> None:
        email = self.pages["sign_in"].value("email").strip()
        self._run("Sending a new code…", lambda s: s.resend_code(email),
                  lambda _r: self.show_page("confirm", f"We sent a new code to {email}."))

    def _forgot(self) -> None:
        page = self.pages["forgot"]
        page.clear_errors()
        email = self._check_email(page)
        if email:
            self.pages["sign_in"].fields["email"].setText(email)
            self._run("Sending a code…", lambda s: s.forgot_password(email),
                      lambda _r: self.show_page("reset", f"We sent a code to {email}."))

    def _reset(self) -> None:
        page = self.pages["reset"]
        page.clear_errors()
        code = self._need(page, "code", "Enter the code from the e-mail.")
        password = self._same(page, "new_password") if code else None
        email = self.pages["sign_in"].value("email").strip()
        if code and password:
            def done(_r) -> None:
                self.pages["sign_in"].fields["password"].clear()
                self.show_page("sign_in", "Your password was changed. Sign in with the new one.")
            self._run("Saving your new password…",
                      lambda s: s.confirm_forgot_password(email, code, password), done)

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


class SignOutDialog(QDialog):
    """Sign out, optionally removing this user's cached conversations from this computer."""

    def __init__(self, email: str, pending_uploads: int = 0, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Sign out")
        self.setObjectName("sign_out_dialog")
        layout = QVBoxLayout(self)
        text = QLabel(f"Sign out {email} from ArchPal on this computer and your other devices?")
        text.setWordWrap(True)
        layout.addWidget(text)
        self.remove_data = QCheckBox("Also remove my conversations from this computer")
        self.remove_data.setObjectName("remove_data")
        layout.addWidget(self.remove_data)
        note = QLabel("They stay in your account online; only this computer's copy is deleted.")
        note.setWordWrap(True)
        note.setIndent(22)
        layout.addWidget(note)
        self.warning = QLabel(f"{pending_uploads} change(s) have not been uploaded yet and would be "
                              "lost. Go online and sync first to keep them." if pending_uploads else "")
        self.warning.setObjectName("remove_warning")
        self.warning.setWordWrap(True)
        self.warning.setProperty("a11yError", True)   # the theme's error colour (2.5:1 when fixed, dark)
        self.warning.hide()
        layout.addWidget(self.warning)
        def toggled(on: bool) -> None:
            self.warning.setVisible(on and bool(pending_uploads))
            self.resize(self.width(), self.sizeHint().height())  # room for the warning

        self.remove_data.toggled.connect(toggled)
        self.setMinimumWidth(460)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.ok = buttons.addButton("Sign out", QDialogButtonBox.AcceptRole)
        self.ok.setObjectName("sign_out")
        self.ok.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
