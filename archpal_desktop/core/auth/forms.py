"""What a person types into the sign-in forms, checked before Cognito is called, and the two
answers the flows give back besides a session (a :class:`Challenge`, a :class:`SignUpResult`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from archpal_desktop.core import config as cfg
from archpal_desktop.core.errors.cognito import AuthInputError, CodeError

__all__ = ["EMAIL_RE", "Challenge", "SignUpResult", "normalize_email", "check_email", "need", "check_code"]

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CODE_RE = re.compile(r"^\d{6}$")


@dataclass
class Challenge:
    """A step Cognito asks for before the sign-in completes.

    ``name``: "NEW_PASSWORD_REQUIRED" (answer: the new password), "SOFTWARE_TOKEN_MFA" or
    "SMS_MFA" (answer: the 6-digit code), "MFA_SETUP" (add ``secret_code`` / ``otpauth_uri`` to an
    authenticator app, then answer with its 6-digit code).
    """

    name: str
    email: str
    secret_code: str = ""
    otpauth_uri: str = ""
    session: str = field(default="", repr=False)
    username: str = field(default="", repr=False)


@dataclass
class SignUpResult:
    confirmed: bool
    destination: str = ""  # where the code went, masked by Cognito (e.g. "a***@u***")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(settings: cfg.Settings, email: str) -> str:
    """Format and the site's allowed domains, checked before Cognito is called."""
    email = normalize_email(email)
    if not email:
        raise AuthInputError("Enter your e-mail address.", "", field="email")
    if not EMAIL_RE.match(email):
        raise AuthInputError("That is not an e-mail address.", "Type it as name@university.edu.",
                             field="email")
    allowed = settings.allowed_email_domains
    domain = email.rsplit("@", 1)[1]
    if allowed and domain not in allowed:
        listed = ", ".join("@" + d for d in allowed)
        raise AuthInputError(f"Use your university e-mail address ({listed}).", "", field="email")
    return email


def need(value: str, what: str, field_name: str) -> str:
    if not value:
        raise AuthInputError(f"Enter {what}.", "", field=field_name)
    return value


def check_code(code: str) -> str:
    code = (code or "").strip().replace(" ", "")
    if not _CODE_RE.match(code):
        raise CodeError("The code has 6 digits.", "Type the 6 digits you received.", field="code")
    return code
