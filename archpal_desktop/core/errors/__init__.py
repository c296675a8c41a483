"""Errors in one place (docs/ARCHITECTURE.md, "Errors"): the tree (``tree``), one mapping module
per service (``s3`` is also the default for connection and OS errors; ``cognito``; ``bedrock``),
applied by one context manager, :func:`mapped`::

    with mapped(key=key):                 # S3
        client.put_object(...)
    with mapped("cognito", step="sign_in"):
        user.authenticate(password)

Anything already an ArchPalError passes through unchanged.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from archpal_desktop.core.errors.s3 import map_exception
from archpal_desktop.core.errors.tree import (AccessDeniedError, ArchPalError, AuthError,
                                              AuthExpiredError, BadDataError, BucketMissingError,
                                              ConfigError, ConflictError, InvalidCredentialsError,
                                              ManagedSettingError, NotFoundError, OfflineError,
                                              RegionMismatchError, ServiceUnavailableError,
                                              StorageError, ThrottledError)


def map_service_error(exc: BaseException, service: str = "s3", *, key: str | None = None,
                      step: str = "", model: str = "") -> ArchPalError:
    """``exc`` as one of ours, by the service that raised it."""
    if service == "cognito":
        from archpal_desktop.core.errors.cognito import map_cognito
        return map_cognito(exc, step=step)
    if service == "bedrock":
        from archpal_desktop.core.errors.bedrock import map_bedrock_error
        return map_bedrock_error(exc, model)
    return map_exception(exc, key=key)


@contextmanager
def mapped(service: str = "s3", *, key: str | None = None, step: str = "", model: str = "",
           keep_cause: bool = True) -> Iterator[None]:
    """Raise whatever the block raises as one of the app's errors, the library's kept as its
    cause (``keep_cause=False`` where the library's text may hold a token)."""
    try:
        yield
    except ArchPalError:
        raise
    except Exception as exc:
        err = map_service_error(exc, service, key=key, step=step, model=model)
        if keep_cause:
            raise err from exc
        raise err from None


__all__ = ["AccessDeniedError", "ArchPalError", "AuthError", "AuthExpiredError", "BadDataError",
           "BucketMissingError", "ConfigError", "ConflictError", "InvalidCredentialsError",
           "ManagedSettingError", "NotFoundError", "OfflineError", "RegionMismatchError",
           "ServiceUnavailableError", "StorageError", "ThrottledError", "map_exception",
           "map_service_error", "mapped"]
