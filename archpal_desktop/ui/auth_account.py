"""The sign-in dialog's account pages: create an account, confirm the e-mailed code, and choose
a new password after a forgotten one. Each page's work runs through the dialog's ``_run`` (the
network pool), and a finished step goes back to the sign-in page, signing in when it can."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from archpal_desktop.core import config as cfg
    from archpal_desktop.ui.auth_pages import Page


class AccountPagesMixin:
    """Mixed into AuthDialog: builds and drives the "sign_up", "confirm", "forgot" and "reset" pages."""

    # what AuthDialog provides (declared for the type checker)
    settings: cfg.Settings
    pages: dict[str, Page]

    if TYPE_CHECKING:
        def _page(self, name: str, title: str, intro: str) -> Page: ...
        def show_page(self, name: str, info: str = "") -> None: ...
        def _run(self, what: str, fn: Callable[[Any], Any], on_done: Callable[[Any], None]) -> None: ...
        def _check_email(self, page: Page) -> str | None: ...
        def _need(self, page: Page, key: str, message: str) -> str | None: ...
        def _same(self, page: Page, key: str) -> str | None: ...
        def _sign_in(self) -> None: ...

    def _build_account_pages(self, hint: str) -> None:
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
