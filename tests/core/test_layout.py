"""The S3 contract: the web app's files round-trip byte for byte, quirks read correctly."""
from __future__ import annotations

import json

import pytest

from archpal_desktop.core import layout
from archpal_desktop.core.errors import BadDataError
from tests.support.s3fixtures import ADA, BOB, fixture_objects


@pytest.mark.parametrize("key", sorted(fixture_objects()))
def test_fixture_files_round_trip_byte_for_byte(key):
    body = fixture_objects()[key]
    sub = key.split("/")[1]
    kind, cid = layout.classify_key(sub, key)
    if kind == "conversation":
        doc = layout.parse_conversation(body, sub, cid, key=key)
    elif kind == "index":
        doc = layout.parse_index(body, key=key)
    else:
        doc = layout.parse_info(body, key=key)
    assert layout.dumps(doc) == body


def test_timestamps_with_and_without_microseconds_compare_as_instants():
    assert layout.ts_key("2026-09-01T14:09:00Z") < layout.ts_key("2026-09-01T14:09:00.000001Z")
    assert layout.ts_key("2026-09-01T14:09:00Z") == layout.ts_key("2026-09-01T14:09:00.000000Z")
    assert layout.ts_key("2026-09-01T16:09:00+02:00") == layout.ts_key("2026-09-01T14:09:00Z")
    # as the web app writes: micros dropped when zero
    from datetime import datetime

    assert layout.format_ts(datetime(2026, 9, 1, 14, 9)) == "2026-09-01T14:09:00Z"
    assert layout.format_ts(datetime(2026, 9, 1, 14, 9, 0, 512331)) == "2026-09-01T14:09:00.512331Z"


def test_default_title_is_the_web_apps():
    assert layout.default_title("2026-09-01T14:03:17.512331Z") == "Sep 01, 2026 02:03 PM UTC"


def test_legacy_inline_emotion_is_shown_clean_without_rewriting():
    objs = fixture_objects()
    key = f"users/{ADA}/conversations/9c623861-ea42-5811-bcd7-457c9ea503b6.json"
    doc = layout.parse_conversation(objs[key], ADA, "9c623861-ea42-5811-bcd7-457c9ea503b6")
    legacy = doc["messages"][3]
    text, emotion = layout.message_view(legacy)
    assert text == "Nice \u2014 those connect well. Try ending on the heat point; it's the most urgent."
    assert emotion == "success"
    assert legacy["content"].endswith('{"emotion": "success"}')  # stored message untouched
    assert layout.message_view(doc["messages"][1]) == (doc["messages"][1]["content"], "default")


def test_ids_are_validated_before_becoming_keys():
    for bad in ("../x", "a/b", "", None, "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5/../x",
                "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc"):
        with pytest.raises(BadDataError):
            layout.conversation_key(ADA, bad)
    with pytest.raises(BadDataError):
        layout.user_prefix("../other")
    assert layout.classify_key(ADA, f"users/{ADA}/conversations/..%2Fx.json") == ("bad", "..%2Fx")
    assert layout.classify_key(ADA, f"users/{BOB}/info.json") == ("other", None)


@pytest.mark.parametrize("body, words", [
    (b'{"conversation_id": "8bdc0a50', "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[]", "not a JSON object"),
    (json.dumps({"conversation_id": "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5", "user_id": ADA,
                 "messages": "nope"}).encode(), "no message list"),
    (json.dumps({"conversation_id": "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5", "user_id": BOB,
                 "messages": []}).encode(), "belongs to another user"),
    (json.dumps({"conversation_id": "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5", "user_id": ADA,
                 "messages": [{"message_id": "x", "role": "user", "content": "hi",
                               "timestamp": "2026-09-01T14:09:00Z"}]}).encode(), "message id"),
    (json.dumps({"conversation_id": "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5", "user_id": ADA,
                 "messages": [{"message_id": "474eaf50-3729-56fc-9f3e-f5a1a4ca13be", "role": "user",
                               "content": 5, "timestamp": "2026-09-01T14:09:00Z"}]}).encode(), "no text"),
    (json.dumps({"conversation_id": "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5", "user_id": ADA,
                 "messages": [{"message_id": "474eaf50-3729-56fc-9f3e-f5a1a4ca13be", "role": "user",
                               "content": "hi", "timestamp": "yesterday"}]}).encode(),
     "Invalid timestamp 'yesterday'"),
    (json.dumps({"conversation_id": "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5", "user_id": ADA,
                 "messages": [{"message_id": "474eaf50-3729-56fc-9f3e-f5a1a4ca13be", "role": "user",
                               "content": "hi", "timestamp": 1788271740}]}).encode(),
     "Invalid timestamp 1788271740"),
])
def test_malformed_conversations_give_clear_errors(body, words):
    key = f"users/{ADA}/conversations/8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5.json"
    with pytest.raises(BadDataError) as info:
        layout.parse_conversation(body, ADA, "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5", key=key)
    assert words in str(info.value)
    assert info.value.key == key


def test_unknown_fields_survive_a_round_trip():
    body = json.dumps({"conversation_id": "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5", "user_id": ADA,
                       "created_at": "2026-09-01T14:03:17Z", "shared_with": ["tutor"],
                       "messages": [{"message_id": "474eaf50-3729-56fc-9f3e-f5a1a4ca13be", "role": "user",
                                     "content": "hi", "timestamp": "2026-09-01T14:09:00Z",
                                     "attachments": [1], "metadata": {"message_index": 0, "x": 1}}],
                       "metadata": {"pinned": True}, "last_updated": "2026-09-01T14:09:00Z"},
                      indent=2).encode()
    doc = layout.parse_conversation(body, ADA)
    assert layout.dumps(doc) == body


def test_new_message_matches_the_web_apps_shape():
    objs = fixture_objects()
    doc = json.loads(objs[f"users/{ADA}/conversations/8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5.json"])
    web = doc["messages"][1]
    ours = layout.new_message("assistant", web["content"], message_id=web["message_id"],
                              timestamp=web["timestamp"], course_number="ENGL 1102", message_index=1,
                              model="anthropic.claude-sonnet-4", emotion="hello")
    assert layout.dumps(ours) == layout.dumps(web)
    web_user = doc["messages"][0]
    ours_user = layout.new_message("user", web_user["content"], message_id=web_user["message_id"],
                                   timestamp=web_user["timestamp"], course_number="ENGL 1102",
                                   message_index=0)
    assert layout.dumps(ours_user) == layout.dumps(web_user)


def test_profile_validation():
    ok = {"first_name": "Ada", "last_name": "L", "college_year": "Second Year", "major": "English",
          "course_number": "ENGL 1102"}
    assert layout.validate_profile(ok) == {}
    assert layout.validate_profile({**ok, "major": "   "}) == {"major": "Required."}
    assert "college_year" in layout.validate_profile({**ok, "college_year": "Sophomore"})
