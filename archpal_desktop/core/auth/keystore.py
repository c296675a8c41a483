"""The one place a secret is persisted: each user's Cognito refresh token, in the OS keyring.

The backend is whatever ``keyring`` selects through its own mechanism (the platform's keychain,
``PYTHON_KEYRING_BACKEND``, a keyringrc file). Backends that do not protect the secret are
refused: keyring's ``fail`` and ``null`` backends and every plaintext backend (keyrings.alt's
``PlaintextKeyring``). With one of those the token stays in this process's memory only, the
session lasts for this run, and :attr:`KeyStore.notice` says so in words to show the user.

Windows Credential Manager holds about 1,280 characters per secret and Cognito refresh tokens
are longer, so long values are split into numbered parts that are joined on read.
"""
from __future__ import annotations

import logging
import threading

import keyring
import keyring.errors

log = logging.getLogger(__name__)

SERVICE = "ArchPal Desktop"
#: below the Windows Credential Manager limit, with room to spare
CHUNK = 1000
_PART_MARK = "archpal-parts:"

#: modules/classes whose "secret" storage is no protection at all
_INSECURE_MODULES = ("keyring.backends.fail", "keyring.backends.null")


def _leaf_backends(backend) -> list:
    inner = getattr(backend, "backends", None)
    if inner is not None and not isinstance(backend, type):
        out = []
        for b in inner:
            out.extend(_leaf_backends(b))
        return out
    return [backend]


def backend_name(backend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def is_insecure(backend) -> bool:
    """True for backends that would keep the token unprotected (or not at all)."""
    leaves = _leaf_backends(backend)
    if not leaves:
        return True
    # a chainer writes to its first (highest-priority) backend
    first = leaves[0]
    cls = type(first)
    if cls.__module__ in _INSECURE_MODULES:
        return True
    return "plaintext" in cls.__name__.lower() or "plaintext" in cls.__module__.lower()


class KeyStore:
    """Per-user refresh tokens; ``account`` is ``<pool id>/<sub>``."""

    # tokens kept for this run only when the backend is insecure (shared by every KeyStore)
    _memory: dict[str, str] = {}
    _lock = threading.Lock()

    def __init__(self, backend=None):
        self.backend = backend if backend is not None else keyring.get_keyring()
        self.secure = not is_insecure(self.backend)
        self.notice = "" if self.secure else (
            "This computer has no secure password store for ArchPal "
            f"({backend_name(self.backend)}), so your sign-in is kept for this session only: "
            "you will be asked to sign in again next time.")
        if not self.secure:
            log.warning("insecure keyring backend %s: the session lasts for this run only",
                        backend_name(self.backend))

    @staticmethod
    def account(pool_id: str, sub: str) -> str:
        return f"{pool_id}/{sub}"

    # -- public API ------------------------------------------------------------------------
    def get(self, account: str) -> str | None:
        if not self.secure:
            with self._lock:
                return self._memory.get(account)
        try:
            head = self.backend.get_password(SERVICE, account)
            if head and head.startswith(_PART_MARK):
                count = int(head[len(_PART_MARK):])
                parts = [self.backend.get_password(SERVICE, f"{account}#{i}") for i in range(count)]
                if any(p is None for p in parts):
                    log.warning("a stored session is incomplete; ignoring it")
                    return None
                return "".join(parts)  # type: ignore[arg-type]
            return head
        except (keyring.errors.KeyringError, ValueError) as exc:
            log.warning("the keyring could not be read: %s", type(exc).__name__)
            return None

    def set(self, account: str, secret: str) -> None:
        if not self.secure:
            with self._lock:
                self._memory[account] = secret
            return
        self.delete(account)
        try:
            if len(secret) <= CHUNK:
                self.backend.set_password(SERVICE, account, secret)
                return
            parts = [secret[i:i + CHUNK] for i in range(0, len(secret), CHUNK)]
            for i, part in enumerate(parts):
                self.backend.set_password(SERVICE, f"{account}#{i}", part)
            self.backend.set_password(SERVICE, account, f"{_PART_MARK}{len(parts)}")
        except keyring.errors.KeyringError as exc:
            # the session still works for this run; say why it will not be remembered
            log.warning("the keyring refused the session (%s); keeping it for this run only",
                        type(exc).__name__)
            self.secure = False
            self.notice = ("Your sign-in could not be saved in this computer's password store, "
                           "so it is kept for this session only.")
            with self._lock:
                self._memory[account] = secret

    def delete(self, account: str) -> None:
        with self._lock:
            self._memory.pop(account, None)
        if not self.secure:
            return
        try:
            head = self.backend.get_password(SERVICE, account)
        except keyring.errors.KeyringError:
            return
        if head is None:
            return
        names = [account]
        if head.startswith(_PART_MARK):
            try:
                names += [f"{account}#{i}" for i in range(int(head[len(_PART_MARK):]))]
            except ValueError:
                pass
        for name in names:
            try:
                self.backend.delete_password(SERVICE, name)
            except keyring.errors.KeyringError:
                pass  # already gone
