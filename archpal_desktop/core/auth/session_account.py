"""The account flows of :class:`~archpal_desktop.core.auth.session.AuthSession` that are not the
session itself: create an account and confirm it, recover a password, and, once signed in,
change it or add an authenticator app (MFA)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from archpal_desktop.core.auth.forms import SignUpResult, check_code, check_email, need
from archpal_desktop.core.errors.cognito import CodeError

if TYPE_CHECKING:
    from pycognito import Cognito

    from archpal_desktop.core import config as cfg


class AccountFlowsMixin:
    """Mixed into AuthSession; every call goes through its unsigned app client."""

    # what AuthSession provides (declared for the type checker)
    settings: cfg.Settings
    _client: Any

    if TYPE_CHECKING:
        def _pyc(self, username: str | None = None) -> Cognito: ...
        def _call(self, step: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
        def access_token(self) -> str: ...

    def sign_up(self, email: str, password: str) -> SignUpResult:
        email = check_email(self.settings, email)
        need(password, "a password", "password")
        cog = self._pyc()
        cog.set_base_attributes(email=email)
        resp = self._call("sign_up", cog.register, email, password)
        details = resp.get("CodeDeliveryDetails") or {}
        return SignUpResult(bool(resp.get("UserConfirmed")), str(details.get("Destination") or ""))

    def confirm_sign_up(self, email: str, code: str) -> None:
        email, code = check_email(self.settings, email), check_code(code)
        self._call("confirm_sign_up", self._pyc().confirm_sign_up, code, username=email)

    def resend_code(self, email: str) -> None:
        email = check_email(self.settings, email)
        self._call("resend_code", self._pyc().resend_confirmation_code, email)

    def forgot_password(self, email: str) -> None:
        email = check_email(self.settings, email)
        self._call("forgot_password", self._pyc(email).initiate_forgot_password)

    def confirm_forgot_password(self, email: str, code: str, new_password: str) -> None:
        email, code = check_email(self.settings, email), check_code(code)
        need(new_password, "a new password", "new_password")
        self._call("confirm_forgot_password", self._pyc(email).confirm_forgot_password, code,
                   new_password)

    def change_password(self, old_password: str, new_password: str) -> None:
        need(old_password, "your current password", "password")
        need(new_password, "a new password", "new_password")
        self._call("change_password", self._client.change_password,
                   PreviousPassword=old_password, ProposedPassword=new_password,
                   AccessToken=self.access_token())

    def setup_totp(self) -> str:
        """Optional MFA for a signed-in user: the secret to add to an authenticator app."""
        cog = self._pyc()
        cog.access_token = self.access_token()
        return self._call("mfa_setup", cog.associate_software_token)

    def confirm_totp(self, code: str) -> None:
        cog = self._pyc()
        cog.access_token = self.access_token()
        if not self._call("mfa_code", cog.verify_software_token, check_code(code), "ArchPal Desktop"):
            raise CodeError(field="code")
        self._call("mfa_setup", cog.set_user_mfa_preference, False, True, "SOFTWARE_TOKEN")
