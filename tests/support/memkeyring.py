"""A real keyring backend that keeps secrets in memory, selected in tests through keyring's own
mechanism (``PYTHON_KEYRING_BACKEND=tests.support.memkeyring.MemoryKeyring``). Not a mock: the
app goes through ``keyring.get_password``/``set_password`` exactly as with the OS keyring."""
from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

_STORE: dict[tuple[str, str], str] = {}


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return _STORE.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        _STORE[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del _STORE[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


def clear() -> None:
    _STORE.clear()


def contents() -> dict[tuple[str, str], str]:
    return dict(_STORE)


# a stand-in for the OS keychain: on the allowlist only in processes that import this module
from archpal_desktop.core.auth.keystore import trust_backend  # noqa: E402

trust_backend(MemoryKeyring)
