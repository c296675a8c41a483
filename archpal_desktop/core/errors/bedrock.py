"""Bedrock's errors (ConverseStream) -> the app's own, naming the model and the setting to fix."""
from __future__ import annotations

from archpal_desktop.core.errors.s3 import map_exception
from archpal_desktop.core.errors.tree import (AccessDeniedError, ArchPalError, ConfigError,
                                              ServiceUnavailableError)


def map_bedrock_error(exc: BaseException, model: str) -> ArchPalError:
    """The one place Bedrock's errors become ours, with words a student or admin can act on (no
    service error codes in them: those go to the log with the original exception)."""
    if isinstance(exc, ArchPalError):
        return exc
    code = str(((getattr(exc, "response", None) or {}).get("Error") or {}).get("Code", ""))
    if code in ("AccessDeniedException", "AccessDenied"):
        return AccessDeniedError(
            f"ArchPal is not allowed to use the model {model}.",
            "Ask your IT administrator to enable access to this model in the Bedrock console and to "
            "allow bedrock:InvokeModelWithResponseStream for your account or role.")
    if code in ("ResourceNotFoundException", "ValidationException") and "model" in str(exc).lower():
        return ConfigError(f"The model {model} was not accepted by Bedrock.",
                           "Check anthropic_model in the settings (a model or inference profile id "
                           "available in your region).")
    if code in ("modelStreamErrorException", "ModelStreamErrorException", "ModelErrorException",
                "internalServerException", "InternalServerException"):
        return ServiceUnavailableError("The model stopped in the middle of its reply.",
                                       "The part received so far is kept; press Retry to ask again.")
    if code in ("ModelTimeoutException", "modelTimeoutException"):
        return ServiceUnavailableError("The model took too long to answer.",
                                       "Press Retry to ask again.")
    return map_exception(exc)
