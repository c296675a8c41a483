"""One exception tree for the whole app, and the one place where library errors are mapped.

Every error a user can meet carries a ``message`` saying what happened and a ``hint`` saying
what to do. UI and CLI show ``str(err)`` (message + hint); nothing else is needed to explain it.
"""
from __future__ import annotations

import socket


class ArchPalError(Exception):
    """Base class. ``message`` is what happened; ``hint`` is what to do about it."""

    code = "error"
    default_message = "Something went wrong."
    default_hint = ""

    def __init__(self, message: str | None = None, hint: str | None = None, *, key: str | None = None):
        self.message = message or self.default_message
        self.hint = self.default_hint if hint is None else hint
        self.key = key
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class OfflineError(ArchPalError):
    code = "offline"
    default_message = "You appear to be offline: the server could not be reached."
    default_hint = "Your work is saved on this computer and will sync when the connection returns."


class ServiceUnavailableError(ArchPalError):
    code = "unavailable"
    default_message = "The service is busy or unavailable right now."
    default_hint = "ArchPal will try again shortly; nothing you wrote is lost."


class ThrottledError(ServiceUnavailableError):
    code = "throttled"
    default_message = "Too many requests were made in a short time."
    default_hint = "Wait a moment and try again."


class AuthError(ArchPalError):
    code = "auth"
    default_message = "Sign-in failed."
    default_hint = "Check your e-mail and password and try again."


class AuthExpiredError(AuthError):
    code = "auth_expired"
    default_message = "Your session has expired."
    default_hint = "Sign in again; everything you wrote offline is kept."


class InvalidCredentialsError(AuthError):
    code = "invalid_credentials"
    default_message = "The AWS credentials were rejected (invalid credentials)."
    default_hint = ("Regenerate the access keys in the IAM console and check for extra spaces or "
                    "quotes in the settings file.")


class AccessDeniedError(ArchPalError):
    code = "access_denied"
    default_message = "Access denied (403 Forbidden)."
    default_hint = ("Check the IAM permissions of the user or role (s3:GetObject, s3:PutObject, "
                    "s3:DeleteObject, s3:ListBucket) and the bucket policy.")


class BucketMissingError(ArchPalError):
    code = "bucket_missing"
    default_message = "The bucket does not exist (404 Not Found)."
    default_hint = ("Check s3_bucket_name for typos, check that s3_region matches the bucket's region, "
                    "and confirm the bucket exists in the S3 console.")


class RegionMismatchError(ArchPalError):
    code = "region_mismatch"
    default_message = "The bucket is in a different region than the one configured (region mismatch)."
    default_hint = "Set s3_region to the bucket's region (S3 console: bucket, Properties, AWS Region)."


class NotFoundError(ArchPalError):
    code = "not_found"
    default_message = "The item was not found."


class ConflictError(ArchPalError):
    code = "conflict"
    default_message = "The item was changed elsewhere at the same time."
    default_hint = "ArchPal will merge both versions and try again."


class BadDataError(ArchPalError):
    code = "bad_data"
    default_message = "The data could not be read."
    default_hint = "It was left untouched; the rest of your history is not affected."


class ConfigError(ArchPalError):
    code = "config"
    default_message = "The settings are incomplete or invalid."


class ManagedSettingError(ConfigError):
    code = "managed"
    default_message = "This setting is managed by your organisation and cannot be changed here."
    default_hint = "Ask your IT administrator if it needs to change."


class StorageError(ArchPalError):
    code = "storage"
    default_message = "The local cache could not be written."
    default_hint = "Check that the disk is not full and that the data folder is writable."


_OFFLINE_NAMES = {
    "EndpointConnectionError", "ConnectionClosedError", "ConnectTimeoutError", "ReadTimeoutError",
    "ProxyConnectionError", "ConnectionError", "HTTPClientError",
    # a connection reset or closed while a body is read (urllib3, botocore's streamed bodies)
    "ProtocolError", "ResponseStreamingError", "IncompleteRead",
}
_THROTTLE_CODES = {"Throttling", "ThrottlingException", "SlowDown", "TooManyRequestsException",
                   "RequestLimitExceeded", "ProvisionedThroughputExceededException",
                   "LimitExceededException"}
_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "Forbidden", "403", "AllAccessDisabled",
                 "UnauthorizedOperation"}
_BAD_CRED_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "UnrecognizedClientException",
                   "InvalidClientTokenId", "InvalidToken", "ExpiredToken", "ExpiredTokenException",
                   "TokenRefreshRequired"}


def map_exception(exc: BaseException, *, key: str | None = None) -> ArchPalError:
    """Turn any library/network exception into one of ours. Already-mapped errors pass through."""
    if isinstance(exc, ArchPalError):
        return exc
    name = type(exc).__name__
    # botocore ClientError without importing botocore here (core stays light to import)
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response.get("Error") or {}
        code = str(err.get("Code", ""))
        status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        text = str(err.get("Message") or "")
        if code in _THROTTLE_CODES or status == 429:
            return ThrottledError(key=key)
        if code in ("ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"):
            return AuthExpiredError(key=key)
        if code in _BAD_CRED_CODES:
            return InvalidCredentialsError(key=key)
        if code in _DENIED_CODES or status == 403:
            return AccessDeniedError(key=key)
        if code == "NoSuchBucket":
            return BucketMissingError(key=key)
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException") \
                or status == 301:
            return RegionMismatchError(key=key)
        if code in ("NoSuchKey", "404", "NotFound", "ResourceNotFoundException"):
            return NotFoundError(key=key)
        if code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409") or status in (409, 412):
            return ConflictError(key=key)
        if status >= 500 or code in ("InternalError", "ServiceUnavailable", "InternalFailure",
                                     "ServiceUnavailableException", "ModelNotReadyException"):
            return ServiceUnavailableError(key=key)
        return ArchPalError(f"The server refused the request ({code or status}: {text}).".replace(": )", ")"),
                            "Try again; if it keeps happening, tell your IT administrator.", key=key)
    if name in _OFFLINE_NAMES or isinstance(exc, (ConnectionError, socket.timeout, TimeoutError)):
        return OfflineError(key=key)
    if name == "NoCredentialsError" or name == "PartialCredentialsError":
        return InvalidCredentialsError("No AWS credentials were found.",
                                       "Sign in, or set the credentials in the settings file.", key=key)
    if isinstance(exc, OSError) and getattr(exc, "errno", None) in (28, 122):  # ENOSPC, EDQUOT
        return StorageError("The disk is full: the local cache could not be written.",
                            "Free some disk space; nothing already saved is lost.", key=key)
    if isinstance(exc, OSError):
        return StorageError(f"A file could not be written: {exc.strerror or exc}.", key=key)
    return ArchPalError(f"Unexpected error: {name}: {exc}", "Try again; details are in the log file.", key=key)
