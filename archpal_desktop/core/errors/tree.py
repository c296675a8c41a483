"""The app's exception tree (after httpx's ``_exceptions.py``).

Every error a user can meet carries a ``message`` saying what happened and a ``hint`` saying
what to do. UI and CLI show ``str(err)`` (message + hint); nothing else is needed to explain it.

    ArchPalError
    ├── OfflineError                 the network or the service cannot be reached
    ├── ServiceUnavailableError      reached, but it failed or is busy
    │   └── ThrottledError
    ├── AuthError                    signing in (core.errors.cognito adds the form's errors)
    │   ├── AuthExpiredError
    │   └── InvalidCredentialsError
    ├── AccessDeniedError
    ├── BucketMissingError
    ├── RegionMismatchError
    ├── NotFoundError
    ├── ConflictError                a conditional write lost (412/409): re-read and merge
    ├── BadDataError                 a document we could not use; left as it is
    ├── ConfigError
    │   └── ManagedSettingError
    └── StorageError                 the local disk or cache
"""
from __future__ import annotations


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
