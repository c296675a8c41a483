"""Malformed remote objects stay reported until someone fixes them (issue 18, points 20 and 21):
every sync says so, a student's message that cannot go up because of one is named plainly, and
the words say what ArchPal did and what the person can do."""
from __future__ import annotations

import json
import subprocess
import sys

from archpal_desktop.core import layout
from tests.core.test_malformed import bad_bucket  # noqa: F401 - the same seeded bucket
from tests.support.s3fixtures import ADA


def _key(cid: str) -> str:
    return layout.conversation_key(ADA, cid)


def test_an_unresolved_bad_object_is_reported_by_every_sync(desktops, s3, bucket, bad_bucket):  # noqa: F811
    _, bad = bad_bucket
    desk = desktops(ADA, bucket)
    first = desk.sync()
    second = desk.sync()
    assert second.requests["get"] == 0          # still not downloaded again
    assert not second.ok
    for cid, _, _ in bad.values():
        assert sum(_key(cid) in err for err in second.errors) == 1, (cid, second.errors)
    assert all("Still unresolved" in err for err in second.errors if any(
        _key(cid) in err for cid, _, _ in bad.values()))
    assert len(first.errors) >= len(bad)


def test_the_student_is_told_plainly_when_their_message_cannot_be_uploaded(desktops, s3, bucket,
                                                                           bad_bucket):  # noqa: F811
    _, bad = bad_bucket
    desk = desktops(ADA, bucket)
    desk.sync()
    cid, body, _ = bad["content_a_number"]
    # the list shows the conversation (from the index); the student writes into it
    desk.store.add_message(cid, "user", "Can you look at my second paragraph?")
    result = desk.sync()
    assert cid in result.blocked
    said = [err for err in result.errors if "cannot be uploaded" in err]
    assert len(said) == 1, result.errors
    assert result.errors[0] == said[0]          # first: the window's status line shows it
    assert "saved on this computer" in said[0] and _key(cid) in said[0]
    assert "IT helpdesk" in said[0]
    # nothing was written over the bad file
    assert s3.get_object(Bucket=bucket, Key=_key(cid))["Body"].read() == body
    # and it keeps being said while the file stays bad
    assert cid in desk.sync().blocked


def test_bad_object_messages_say_what_was_done_and_read_well(desktops, s3, bucket, bad_bucket):  # noqa: F811
    _, bad = bad_bucket
    cid = "0a0a0a0a-0000-4000-8000-0000000000aa"
    doc = {"conversation_id": cid, "user_id": ADA, "created_at": "2026-02-01T10:00:00Z",
           "last_updated": "2026-02-01T10:00:00Z", "metadata": {},
           "messages": [{"role": "user", "content": "no id here", "timestamp": "2026-02-01T10:00:00Z"}]}
    s3.put_object(Bucket=bucket, Key=_key(cid), Body=json.dumps(doc).encode())
    unterminated = "0a0a0a0a-0000-4000-8000-0000000000bb"
    s3.put_object(Bucket=bucket, Key=_key(unterminated), Body=b'{\n"conversation_id": "0a0a')
    desk = desktops(ADA, bucket)
    errors = desk.sync().errors
    text = " | ".join(errors)
    assert "at at" not in text
    assert "None" not in text
    missing = next(e for e in errors if _key(cid) in e)
    assert "has no message id" in missing
    cut = next(e for e in errors if _key(unterminated) in e)
    assert "Unterminated string starting at: line 2" in cut
    for err in errors:
        if any(_key(c) in err for c, _, _ in bad.values()) or _key(cid) in err:
            assert "left it as it is and skipped it" in err or "left as it is" in err, err


def test_sync_json_keeps_saying_an_object_is_bad(local_aws, s3, bucket, bad_bucket, tmp_path):  # noqa: F811
    import os

    env = dict(os.environ, ARCHPAL_S3_BUCKET_NAME=bucket)
    args = [sys.executable, "-m", "archpal_desktop", "sync", "--json", "--user", ADA,
            "--data-dir", str(tmp_path / "d")]
    reports = []
    for _ in range(2):  # the second run downloads nothing and still says what is wrong
        out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        reports.append(json.loads(out.stdout))
    assert reports[1]["requests"]["get"] == 0
    assert reports[1]["ok"] is False and len(reports[1]["errors"]) >= 6, reports[1]


def test_with_a_broken_index_a_new_conversation_is_said_to_be_unlisted(desktops, s3, bucket):
    from tests.support.seed import seed_bucket

    seed_bucket(s3, bucket, ADA, 2, 2, seed=21)
    key = layout.index_key(ADA)
    s3.put_object(Bucket=bucket, Key=key, Body=b'[{"conversation_id": ')
    desk = desktops(ADA, bucket)
    desk.sync()
    conv = desk.store.create_conversation("Ethics paper outline")
    desk.store.add_message(conv.conversation_id, "user", "Where do I start?")
    for _ in range(2):   # the upload happens once; the warning stays while the index is bad
        result = desk.sync()
        said = [e for e in result.errors if "cannot list them" in e]
        assert len(said) == 1 and "\u201cEthics paper outline\u201d" in said[0], result.errors
        assert conv.conversation_id in result.blocked
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b'[{"conversation_id": '
