"""Malformed remote data (issue 2): each bad object gets a clear error naming it, is left
byte-for-byte untouched in S3, is not downloaded again while its ETag is unchanged, and the rest
of the sync completes; once the web app writes a good copy it syncs. Plus the CLI's one-line
failures for a missing bucket and an unreachable endpoint.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from archpal_desktop.core import layout
from archpal_desktop.core.cache import SyncTables
from archpal_desktop.localstack.server import free_port
from tests.support.s3fixtures import ADA, BOB
from tests.support.seed import conversation, seed_bucket

EVIL_ENTRY_ID = "../../etc/passwd"
BAD_KEY = f"users/{ADA}/conversations/..%2F..%2Fx.json"


def _key(cid: str) -> str:
    return layout.conversation_key(ADA, cid)


def _bad_bodies(rng: random.Random) -> dict[str, tuple[str, bytes, dict]]:
    """name -> (conversation id, the bytes to store, its index entry)."""
    made = {}

    def make(name, spoil):
        doc, entry = conversation(ADA, rng, 2, datetime(2026, 2, 1, 10, tzinfo=timezone.utc))
        made[name] = (doc["conversation_id"], spoil(doc), entry)

    def truncated(doc):
        body = layout.dumps(doc)
        return body[: len(body) // 2]

    def messages_not_a_list(doc):
        doc["messages"] = "Hello, can you help with my essay?"
        return layout.dumps(doc)

    def content_a_number(doc):
        doc["messages"][1]["content"] = 42
        return layout.dumps(doc)

    def other_user(doc):
        doc["user_id"] = BOB
        return layout.dumps(doc)

    make("truncated", truncated)
    make("messages_not_a_list", messages_not_a_list)
    make("content_a_number", content_a_number)
    make("not_utf8", lambda doc: layout.dumps(doc).replace(b"essay", b"ess\xff\xfey"))
    make("other_user", other_user)
    # bigger than any conversation can be: reported from the listing's size, never downloaded
    make("huge", lambda doc: b" " * (layout.MAX_OBJECT_BYTES + 1))
    return made


@pytest.fixture
def bad_bucket(s3, bucket):
    seeded = seed_bucket(s3, bucket, ADA, 5, 3, seed=9)
    bad = _bad_bodies(random.Random(4))
    index = list(seeded.index) + [entry for _, _, entry in bad.values()]
    index.append({"conversation_id": EVIL_ENTRY_ID, "created_at": "2026-02-01T10:00:00Z",
                  "last_updated": "2026-02-01T10:00:00Z", "message_count": 1, "title": "x"})
    for cid, body, _ in bad.values():
        s3.put_object(Bucket=bucket, Key=_key(cid), Body=body)
    s3.put_object(Bucket=bucket, Key=BAD_KEY, Body=b"{}")
    s3.put_object(Bucket=bucket, Key=layout.index_key(ADA), Body=layout.dumps(index))
    return seeded, bad


def _snapshot(s3, bucket, keys) -> dict[str, tuple[str, bytes]]:
    out = {}
    for key in keys:
        obj = s3.get_object(Bucket=bucket, Key=key)
        out[key] = (obj["ETag"], obj["Body"].read())
    return out


def test_each_bad_object_is_reported_left_untouched_and_the_rest_arrives(desktops, s3, bucket, bad_bucket):
    seeded, bad = bad_bucket
    bad_keys = [_key(cid) for cid, _, _ in bad.values()] + [BAD_KEY]
    before = _snapshot(s3, bucket, bad_keys)
    desk = desktops(ADA, bucket)

    result = desk.sync()

    # one clear error per bad object, naming it (plus one for the index entry with a path id)
    assert len(result.errors) == len(bad_keys) + 1, result.errors
    for key in bad_keys:
        assert sum(key in err for err in result.errors) == 1, key
    errors = " | ".join(result.errors)
    for words in ("not valid JSON", "no message list", "no text content", "not UTF-8",
                  "belongs to another user", "too large", "invalid conversation id"):
        assert words in errors
    # the huge one is judged from the listing: never downloaded (everything else once)
    assert result.requests["get"] == 5 + 2 + len(bad) - 1
    recorded = dict(SyncTables(desk.store).bad_objects())
    assert set(recorded) == {_key(cid) for cid, _, _ in bad.values()}
    # the good conversations all arrived, complete
    for cid, ids in seeded.conversations.items():
        assert [m.message_id for m in desk.store.load_messages(cid)] == ids
    # nothing of the bad ones was invented locally
    for cid, _, _ in bad.values():
        assert desk.store.load_messages(cid) == []
    assert _snapshot(s3, bucket, bad_keys) == before

    # unchanged ETags: not downloaded again, still recorded, still untouched
    second = desk.sync()
    assert second.requests["get"] == 0
    assert set(dict(SyncTables(desk.store).bad_objects())) == set(recorded)
    assert _snapshot(s3, bucket, bad_keys) == before


def test_a_bad_object_syncs_once_the_web_app_fixes_it(desktops, s3, bucket, bad_bucket):
    seeded, bad = bad_bucket
    desk = desktops(ADA, bucket)
    desk.sync()
    cid, body, _ = bad["content_a_number"]
    doc = json.loads(body)
    doc["messages"][1]["content"] = "A number is not a reply; this is."
    s3.put_object(Bucket=bucket, Key=_key(cid), Body=layout.dumps(doc))
    cid2, _, _ = bad["truncated"]
    doc2, _ = conversation(ADA, random.Random(8), 3, datetime(2026, 2, 2, tzinfo=timezone.utc))
    doc2["conversation_id"] = cid2
    s3.put_object(Bucket=bucket, Key=_key(cid2), Body=layout.dumps(doc2))

    result = desk.sync()

    assert cid in result.pulled and cid2 in result.pulled
    assert result.requests["get"] >= 2
    assert [m.content for m in desk.store.load_messages(cid)][1] == "A number is not a reply; this is."
    assert [m.message_id for m in desk.store.load_messages(cid2)] == [m["message_id"] for m in doc2["messages"]]
    recorded = dict(SyncTables(desk.store).bad_objects())
    assert _key(cid) not in recorded and _key(cid2) not in recorded
    assert desk.store.get_conversation(cid).bad_remote is None
    assert len(recorded) == len(bad) - 2


def test_a_malformed_index_is_reported_and_never_overwritten(desktops, s3, bucket):
    seeded = seed_bucket(s3, bucket, ADA, 4, 2, seed=12)
    key = layout.index_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b'[{"conversation_id": "')
    before = _snapshot(s3, bucket, [key])
    desk = desktops(ADA, bucket)

    result = desk.sync()
    assert any(key in err for err in result.errors), result.errors
    # the files themselves still arrive (orphans get entries locally)
    assert {c.conversation_id for c in desk.store.list_conversations()} == set(seeded.conversations)
    # a new conversation here is uploaded, but the unreadable index is not replaced
    conv = desk.store.create_conversation("Outline for my ethics paper")
    desk.store.add_message(conv.conversation_id, "user", "Where do I start?")
    desk.sync()
    assert s3.head_object(Bucket=bucket, Key=_key(conv.conversation_id))["ContentLength"] > 0
    assert _snapshot(s3, bucket, [key]) == before


# -- the index around bad files ----------------------------------------------------------------

def test_bad_files_do_not_make_the_next_sync_rewrite_the_index(desktops, s3, bucket, bad_bucket):
    desk = desktops(ADA, bucket)
    desk.sync()
    key = layout.index_key(ADA)
    before = _snapshot(s3, bucket, [key])
    second = desk.sync()
    assert second.requests == {"list": 1, "get": 0, "put": 0, "delete": 0}
    assert _snapshot(s3, bucket, [key]) == before


def test_a_pushed_index_keeps_the_entry_it_cannot_use(desktops, s3, bucket, bad_bucket):
    desk = desktops(ADA, bucket)
    desk.sync()
    conv = desk.store.create_conversation("New here")
    desk.store.add_message(conv.conversation_id, "user", "Hello from the desktop.")
    assert desk.sync().index_pushed
    index = json.loads(s3.get_object(Bucket=bucket, Key=layout.index_key(ADA))["Body"].read())
    assert EVIL_ENTRY_ID in [e["conversation_id"] for e in index]


def test_a_bad_conversation_says_so_in_the_list(desktops, s3, bucket, bad_bucket):
    _, bad = bad_bucket
    desk = desktops(ADA, bucket)
    desk.sync()
    for name, (cid, _, _) in bad.items():
        conv = desk.store.get_conversation(cid)
        assert conv is not None and conv.bad_remote, name


def test_an_index_entry_with_a_path_id_is_reported(desktops, s3, bucket, bad_bucket):
    desk = desktops(ADA, bucket)
    result = desk.sync()
    assert any(EVIL_ENTRY_ID in err for err in result.errors), result.errors


# -- the command line ---------------------------------------------------------------------------

def _cli(env_overrides: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-m", "archpal_desktop", "sync", "--user", ADA,
                           "--data-dir", str(tmp_path / "data")],
                          env=env, capture_output=True, text=True, timeout=120)


def test_cli_missing_bucket_fails_with_one_line(local_aws, tmp_path):
    run = _cli({"ARCHPAL_S3_BUCKET_NAME": "archpal-no-such-bucket"}, tmp_path)
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "bucket" in lines[0].lower() and "Traceback" not in run.stderr


def test_cli_unreachable_endpoint_fails_with_one_line(local_aws, tmp_path):
    run = _cli({"ARCHPAL_S3_BUCKET_NAME": "archpal-anything",
                "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{free_port()}"}, tmp_path)
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "offline" in lines[0].lower() or "could not be reached" in lines[0].lower()
