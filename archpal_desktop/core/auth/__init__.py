"""Sign-in and AWS access (docs/ARCHITECTURE.md, "Auth, settings and safety"). No Qt here.

Two functions the rest of the app calls (cli/context.py, the window):

``last_user(settings) -> str | None``
    The ``sub`` of the last user who signed in on this computer, read offline from
    ``<data_dir>/accounts.json`` (never a token).
``access_for_stored_session(settings, ask=None) -> AwsAccess``
    Restore the stored session (refresh token from the keyring), renew and verify the tokens,
    and return ``AwsAccess(sub=<verified sub>, session=<boto3.Session>)``. Credentials come from
    the Cognito identity pool when ``cognito_identity_pool_id`` is set (auto-refreshed), else
    from static keys / boto3's default chain. Raises ``AuthExpiredError`` (no or revoked
    session), ``OfflineError`` (no network). ``ask(session)`` (the terminal's sign-in, given by
    cli.prompt.access_interactively) signs in again when the session has expired.

``AuthSession(settings, keystore=None)`` — for the window (call it from a worker thread: every
method but ``restore`` may use the network; it is thread-safe)::

    s = AuthSession(settings)
    s.restore() -> bool            # offline start: last user's stored session; sets .sub/.email
    r = s.sign_in(email, password) # -> s (signed in) or a Challenge
    while isinstance(r, Challenge):            # r.name: NEW_PASSWORD_REQUIRED (answer: the new
        r = s.answer_challenge(r, answer)      # password), SOFTWARE_TOKEN_MFA / SMS_MFA (6-digit
                                               # code), MFA_SETUP (show r.secret_code /
                                               # r.otpauth_uri, answer with the app's code)
    s.sign_up(email, password) -> SignUpResult(confirmed, destination)
    s.confirm_sign_up(email, code); s.resend_code(email)
    s.forgot_password(email); s.confirm_forgot_password(email, code, new_password)
    s.change_password(old, new); s.setup_totp() -> secret; s.confirm_totp(code)
    b = s.browser_sign_in()        # browser sign-in (core/auth/browser.py): b.start() -> URL
    b.finish() -> s; b.cancel()    # to open; finish() waits for the loopback redirect
    s.sign_in_mode() -> "browser" | "password" | "both"; s.hosted_logout_url()
    s.sign_out(global_=True, remove_data=False) -> bool (False: only signed out locally);
                                   # both ways revoke the refresh token (s.revoked says if done)
    s.access() -> AwsAccess        # renews tokens first; cached per user
    s.ensure_fresh() / s.renew()   # tokens renew by themselves on use, 5 min before expiry
    s.sub, s.email, s.id_claims, s.signed_in, s.verified, s.notice (keyring warning or "")

Errors are ``ArchPalError`` subclasses; form errors are ``AuthInputError`` with ``.field``
("email", "password", "new_password", "code") naming the input to show them next to.
The allowed e-mail domains (``allowed_email_domains``) are checked before Cognito is called.
"""
from __future__ import annotations

from typing import Callable

from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth import accounts
from archpal_desktop.core.errors.cognito import (  # noqa: F401 - re-exported
    AuthInputError, CodeError, NotConfirmedError, TooManyAttemptsError, WrongPasswordError,
)
from archpal_desktop.core.auth.forms import Challenge, SignUpResult, check_email  # noqa: F401
from archpal_desktop.core.auth.session import AuthSession  # noqa: F401 - re-exported
from archpal_desktop.core.aws import AwsAccess
from archpal_desktop.core.errors import AuthExpiredError

__all__ = ["last_user", "access_for_stored_session", "AuthSession", "Challenge", "SignUpResult",
           "AuthInputError", "CodeError", "NotConfirmedError", "TooManyAttemptsError",
           "WrongPasswordError", "check_email", "remove_user_data", "known_users"]


def last_user(settings: cfg.Settings) -> str | None:
    return accounts.last_user(settings.data_dir())


def known_users(settings: cfg.Settings) -> dict[str, dict]:
    """sub -> {"email", "pool"} for everyone who signed in on this computer."""
    return dict(accounts.read(settings.data_dir())["users"])


def remove_user_data(settings: cfg.Settings, sub: str) -> bool:
    return accounts.remove_user_data(settings.data_dir(), sub)


def access_for_stored_session(settings: cfg.Settings,
                              ask: Callable[[AuthSession], object] | None = None) -> AwsAccess:
    """AWS access for the stored session. With ``ask`` (the terminal's sign-in, cli.prompt),
    a session that is gone is asked for again instead of raising AuthExpiredError."""
    session = AuthSession(settings)
    try:
        if not session.restore():
            raise AuthExpiredError("Nobody is signed in on this computer.",
                                   "Run 'archpal-desktop login' first.")
        return session.access()
    except AuthExpiredError:
        if ask is None:
            raise
        ask(session)
        return session.access()
