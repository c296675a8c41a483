"""The refresh token lives in the keyring chosen through keyring's own mechanism; insecure
backends are refused (session for this run only, with a notice the user sees)."""
from __future__ import annotations

import keyring
import keyring.core
import keyring.errors
import pytest

from archpal_desktop.core.auth import AuthSession
from archpal_desktop.core.auth.keystore import CHUNK, KeyStore, is_insecure
from tests.auth.conftest import PASSWORD
from tests.support import memkeyring


def _use_backend(monkeypatch, name):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", name)
    keyring.core._keyring_backend = None  # keyring re-reads its configuration


def test_memory_backend_is_used_through_keyrings_mechanism():
    store = KeyStore()
    assert type(store.backend).__name__ == "MemoryKeyring" and store.secure and store.notice == ""
    store.set("pool/sub", "r" * 10)
    assert memkeyring.contents() == {("ArchPal Desktop", "pool/sub"): "r" * 10}


def test_long_tokens_are_split_below_the_windows_limit():
    store = KeyStore()
    token = "".join(chr(65 + i % 26) for i in range(1800))  # Cognito refresh tokens are ~1,800 chars
    store.set("pool/sub", token)
    assert all(len(v) <= CHUNK for v in memkeyring.contents().values())
    assert KeyStore().get("pool/sub") == token
    store.delete("pool/sub")
    assert memkeyring.contents() == {}


@pytest.mark.parametrize("backend", ["keyrings.alt.file.PlaintextKeyring", "keyring.backends.fail.Keyring",
                                     "keyring.backends.null.Keyring"])
def test_insecure_backends_are_refused(backend, monkeypatch, pool, student, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # where PlaintextKeyring writes
    _use_backend(monkeypatch, backend)
    assert is_insecure(keyring.get_keyring())
    s = AuthSession(pool.settings())
    assert s.sign_in(student[0], PASSWORD) is s
    assert "kept for this session only" in s.notice and "sign in again next time" in s.notice
    # nothing was written to the backend, nor anywhere on disk
    try:
        kept = keyring.get_keyring().get_password("ArchPal Desktop", f"{pool.pool_id}/{student[1]}")
    except keyring.errors.KeyringError:  # the fail backend refuses every call
        kept = None
    assert kept is None
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert s._refresh_token.encode() not in f.read_bytes(), f
    # it still works for this run (another window of the same process) ...
    again = AuthSession(pool.settings())
    assert again.restore() and again.notice


def test_keyring_error_falls_back_to_this_run_only(pool, student, monkeypatch):
    from keyring.errors import PasswordSetError

    def refuse(*a, **k):
        raise PasswordSetError("locked")

    monkeypatch.setattr(memkeyring.MemoryKeyring, "set_password", refuse)
    s = AuthSession(pool.settings())
    s.sign_in(student[0], PASSWORD)
    assert "kept for this session only" in s.notice
