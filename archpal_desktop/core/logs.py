"""Logging, set up once: a rotating file in the platform's log folder, secrets redacted."""
from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

from archpal_desktop.core import paths

_SECRET_PATTERNS = [
    # JWTs (ID/access tokens) and long opaque tokens
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # AWS secret-looking values after a key name
    re.compile(r"(?i)((?:secret|password|token|credential|authorization|signature|x-amz-security-token)"
               r"[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"),
    re.compile(r"\bA(?:KIA|SIA)[A-Z0-9]{12,}\b"),
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts the message early, for handlers that format records themselves (pytest's caplog).
    The text that reaches a file or stderr is redacted again, whole, by :class:`RedactingFormatter`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingFormatter(logging.Formatter):
    """Redacts the *formatted* record: ``log.exception`` appends the traceback and the
    exception's text (a botocore error can quote a signed URL or a token) after the message,
    where a filter on the message never looks."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


NOISY = ("botocore", "boto3", "urllib3", "s3transfer", "pycognito", "moto", "werkzeug", "requests")
_configured = False


def pin_noisy_loggers() -> None:
    """botocore's DEBUG log prints credentials and signatures: keep it at WARNING always."""
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    # a child set to DEBUG on its own (botocore.auth, urllib3.connectionpool...) would still
    # print signed requests: make every existing child inherit the pinned level
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".", 1)[0] in NOISY and "." in name:
            logger.setLevel(logging.NOTSET)


def setup_logging(verbose: bool = False, log_dir: Path | None = None) -> Path | None:
    global _configured
    pin_noisy_loggers()
    root = logging.getLogger("archpal_desktop")
    if _configured:
        return None
    _configured = True
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    redactor = RedactingFilter()
    target = None
    try:
        folder = paths.ensure_private_dir(Path(log_dir or os.environ.get("ARCHPAL_LOG_DIR")
                                               or paths.user_log_dir()))
        target = folder / "archpal-desktop.log"
        handler = logging.handlers.RotatingFileHandler(target, maxBytes=2_000_000, backupCount=3,
                                                       encoding="utf-8")
        handler.setFormatter(fmt)
        handler.addFilter(redactor)
        root.addHandler(handler)
    except OSError:
        target = None  # a read-only home must not stop the app
    if verbose:
        stream = logging.StreamHandler()
        stream.setFormatter(fmt)
        stream.addFilter(redactor)
        root.addHandler(stream)
    return target
