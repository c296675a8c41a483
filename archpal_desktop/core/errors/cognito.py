"""Cognito's errors (the user pool, through boto3 or pycognito) -> the app's own, with words a
student can act on.

Each error may name the form ``field`` it concerns ("email", "password", "new_password",
"code"), so the sign-in dialog shows it next to that field.
"""
from __future__ import annotations

import re

from archpal_desktop.core.errors.s3 import map_exception
from archpal_desktop.core.errors.tree import (ArchPalError, AuthError, AuthExpiredError, ConfigError,
                                              ThrottledError)


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
