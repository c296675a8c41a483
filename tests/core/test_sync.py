"""The sync engine against moto's S3 over HTTP, seeded from the shared fixtures."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid

from archpal_desktop.core import layout
from tests.support.s3fixtures import ADA, BOB
from tests.support.webapp import WebAppWriter

GREEN = "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5"
CONCLUSION = "9c623861-ea42-5811-bcd7-457c9ea503b6"
ORPHAN = "62b5a0e7-b2ec-5a08-9c7f-567f59e7943f"


def body(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def remote_ids(s3, bucket, sub, cid):
    return [m["message_id"] for m in json.loads(body(s3, bucket, layout.conversation_key(sub, cid)))["messages"]]


def test_first_sync_reads_every_quirk_and_touches_no_web_file(s3, fixture_bucket, desktops):
    bucket, objects = fixture_bucket
    ada = desktops(ADA, bucket)
    seen = []
    result = ada.sync(progress=lambda done, total, phase: seen.append((phase, done, total)))
    assert result.ok and result.requests["list"] == 1
    convs = {c.conversation_id: c for c in ada.store.list_conversations()}
    assert set(convs) == {GREEN, CONCLUSION, ORPHAN}                 # the orphan file is not lost
    assert convs[CONCLUSION].title == "Conclusion help \u2014 ENGL 1102"
    assert convs[CONCLUSION].message_count == 4                      # stale index count corrected
    assert convs[ORPHAN].title == "Sep 02, 2026 09:00 AM UTC"        # the web app's default title
    legacy = ada.store.load_messages(CONCLUSION)[3]
    assert (legacy.content, legacy.emotion) == (
        "Nice \u2014 those connect well. Try ending on the heat point; it's the most urgent.", "success")
    assert ada.store.get_profile()["first_name"] == "Ada"
    assert ("download", 3, 3) in seen
    # conversation files and the profile are left byte for byte; only the index is repaired
    for key, data in objects.items():
        if key != layout.index_key(ADA):
            assert body(s3, bucket, key) == data, key
    index = layout.parse_index(body(s3, bucket, layout.index_key(ADA)))
    assert [e["conversation_id"] for e in index] == [GREEN, CONCLUSION, ORPHAN]
    assert index[1]["message_count"] == 4 and index[1]["title"] == "Conclusion help \u2014 ENGL 1102"
    assert index[0] == json.loads(objects[layout.index_key(ADA)])[0]   # untouched entry unchanged
    # a second sync with nothing new: one LIST, nothing else
    again = ada.sync()
    assert again.requests == {"list": 1, "get": 0, "put": 0, "delete": 0}


def test_desktop_writes_land_in_the_web_apps_format(s3, fixture_bucket, desktops):
    bucket, _ = fixture_bucket
    ada = desktops(ADA, bucket)
    ada.sync()
    conv = ada.store.create_conversation()
    m1 = ada.store.add_message(conv.conversation_id, "user", "Is my thesis arguable? caf\u00e9")
    m2 = ada.store.add_message(conv.conversation_id, "assistant", "Let's test it.", emotion="point",
                               model="anthropic.claude-sonnet-4")
    result = ada.sync()
    assert result.pushed == [conv.conversation_id] and result.index_pushed
    key = layout.conversation_key(ADA, conv.conversation_id)
    stored = body(s3, bucket, key)
    doc = json.loads(stored)
    assert stored == json.dumps(doc, indent=2).encode()             # the web app's exact writer
    assert "caf\\u00e9" in stored.decode()                            # non-ASCII escaped as it does
    assert [m["message_id"] for m in doc["messages"]] == [m1.message_id, m2.message_id]
    assert doc["messages"][1]["metadata"] == {"model": "anthropic.claude-sonnet-4",
                                              "course_number": "ENGL 1102", "emotion": "point",
                                              "message_index": 1}
    entry = [e for e in layout.parse_index(body(s3, bucket, layout.index_key(ADA)))
             if e["conversation_id"] == conv.conversation_id][0]
    assert entry["title"] == conv.title and entry["message_count"] == 2
    # the web app can keep writing to it
    web = WebAppWriter(s3, bucket, ADA)
    web.append(conv.conversation_id, "user", "From the browser")
    assert ada.sync().pulled == [conv.conversation_id]
    assert [m.content for m in ada.store.load_messages(conv.conversation_id)][-1] == "From the browser"
    assert ada.store.pending_upload_count() == 0


def test_a_blind_web_write_that_drops_our_message_is_repaired(s3, fixture_bucket, desktops):
    bucket, _ = fixture_bucket
    ada = desktops(ADA, bucket)
    ada.sync()
    key = layout.conversation_key(ADA, GREEN)
    stale = json.loads(body(s3, bucket, key))           # the web app read the file...
    mine = ada.store.add_message(GREEN, "user", "Written on the desktop")
    ada.sync()                                           # ...we uploaded our message...
    assert mine.message_id in remote_ids(s3, bucket, ADA, GREEN)
    stale["messages"].append(layout.new_message("assistant", "web reply", message_id=
                                                "11111111-2222-4333-8444-555555555555",
                                                timestamp=layout.now_ts(), course_number="ENGL 1102",
                                                message_index=4, model="m", emotion="smile"))
    s3.put_object(Bucket=bucket, Key=key, Body=layout.dumps(stale))   # ...and wrote blindly over it
    assert mine.message_id not in remote_ids(s3, bucket, ADA, GREEN)
    result = ada.sync()
    assert result.pushed == [GREEN]
    ids = remote_ids(s3, bucket, ADA, GREEN)
    assert mine.message_id in ids and "11111111-2222-4333-8444-555555555555" in ids
    assert len(ids) == len(set(ids)) == 6


def test_two_desktops_writing_the_same_conversation_keep_both(s3, fixture_bucket, desktops):
    bucket, _ = fixture_bucket
    a, b = desktops(ADA, bucket), desktops(ADA, bucket)
    a.sync(), b.sync()
    ma = a.store.add_message(GREEN, "user", "from A")
    mb = b.store.add_message(GREEN, "user", "from B")
    b.store.rename_conversation(GREEN, "Renamed on B")
    a.sync()
    rb = b.sync()                                        # B's PUT meets 412, re-reads, re-merges
    assert rb.conflicts >= 1 or rb.pulled
    a.sync()
    for d in (a, b):
        assert [m.message_id for m in d.store.load_messages(GREEN)][-2:] == sorted(
            [ma.message_id, mb.message_id], key=lambda i: (d.store.get_message(i).timestamp, i))
        assert d.store.get_conversation(GREEN).title == "Renamed on B"
    assert set(remote_ids(s3, bucket, ADA, GREEN)) >= {ma.message_id, mb.message_id}


def test_delete_on_one_desktop_reaches_the_other_but_new_messages_keep_it(s3, fixture_bucket, desktops):
    bucket, _ = fixture_bucket
    a, b = desktops(ADA, bucket), desktops(ADA, bucket)
    a.sync(), b.sync()
    a.store.delete_conversation(GREEN)
    a.store.delete_conversation(ORPHAN)
    late = b.store.add_message(ORPHAN, "user", "B wrote this after A deleted")  # B has not synced yet
    ra = a.sync()
    assert set(ra.deleted_remote) == {GREEN, ORPHAN}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"users/{ADA}/")["Contents"]}
    assert layout.conversation_key(ADA, GREEN) not in keys
    assert layout.tombstones_key(ADA) in keys            # our own key; the web app never writes it
    rb = b.sync()
    assert GREEN in rb.deleted_local
    assert b.store.get_conversation(GREEN) is None
    assert b.store.get_conversation(ORPHAN) is not None  # changed elsewhere: kept
    a.sync()
    assert a.store.get_conversation(ORPHAN) is not None  # and it comes back on A too
    assert late.message_id in [m.message_id for m in a.store.load_messages(ORPHAN)]
    index_ids = {e["conversation_id"] for e in layout.parse_index(body(s3, bucket, layout.index_key(ADA)))}
    assert GREEN not in index_ids and ORPHAN in index_ids


def test_an_emptied_bucket_never_empties_the_cache(s3, fixture_bucket, desktops):
    bucket, _ = fixture_bucket
    ada = desktops(ADA, bucket)
    ada.sync()
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix=f"users/{ADA}/")["Contents"]:
        s3.delete_object(Bucket=bucket, Key=obj["Key"])
    result = ada.sync()
    assert len(ada.store.list_conversations()) == 3
    assert set(result.restored) == {GREEN, CONCLUSION, ORPHAN}
    assert len(remote_ids(s3, bucket, ADA, CONCLUSION)) == 4


def test_index_entry_without_a_file_stays_visible_as_missing(s3, bucket, desktops):
    missing = "5b6f0a1c-1111-4222-8333-444455556666"
    s3.put_object(Bucket=bucket, Key=layout.index_key(ADA), Body=layout.dumps([
        layout.index_entry(missing, "2026-09-01T14:00:00Z", "2026-09-01T14:01:00Z", 3, "Lost file")]))
    ada = desktops(ADA, bucket)
    result = ada.sync()
    assert result.ok and result.requests["put"] == 0
    conv = ada.store.get_conversation(missing)
    assert conv.title == "Lost file" and conv.file_missing and conv.message_count == 3
    assert ada.sync().requests == {"list": 1, "get": 0, "put": 0, "delete": 0}


def test_other_users_data_is_never_touched(s3, fixture_bucket, desktops):
    bucket, objects = fixture_bucket
    ada = desktops(ADA, bucket)
    ada.store.create_conversation("new")
    ada.sync()
    for key, data in objects.items():
        if key.startswith(f"users/{BOB}/"):
            assert body(s3, bucket, key) == data


def test_cli_sync_json_and_export_all(s3, fixture_bucket, tmp_path):
    bucket, objects = fixture_bucket
    env_args = ["--user", ADA, "--data-dir", str(tmp_path / "d")]
    import os

    env = dict(os.environ, ARCHPAL_S3_BUCKET_NAME=bucket)
    out = subprocess.run([sys.executable, "-m", "archpal_desktop", "sync", "--json", *env_args],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["requests"]["list"] == 1 and summary["requests"]["get"] == 5
    assert sorted(summary["pulled"]) == sorted([GREEN, CONCLUSION, ORPHAN])
    exp = subprocess.run([sys.executable, "-m", "archpal_desktop", "export", "--all", "--out",
                          str(tmp_path / "backup"), *env_args], capture_output=True, text=True,
                         env=env, timeout=60)
    assert exp.returncode == 0, exp.stderr
    backup = tmp_path / "backup"
    assert (backup / "info.json").read_bytes() == objects[layout.info_key(ADA)]
    assert (backup / "conversations" / f"{GREEN}.json").read_bytes() == objects[layout.conversation_key(ADA, GREEN)]
    assert len(json.loads((backup / "conversations.json").read_text())) == 3
    # failures: one line on stderr, non-zero exit
    bad = subprocess.run([sys.executable, "-m", "archpal_desktop", "sync", *env_args],
                         capture_output=True, text=True, timeout=60,
                         env=dict(env, ARCHPAL_S3_BUCKET_NAME="no-such-bucket-here"))
    assert bad.returncode != 0
    assert bad.stderr.strip().count("\n") == 0 and "bucket does not exist" in bad.stderr


def test_a_long_web_conversation_arrives_whole_in_order_and_searchable(s3, bucket, desktops):
    # 250 messages: the first sync writes them in several multi-row statements
    cid = "5b0c8f4e-2d1a-4c3b-9e8f-7a6b5c4d3e2f"
    messages = [layout.new_message("user" if i % 2 == 0 else "assistant",
                                   f"draft paragraph {i} " + ("zeugma" if i == 249 else "ordinary"),
                                   message_id=str(uuid.UUID(int=i + 1, version=4)),
                                   timestamp=f"2026-03-01T1{i // 60}:{i % 60:02d}:00.000000Z",
                                   course_number="ENGL 1102", message_index=i)
                for i in range(250)]
    doc = layout.conversation_doc(cid, ADA, messages[0]["timestamp"], messages, messages[-1]["timestamp"])
    s3.put_object(Bucket=bucket, Key=layout.conversation_key(ADA, cid), Body=layout.dumps(doc))
    ada = desktops(ADA, bucket)
    assert ada.sync().ok
    held = ada.store.load_messages(cid, with_raw=True)
    assert [m.message_id for m in held] == [m["message_id"] for m in messages]
    assert [m.raw for m in held] == messages                 # each kept whole, unknown fields too
    hits = ada.store.search("zeugma")
    assert [(h.conversation_id, h.message_id) for h in hits] == [(cid, messages[249]["message_id"])]
    assert ada.sync().requests == {"list": 1, "get": 0, "put": 0, "delete": 0}
