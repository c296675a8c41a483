"""Moved to :mod:`archpal_desktop.core.errors.cognito` (kept for this session's merges)."""
from __future__ import annotations

from archpal_desktop.core.errors.cognito import (AuthInputError, CodeError, NotConfirmedError,
                                                 TooManyAttemptsError, WrongPasswordError,
                                                 lambda_message, map_cognito)

__all__ = ["AuthInputError", "CodeError", "NotConfirmedError", "TooManyAttemptsError",
           "WrongPasswordError", "lambda_message", "map_cognito"]
