"""The local cache: private files, transactions, search, drafts, migrations on old databases."""
from __future__ import annotations

import json
import sqlite3

import pytest

from archpal_desktop.core import layout
from archpal_desktop.core.errors import BadDataError, StorageError
from archpal_desktop.core.cache import MIGRATIONS, SCHEMA_VERSION
from archpal_desktop.core.cache import Store, migrate, user_db_path
from tests.support.s3fixtures import ADA, BOB

PROFILE = {"first_name": " Ada ", "last_name": "Lovelace", "college_year": "Second Year",
           "major": "English", "course_number": "ENGL 1102"}


@pytest.fixture
def store(tmp_path):
    with Store.open_for_user(tmp_path / "data", ADA) as s:
        yield s


def test_one_private_database_per_user(tmp_path):
    a = Store.open_for_user(tmp_path, ADA)
    b = Store.open_for_user(tmp_path, BOB)
    a.create_conversation("Ada's")
    assert [c.title for c in b.list_conversations()] == []
    assert a.path != b.path
    assert oct(a.path.stat().st_mode & 0o777) == "0o600"
    assert oct(a.path.parent.stat().st_mode & 0o777) == "0o700"
    assert a.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(BadDataError):
        user_db_path(tmp_path, "../escape")
    a.close(), b.close()


def test_messages_are_saved_at_once_and_marked_for_upload(store):
    conv = store.create_conversation()
    assert conv.title == layout.default_title(conv.created_at)
    store.save_profile(PROFILE, email="ada@uga.edu")
    m1 = store.add_message(conv.conversation_id, "user", "Where do I start?")
    m2 = store.add_message(conv.conversation_id, "assistant", "What is your claim?", emotion="point",
                           model="demo")
    msgs = store.load_messages(conv.conversation_id, with_raw=True)
    assert [m.message_id for m in msgs] == [m1.message_id, m2.message_id]
    assert msgs[1].raw["metadata"] == {"model": "demo", "course_number": "ENGL 1102",
                                       "emotion": "point", "message_index": 1}
    assert store.get_conversation(conv.conversation_id).message_count == 2
    assert store.pending_upload_count() == 2  # the conversation and the profile


def test_profile_is_trimmed_and_in_web_order(store):
    doc = store.save_profile(PROFILE, email="ada@uga.edu")
    assert list(doc) == ["first_name", "last_name", "college_year", "major", "course_number",
                         "unique_identifier", "email", "created_at", "updated_at", "cognito_user_id"]
    assert doc["first_name"] == "Ada" and doc["cognito_user_id"] == ADA
    again = store.save_profile({**PROFILE, "major": "History"})
    assert again["unique_identifier"] == doc["unique_identifier"]
    assert again["created_at"] == doc["created_at"]
    with pytest.raises(BadDataError, match="major"):
        store.save_profile({**PROFILE, "major": " "})


def test_search_returns_conversation_message_and_highlight(store):
    conv = store.create_conversation("Green spaces")
    store.add_message(conv.conversation_id, "user", "Urban parks and café notes in Ελληνικά")
    target = store.add_message(conv.conversation_id, "assistant", "Think about heat islands in cities.")
    hits = store.search("heat isl")
    assert [(h.conversation_id, h.message_id, h.title) for h in hits] == \
        [(conv.conversation_id, target.message_id, "Green spaces")]
    assert hits[0].snippet_html == "Think about <b>heat</b> <b>islands</b> in cities."
    assert store.search("cafe")[0].snippet_text.startswith("Urban parks")  # diacritics folded
    assert store.search("ελληνικά")[0].snippet_html.endswith("<b>Ελληνικά</b>")
    assert store.search('") OR * NEAR(') == []  # FTS syntax in user text is just text
    store.delete_conversation(conv.conversation_id)
    assert store.search("heat") == []


def test_local_only_replies_never_count_as_uploadable(store):
    conv = store.create_conversation()
    user = store.add_message(conv.conversation_id, "user", "hi", local_state="waiting")
    partial = store.add_message(conv.conversation_id, "assistant", "Half a rep", local_state="failed")
    assert store.get_conversation(conv.conversation_id).message_count == 1
    assert [m.message_id for m in store.load_messages(conv.conversation_id)] == \
        [user.message_id, partial.message_id]   # both shown, only the question counted


def test_drafts_survive_reopening(tmp_path):
    with Store.open_for_user(tmp_path, ADA) as s:
        cid = s.create_conversation().conversation_id
        s.set_draft(cid, "half a thought")
    with Store.open_for_user(tmp_path, ADA) as s:
        assert s.get_draft(cid) == "half a thought"
        assert s.get_conversation(cid).draft == "half a thought"


@pytest.mark.parametrize("start", range(1, SCHEMA_VERSION))
def test_migrations_keep_data_of_an_old_database(tmp_path, start):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=start)
    cid = "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5"
    raw = layout.new_message("user", "old heat message", message_id="474eaf50-3729-56fc-9f3e-f5a1a4ca13be",
                             timestamp="2026-09-01T14:03:19Z", course_number="X", message_index=0)
    conn.execute("INSERT INTO conversations(conversation_id, title, created_at, last_updated, updated_key) "
                 "VALUES(?, 'Old', '2026-09-01T14:03:17Z', '2026-09-01T14:03:19Z', '')", (cid,))
    conn.execute("INSERT INTO messages(message_id, conversation_id, role, content, timestamp, ts_key, raw) "
                 "VALUES(?,?,?,?,?,?,?)", (raw["message_id"], cid, "user", raw["content"], raw["timestamp"],
                                           layout.ts_key(raw["timestamp"]), json.dumps(raw)))
    conn.close()
    store = Store(path, ADA)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [m.content for m in store.load_messages(cid)] == ["old heat message"]
    assert [h.message_id for h in store.search("heat")] == [raw["message_id"]]
    assert store.get_draft(cid) == ""
    store.close()


def test_a_newer_schema_is_refused_clearly(tmp_path):
    path = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(BadDataError, match="newer ArchPal"):
        Store(path, ADA)


def test_a_damaged_database_says_so(tmp_path):
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BadDataError, match="damaged"):
        Store(path, ADA)


def test_a_failed_write_rolls_back_and_keeps_what_was_saved(store):
    conv = store.create_conversation()
    store.add_message(conv.conversation_id, "user", "kept")
    store.conn.execute("CREATE TRIGGER no_more BEFORE INSERT ON messages BEGIN "
                       "SELECT RAISE(ABORT, 'database or disk is full'); END")
    with pytest.raises(StorageError, match="disk is full"):
        store.add_message(conv.conversation_id, "user", "lost?")
    assert [m.content for m in store.load_messages(conv.conversation_id)] == ["kept"]
    assert store.get_conversation(conv.conversation_id).message_count == 1


def test_migrations_are_contiguous():
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))
