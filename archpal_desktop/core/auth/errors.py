"""The browser sign-in's own errors (issue 13 point 2), each a sentence and a way back.
Cognito's errors live in :mod:`archpal_desktop.core.errors.cognito`."""
from __future__ import annotations

from archpal_desktop.core.errors import AuthError

__all__ = ["BrowserSignInError", "BrowserCancelledError", "BrowserTimeoutError", "StateMismatchError",
           "PortsInUseError", "SignInDomainError", "SignInDeniedError"]


class BrowserSignInError(AuthError):
    """A browser sign-in that ended without a session; every one says what to do next."""

    code = "browser_sign_in"


class BrowserCancelledError(BrowserSignInError):
    code = "browser_cancelled"
    default_message = "Sign-in cancelled."
    default_hint = "Sign in again when you are ready."


class BrowserTimeoutError(BrowserSignInError):
    code = "browser_timeout"
    default_message = "The sign-in page did not come back to ArchPal in time."
    default_hint = ("If you closed the browser, sign in again; if the page is still open, "
                    "finish it and then try again.")


class StateMismatchError(BrowserSignInError):
    code = "state_mismatch"
    default_message = ("The browser came back with an answer that does not belong to this sign-in, "
                       "so ArchPal ignored it.")
    default_hint = "Sign in again from ArchPal (not from an old tab or a bookmark)."


class PortsInUseError(BrowserSignInError):
    code = "ports_in_use"
    default_message = "ArchPal could not receive the sign-in: its ports are in use."
    default_hint = "Close the other program, then try again."


class SignInDomainError(BrowserSignInError):
    code = "sign_in_domain"
    default_message = "The university's sign-in page could not be found."
    default_hint = "Check cognito_domain in the settings, or ask your IT administrator."


class SignInDeniedError(BrowserSignInError):
    code = "sign_in_denied"
    default_message = "The sign-in page did not let you in."
    default_hint = "Sign in again, or ask your IT administrator if it keeps happening."

    @classmethod
    def from_redirect(cls, error: str, description: str = "") -> "SignInDeniedError":
        if error == "access_denied":
            return cls("The sign-in was refused or stopped on the sign-in page.",
                       "Sign in again; if your university refused it, ask its IT help desk.")
        # the description is the provider's text, shown as plain words, never as markup
        said = f" It said: {description.strip()[:200]}" if description.strip() else ""
        return cls(f"The sign-in page reported a problem ({error[:60]}).{said}",
                   "Try again, or ask your IT administrator (the app client may need this "
                   "computer's callback URL).")

