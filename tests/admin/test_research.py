"""export-research on the shared fixtures, cell by cell, through the real CLI and moto's server."""
from __future__ import annotations

import csv
import json
import os

from archpal_desktop.core.admin.research import anonymise, pair_messages
from tests.support.s3fixtures import ADA, BOB

ADA_ID = ("a8180934-d8ac-5b3a-9663-649b06238435", "Second Year", "English")
BOB_ID = ("fab6f898-88fa-5d0d-8957-829b32c4618c", "Faculty", "Architecture")
HEADER = ["unique_identifier", "college_year", "major", "user_message", "user_message_time",
          "assistant_message", "assistant_message_time"]
EXPECTED = [
    # 8bdc0a50: two exchanges
    [*ADA_ID, "I have to write an argumentative essay on urban green spaces. Where do I start?",
     "2026-09-01T14:03:19.012331Z",
     "Great topic! Before drafting, let's pin down your claim. What do you believe cities should "
     "do about green space, and why?", "2026-09-01T14:03:25.012331Z"],
    [*ADA_ID, "I think every neighborhood should have a park within a 10-minute walk.",
     "2026-09-01T14:03:31.012331Z",
     "That's a clear, arguable claim. What evidence could show why a 10-minute walk matters? "
     "Think about health, equity, or climate.", "2026-09-01T14:03:37.012331Z"],
    # 9c623861: stale message_count (2, file has 4); the last reply's legacy inline emotion is cut
    [*ADA_ID, "Can you write my conclusion paragraph?", "2026-09-01T14:03:47.512331Z",
     "I can't write it for you, but I can help you build it yourself. What are the three main "
     "points your essay makes?", "2026-09-01T14:03:53.512331Z"],
    [*ADA_ID, "Here are my points: access, health, heat.", "2026-09-01T14:09:00Z",
     "Nice \u2014 those connect well. Try ending on the heat point; it's the most urgent.",
     "2026-09-01T14:09:05Z"],
    # 62b5a0e7: the orphan file (no index entry), a question with no reply yet
    [*ADA_ID, "Quick question about MLA citations for a website?", "2026-09-02T09:00:03Z", "", ""],
    [*BOB_ID, "How should I structure feedback for my studio students?",
     "2026-10-05T18:30:07.500000Z",
     "Start with what the feedback is for. Who reads it, and what should they do next?",
     "2026-10-05T18:30:13.500000Z"],
]


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_export_research_fixtures_cell_by_cell(cli, fixture_bucket, tmp_path):
    bucket, _objects = fixture_bucket
    out = tmp_path / "study"
    run = cli("admin", "export-research", "--out", out, "--bucket", bucket)
    assert run.code == 0, run.err
    assert "Exported 6 rows from 4 conversations of 2 users." in run.out
    assert "problem:" not in run.err
    rows = read_csv(out / "research_conversations.csv")
    assert rows[0] == HEADER
    assert len(rows) - 1 == len(EXPECTED)
    for got, want in zip(rows[1:], EXPECTED):
        assert got == want
    ids = read_csv(out / "research_identifiers.csv")
    assert ids == [["first_name", "last_name", "unique_identifier"],
                   ["Ada", "Lovelace", ADA_ID[0]], ["Bob", "Ng", BOB_ID[0]]]
    data = (out / "research_conversations.csv").read_text(encoding="utf-8")
    for personal in ("Ada", "Lovelace", "Bob", "ada@uga.edu", ADA, BOB):
        assert personal not in data
    assert oct(os.stat(out / "research_identifiers.csv").st_mode & 0o777) == "0o600"


def test_export_research_anonymises_and_survives_bad_objects(cli, s3, fixture_bucket, tmp_path):
    bucket, _ = fixture_bucket
    cid = "11111111-2222-4333-8444-555555555555"
    convo = {"conversation_id": cid, "user_id": ADA, "created_at": "2026-09-03T10:00:00Z",
             "messages": [
                 {"message_id": "aaaaaaaa-0000-4000-8000-000000000001", "role": "user",
                  "content": "I'm Ada Lovelace; ADA is my nickname, not Adam or Adams.",
                  "timestamp": "2026-09-03T10:00:01Z", "metadata": {}},
                 {"message_id": "aaaaaaaa-0000-4000-8000-000000000002", "role": "user",
                  "content": "Hello?", "timestamp": "2026-09-03T10:00:02Z", "metadata": {}},
                 {"message_id": "aaaaaaaa-0000-4000-8000-000000000003", "role": "assistant",
                  "content": "Hi Ada! Let's start. {\"emotion\": \"hello\"}",
                  "timestamp": "2026-09-03T10:00:05Z", "metadata": {}}],
             "metadata": {}, "last_updated": "2026-09-03T10:00:05Z"}
    s3.put_object(Bucket=bucket, Key=f"users/{ADA}/conversations/{cid}.json",
                  Body=json.dumps(convo, indent=2).encode())
    broken = f"users/{BOB}/conversations/22222222-2222-4333-8444-555555555555.json"
    s3.put_object(Bucket=bucket, Key=broken, Body=b'{"conversation_id": ')
    s3.put_object(Bucket=bucket, Key="users/c0ffee00-0000-4000-8000-000000000000/conversations.json",
                  Body=b"[]")
    run = cli("admin", "export-research", "--out", tmp_path, "--bucket", bucket)
    assert run.code == 0, run.err
    assert f"problem: {broken}: The object {broken} is not valid JSON" in run.err
    assert "users/c0ffee00-0000-4000-8000-000000000000/info.json: missing" in run.err
    rows = read_csv(tmp_path / "research_conversations.csv")[1:]
    assert len(rows) == 8
    assert rows[5] == [*ADA_ID, "I'm [NAME] [NAME]; [NAME] is my nickname, not Adam or Adams.",
                       "2026-09-03T10:00:01Z", "", ""]
    assert rows[6] == [*ADA_ID, "Hello?", "2026-09-03T10:00:02Z", "Hi [NAME]! Let's start.",
                       "2026-09-03T10:00:05Z"]
    assert rows[7][0] == BOB_ID[0]  # Bob's good conversation is still there


def test_pairing_rules():
    u1, u2 = {"role": "user", "n": 1}, {"role": "user", "n": 2}
    a1, a2 = {"role": "assistant", "n": 3}, {"role": "assistant", "n": 4}
    assert pair_messages([u1, a1, u2, a2]) == [(u1, a1), (u2, a2)]
    assert pair_messages([u1, u2, a1]) == [(u1, None), (u2, a1)]
    assert pair_messages([a1, u1]) == [(None, a1), (u1, None)]
    assert anonymise("Jo-Ann and jo-ann met Jo", ["Jo-Ann"]) == "[NAME] and [NAME] met Jo"
    assert anonymise("A B C", ["A", ""]) == "A B C"  # one-letter names would shred the text
