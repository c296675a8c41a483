"""S3 (and any botocore call's) errors, connection failures and local OS errors -> the tree.

This is the default mapper: the Cognito and Bedrock modules handle their own codes first and
hand everything else here."""
from __future__ import annotations

import socket

from archpal_desktop.core.errors.tree import (AccessDeniedError, ArchPalError, AuthExpiredError,
                                              BucketMissingError, ConflictError,
                                              InvalidCredentialsError, NotFoundError, OfflineError,
                                              RegionMismatchError, ServiceUnavailableError,
                                              StorageError, ThrottledError)

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
    # words only: the exception's class name goes to the log (the callers log err.code), never
    # into a message a student reads (issue 11, "no class names in any message")
    detail = str(exc).strip()
    return ArchPalError(f"{detail.rstrip('.')}." if detail else "Something unexpected happened.",
                        "Try again; details are in the log file.", key=key)
