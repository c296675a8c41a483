"""The cache's rules: a connection per thread (and a check that fails loudly otherwise), durable
commits on every connection, migrations safe against a second process, and "damaged" only when
SQLite's integrity check says so."""
from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlite_utils

from archpal_desktop.core.cache import connection as cache_connection
from archpal_desktop.core.cache.connection import WrongThreadError
from archpal_desktop.core.cache.schema import MIGRATIONS, SCHEMA_VERSION
from archpal_desktop.core.errors import BadDataError, StorageError
from archpal_desktop.core.cache import Store
from tests.support.s3fixtures import ADA


def _in_thread(fn):
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test thread
            box["error"] = exc
    t = threading.Thread(target=run, name="test-cache-thread")
    t.start()
    t.join(30)
    return box


@pytest.mark.parametrize("use", [
    lambda c: c.execute("SELECT COUNT(*) FROM conversations").fetchone(),
    lambda c: c.executemany("UPDATE conversations SET title=? WHERE 0", [("x",)]),
    lambda c: c.executescript("SELECT 1;"),
    lambda c: c.cursor(),
    lambda c: c.commit(),
    lambda c: c.rollback(),
    lambda c: c.db["conversations"].count,            # sqlite-utils over the connection
], ids=["execute", "executemany", "executescript", "cursor", "commit", "rollback", "sqlite-utils"])
def test_a_connection_used_from_another_thread_raises(tmp_path, use):
    store = Store.open_for_user(tmp_path, ADA)
    mine = store.conn
    box = _in_thread(lambda: use(mine))
    assert isinstance(box.get("error"), WrongThreadError)
    assert "used from thread" in str(box["error"])
    use(mine)   # its own thread may
    store.close()


def test_a_commit_from_another_thread_cannot_end_the_owners_transaction(tmp_path):
    store = Store.open_for_user(tmp_path, ADA)
    conv = store.create_conversation("Committed")
    mine = store.conn
    with pytest.raises(RuntimeError, match="rolled back"):
        with store.transaction():
            store.rename_conversation(conv.conversation_id, "Half done")
            assert isinstance(_in_thread(mine.commit).get("error"), WrongThreadError)
            raise RuntimeError("rolled back")
    assert store.get_conversation(conv.conversation_id).title == "Committed"
    store.close()


def test_each_thread_gets_its_own_connection_and_sees_only_committed_writes(tmp_path):
    store = Store.open_for_user(tmp_path, ADA)
    conv = store.create_conversation("Committed")
    with store.transaction():
        store.rename_conversation(conv.conversation_id, "Not yet committed")
        # another thread, its own connection: the open transaction is invisible to it
        box = _in_thread(lambda: (store.conn, store.get_conversation(conv.conversation_id).title))
    assert "error" not in box, box.get("error")
    other_conn, title_seen = box["value"]
    assert other_conn is not store.conn
    assert title_seen == "Committed"
    assert store.get_conversation(conv.conversation_id).title == "Not yet committed"
    store.close()


def test_every_connection_the_app_opens_is_durable(tmp_path, desktops, s3, fixture_bucket, monkeypatch):
    """Sync opens connections on its upload threads; the student's writes on this one. Every one
    commits with synchronous=FULL in WAL mode (read back from SQLite, not assumed)."""
    opened = []
    real_open = cache_connection.open_connection

    def spy(path):
        conn = real_open(path)
        opened.append(conn.settings)
        return conn
    # every connection is made by this one function (the first one too, through open_checked)
    monkeypatch.setattr(cache_connection, "open_connection", spy)
    bucket, _ = fixture_bucket
    desk = desktops(ADA, bucket)
    conv = desk.store.create_conversation("Durable")
    desk.store.add_message(conv.conversation_id, "user", "saved before the battery died")
    result = desk.sync()
    assert conv.conversation_id in result.pushed
    assert len(opened) >= 2, "the sync's upload thread opened a connection of its own"
    assert all(s["synchronous"] == 2 and s["journal_mode"] == "wal" for s in opened), opened


def test_a_second_process_migrating_at_the_same_time_finds_the_work_done(tmp_path):
    """Another process holds the write lock and runs migration 1 while we open the cache: we
    wait for it, then read the version again inside our own write transaction (before the fix
    we had read 0 first and ran migration 1 again: "table profile already exists")."""
    path = tmp_path / "race.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, timeout=30)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")
    box: dict = {}

    def open_store():
        try:
            box["store"] = Store(path, ADA)
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc
    t = threading.Thread(target=open_store, name="test-second-process")
    t.start()
    t.join(0.5)  # give it the chance to reach the lock (a pass here proves nothing alone)
    MIGRATIONS[1](sqlite_utils.Database(other, recursive_triggers=False))
    other.execute("PRAGMA user_version=1")
    other.execute("COMMIT")
    other.close()
    t.join(30)
    assert "error" not in box, box.get("error")
    store = box["store"]
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_a_cache_that_fails_to_open_is_not_called_damaged_when_its_check_passes(tmp_path):
    path = tmp_path / "odd.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE profile (x)")  # some other writer's table: migration 1 fails
    conn.commit()
    conn.close()
    with pytest.raises(StorageError) as info:
        Store(path, ADA)
    assert "damaged" not in info.value.message.lower()
    assert "left as it is" in info.value.message
    assert path.exists() and not list(tmp_path.glob("*.damaged-*"))


def test_a_damaged_cache_is_moved_aside_kept_and_the_message_says_where(tmp_path):
    path = tmp_path / "broken.sqlite3"
    junk = b"this is not a database" * 100
    path.write_bytes(junk)
    with pytest.raises(BadDataError, match="damaged") as info:
        Store(path, ADA)
    moved = list(tmp_path.glob("broken.sqlite3.damaged-*"))
    assert len(moved) == 1 and moved[0].read_bytes() == junk
    assert str(moved[0]) in info.value.message
    # the next start opens a fresh cache
    with Store(path, ADA) as fresh:
        assert fresh.list_conversations() == []


def test_a_write_says_what_it_changed(tmp_path):
    store = Store.open_for_user(tmp_path, ADA)
    conv = store.create_conversation("Draft")
    announced = []
    store.subscribe(announced.append)
    with store.transaction() as changes:
        store.rename_conversation(conv.conversation_id, "Outline")
        msg = store.add_message(conv.conversation_id, "user", "First point")
    assert changes.conversations == {conv.conversation_id}
    assert changes.messages == {msg.message_id} and changes.upload
    assert announced == [changes]           # announced once, after the commit
    with pytest.raises(StorageError):
        with store.transaction() as failed:
            store.rename_conversation(conv.conversation_id, "Never")
            store.conn.execute("INSERT INTO no_such_table VALUES (1)")
    assert failed.conversations == {conv.conversation_id} and announced == [changes]  # not announced
    store.close()
