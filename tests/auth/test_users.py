"""Several people on one laptop: separate sessions and caches; signing out can remove one
person's local data without touching anyone else's."""
from __future__ import annotations

from archpal_desktop.core import auth
from archpal_desktop.core.auth import AuthSession
from tests.auth.conftest import PASSWORD
from tests.support import memkeyring


def test_two_students_share_a_lab_computer(pool):
    from archpal_desktop.core.cache import Store

    ada = pool.add_user("ada@uga.edu")
    bob = pool.add_user("bob@uga.edu")
    settings = pool.settings()
    data = settings.data_dir()

    s = AuthSession(settings)
    s.sign_in("ada@uga.edu", PASSWORD)
    store = Store.open_for_user(data, s.access().sub)
    store.create_conversation("Ada's essay")
    store.close()
    s.sign_out(global_=False)  # Ada leaves, keeps her cache

    s2 = AuthSession(settings)
    assert s2.restore() is False  # nobody signed in: the next person sees the sign-in form
    s2.sign_in("bob@uga.edu", PASSWORD)
    assert s2.sub == bob and auth.last_user(settings) == bob
    store = Store.open_for_user(data, s2.access().sub)
    assert [c.title for c in store.list_conversations()] == []  # never Ada's data
    store.create_conversation("Bob's lab report")
    store.close()

    # Ada signs in again: her own cache, untouched; both sessions are kept apart in the keyring
    s3 = AuthSession(settings)
    s3.sign_in("ada@uga.edu", PASSWORD)
    store = Store.open_for_user(data, s3.access().sub)
    assert [c.title for c in store.list_conversations()] == ["Ada's essay"]
    store.close()
    assert sorted(k[1] for k in memkeyring.contents()) == sorted(
        [f"{pool.pool_id}/{ada}", f"{pool.pool_id}/{bob}"])

    # Ada signs out and removes her data: Bob's cache and session stay
    assert s3.sign_out(global_=True, remove_data=True) is True
    assert not (data / "users" / ada).exists()
    assert (data / "users" / bob / "archpal.sqlite3").exists()
    assert [k[1] for k in memkeyring.contents()] == [f"{pool.pool_id}/{bob}"]
    assert set(auth.known_users(settings)) == {bob}
