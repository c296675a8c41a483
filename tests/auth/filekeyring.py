"""A keyring backend that several processes share (the CLI tests run ``archpal-desktop login``
and ``logout`` as separate processes, as a user would; the in-memory backend dies with each).
It stands in for the OS keychain, selected through keyring's own PYTHON_KEYRING_BACKEND, and
keeps its file in the test's temporary home."""
from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class SharedTestKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @staticmethod
    def _path() -> Path:
        return Path(os.environ["ARCHPAL_TEST_KEYRING_FILE"])

    def _load(self) -> dict:
        try:
            return json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}

    def get_password(self, service, username):
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service, username, password):
        doc = self._load()
        doc[f"{service}\n{username}"] = password
        self._path().write_text(json.dumps(doc))

    def delete_password(self, service, username):
        doc = self._load()
        if doc.pop(f"{service}\n{username}", None) is None:
            raise PasswordDeleteError(username)
        self._path().write_text(json.dumps(doc))


# a stand-in for the OS keychain: on the allowlist only in processes that import this module
from archpal_desktop.core.auth.keystore import trust_backend  # noqa: E402

trust_backend(SharedTestKeyring)
