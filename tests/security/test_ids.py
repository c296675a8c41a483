"""Point 14: an id with a trailing newline is refused everywhere ids are validated (``$`` in a
``re.match`` pattern accepts a final ``\\n``; full matches do not)."""
from __future__ import annotations

import uuid

import pytest

from archpal_desktop.core import layout
from archpal_desktop.core.admin import site
from archpal_desktop.core.errors import BadDataError, ConfigError


@pytest.mark.parametrize("check", [layout.validate_conversation_id, layout.validate_message_id,
                                   layout.validate_sub])
def test_trailing_newline_id_is_refused(check):
    good = str(uuid.uuid4())
    assert check(good) == good
    with pytest.raises(BadDataError):
        check(good + "\n")


def test_trailing_newline_is_not_a_conversation_id():
    good = str(uuid.uuid4())
    assert layout.is_conversation_id(good)
    assert not layout.is_conversation_id(good + "\n")


def test_installer_property_with_trailing_newline_is_refused():
    with pytest.raises(ConfigError):
        site._validate_property("CLIENT_ID", "abc123\n")
    site._validate_property("CLIENT_ID", "abc123")


def test_bucket_name_with_trailing_newline_is_refused():
    from archpal_desktop.core.admin.bucket import setup_bucket

    # refused before any AWS call, so no client is needed
    with pytest.raises(ConfigError):
        setup_bucket(None, "archpal-user-data\n", "us-east-1")
