"""Point 8: redaction covers the whole formatted record, the traceback included."""
from __future__ import annotations

import logging

import pytest

from archpal_desktop.core import logs

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.fixture
def app_log(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "_configured", False)
    logger = logging.getLogger("archpal_desktop")
    before = list(logger.handlers)
    target = logs.setup_logging(verbose=False, log_dir=tmp_path / "logs")
    yield target
    for h in logger.handlers[:]:
        if h not in before:
            logger.removeHandler(h)
            h.close()


def test_exception_text_and_traceback_are_redacted_in_the_log_file(app_log):
    log = logging.getLogger("archpal_desktop.test")

    def renew(refresh_token):  # a local variable name that tracebacks don't show, but the text does
        raise RuntimeError(f"refresh failed: token={refresh_token} Authorization: {TOKEN}")

    value = "opaque-refresh-value-123"
    try:
        renew(value)
    except RuntimeError:
        log.exception("sign-in renewal failed")
    for h in logging.getLogger("archpal_desktop").handlers:
        h.flush()
    text = app_log.read_text(encoding="utf-8")
    assert "sign-in renewal failed" in text and "Traceback" in text and "RuntimeError" in text
    assert TOKEN not in text
    assert "opaque-refresh-value-123" not in text
    assert "[redacted]" in text


def test_stack_info_is_redacted_too(app_log):
    log = logging.getLogger("archpal_desktop.test")
    secret = "AKIA" + "ABCDEFGHIJKLMNOP"
    # the key id is on the logging call's own source line, which stack_info prints
    log.warning("plain message", stack_info=True, extra={"k": "AKIAABCDEFGHIJKLMNOP"})
    for h in logging.getLogger("archpal_desktop").handlers:
        h.flush()
    text = app_log.read_text(encoding="utf-8")
    assert "plain message" in text and "Stack (most recent call last)" in text
    assert secret not in text
