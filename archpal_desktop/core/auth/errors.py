"""The one place Cognito's errors become the app's own, with words a student can act on.

Each error may name the form ``field`` it concerns ("email", "password", "new_password",
"code"), so the sign-in dialog shows it next to that field.
"""
from __future__ import annotations

import re

from archpal_desktop.core.errors import (
    ArchPalError, AuthError, AuthExpiredError, ConfigError, ThrottledError, map_exception,
)


class AuthInputError(AuthError):
    """Something the user typed is refused; ``field`` says which input to point at."""

    code = "auth_input"

    def __init__(self, message: str | None = None, hint: str | None = None, *, field: str = ""):
        super().__init__(message, hint)
        self.field = field


class WrongPasswordError(AuthInputError):
    code = "wrong_password"
    default_message = "The e-mail address or password is not right."
    default_hint = "Check both and try again, or use 'Forgot password?'."


class NotConfirmedError(AuthInputError):
    code = "not_confirmed"
    default_message = "This account is not confirmed yet."
    default_hint = "Enter the code we e-mailed you, or ask for a new one."


class CodeError(AuthInputError):
    code = "bad_code"
    default_message = "That code is not right."
    default_hint = "Check the code and type it again."


class TooManyAttemptsError(ThrottledError):
    code = "too_many_attempts"
    default_message = "Too many attempts."
    default_hint = "Wait a few minutes, then try again."

    def __init__(self, message: str | None = None, hint: str | None = None, *, field: str = ""):
        super().__init__(message, hint)
        self.field = field


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


_LAMBDA_PREFIX = re.compile(r"^\s*\w+ failed with error\s*", re.IGNORECASE)

_THROTTLE = {"LimitExceededException", "TooManyRequestsException", "TooManyFailedAttemptsException"}


def lambda_message(text: str) -> str:
    """"PreSignUp failed with error Only @uga.edu addresses." -> "Only @uga.edu addresses."."""
    plain = _LAMBDA_PREFIX.sub("", text or "").strip()
    return plain or "Your sign-up was refused by the university's rules."


def map_cognito(exc: BaseException, *, step: str = "") -> ArchPalError:
    """Map a botocore/pycognito error raised during ``step`` ("sign_in", "sign_up", "refresh", ...)."""
    if isinstance(exc, ArchPalError):
        return exc
    response = getattr(exc, "response", None)
    if not (isinstance(response, dict) and "Error" in response):
        return map_exception(exc)
    code = str(response["Error"].get("Code", ""))
    text = str(response["Error"].get("Message") or "")
    low = text.lower()
    if code == "NotAuthorizedException":
        if "attempts exceeded" in low:
            return TooManyAttemptsError(field="password")
        if "disabled" in low:
            return AuthError("This account is disabled.", "Ask your IT administrator to enable it.")
        if step in ("refresh", "sign_out", "access") or "token" in low:
            return AuthExpiredError()
        if step == "change_password":
            return WrongPasswordError("The current password is not right.", "Type it again.",
                                      field="password")
        return WrongPasswordError(field="password")
    if code == "UserNotFoundException":
        if step in ("forgot_password", "resend_code", "confirm_sign_up", "confirm_forgot_password"):
            return AuthInputError("No account uses this e-mail address.",
                                  "Check the address, or create an account.", field="email")
        return WrongPasswordError(field="password")
    if code == "UserNotConfirmedException":
        return NotConfirmedError(field="code")
    if code == "UsernameExistsException" or code == "AliasExistsException":
        return AuthInputError("An account with this e-mail address already exists.",
                              "Sign in instead, or use 'Forgot password?'.", field="email")
    if code == "CodeMismatchException" or code == "EnableSoftwareTokenMFAException":
        return CodeError(field="code")
    if code == "ExpiredCodeException":
        return CodeError("That code has expired.", "Ask for a new code and use it within a day.",
                         field="code")
    if code == "InvalidPasswordException":
        message = re.sub(r"^Password does not conform to policy:\s*", "", text).strip()
        field = "new_password" if step in ("new_password", "change_password",
                                           "confirm_forgot_password") else "password"
        return AuthInputError(f"This password is too weak: {message.rstrip('.')}."
                              if message else "This password is too weak.",
                              "Use at least 8 characters with upper- and lower-case letters, "
                              "a number and a symbol.", field=field)
    if code == "UserLambdaValidationException":
        return AuthInputError(lambda_message(text), "", field="email")
    if code == "PasswordResetRequiredException":
        return AuthInputError("Your password must be reset before you can sign in.",
                              "Use 'Forgot password?' to choose a new one.", field="password")
    if code in _THROTTLE:
        return TooManyAttemptsError(field="code" if "code" in step or step.startswith("confirm")
                                    else "")
    if code == "CodeDeliveryFailureException":
        return AuthError("The code could not be sent to your e-mail address.",
                         "Check the address and try again in a few minutes.")
    if code == "ResourceNotFoundException":
        return ConfigError("The sign-in service for this site is not set up as configured.",
                           "Ask your IT administrator to check cognito_user_pool_id and "
                           "cognito_client_id.")
    if code == "InvalidParameterException":
        return AuthInputError(text or "The request was not accepted.", "Check what you typed.")
    return map_exception(exc)
