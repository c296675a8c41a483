"""Merge rules as pure functions: commutative, associative, idempotent; no message lost."""
from __future__ import annotations

import random
import uuid

import pytest

from archpal_desktop.core import layout, merge

CID = "8bdc0a50-e0b8-5327-a8e6-f3de892d0cc5"
SUB = "0f6c2a8e-6b1d-4e0a-9a53-6a1f0f8c7b11"


def msg(rng: random.Random, ts_second: int, content: str | None = None, mid: str | None = None) -> dict:
    micro = rng.choice([0, 0, 512331, 1])
    ts = f"2026-09-01T14:{ts_second // 60:02d}:{ts_second % 60:02d}" + (f".{micro:06d}" if micro else "") + "Z"
    return layout.new_message(rng.choice(["user", "assistant"]), content or f"text {rng.random()}",
                              message_id=mid or str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                              timestamp=ts, course_number="ENGL 1102", message_index=rng.randint(0, 9),
                              model="m", emotion="smile")


def doc(messages: list[dict], created="2026-09-01T14:00:00Z", updated="2026-09-01T14:10:00Z", **extra):
    return layout.conversation_doc(CID, SUB, created, messages, updated, {}, extra)


def random_sides(seed: int) -> list[dict]:
    rng = random.Random(seed)
    pool = [msg(rng, rng.randint(0, 3000)) for _ in range(12)]
    # same id, different content on some sides (a deterministic pick must agree everywhere)
    twin = dict(pool[0], content="edited elsewhere")
    sides = []
    for _ in range(3):
        chosen = rng.sample(pool, rng.randint(0, len(pool)))
        if rng.random() < 0.5:
            chosen = [twin if m is pool[0] else m for m in chosen]
        rng.shuffle(chosen)
        created = rng.choice(["2026-09-01T14:00:00Z", "2026-09-01T13:59:59.5Z"])
        updated = rng.choice(["2026-09-01T14:10:00Z", "2026-09-01T15:00:00Z"])
        sides.append(doc(chosen, created, updated, **({"note": rng.choice(["a", "b"])} if rng.random() < .5 else {})))
    return sides


@pytest.mark.parametrize("seed", range(200))
def test_conversation_merge_laws(seed):
    a, b, c = random_sides(seed)
    ab = merge.merge_conversation(a, b)
    assert merge.same_conversation(ab, merge.merge_conversation(b, a))                        # commutative
    assert merge.same_conversation(merge.merge_conversation(ab, c),
                                   merge.merge_conversation(a, merge.merge_conversation(b, c)))  # associative
    assert merge.same_conversation(merge.merge_conversation(ab, ab), ab)                      # idempotent
    assert merge.same_conversation(merge.merge_conversation(ab, a), ab)                       # absorbs
    ids = [m["message_id"] for m in ab["messages"]]
    assert len(ids) == len(set(ids))                                                          # no duplicate
    assert set(ids) == {m["message_id"] for m in a["messages"] + b["messages"]}               # none lost
    keys = [(layout.ts_key(m["timestamp"]), m["message_id"]) for m in ab["messages"]]
    assert keys == sorted(keys)                                                               # ordered
    assert [m["metadata"]["message_index"] for m in ab["messages"]] == list(range(len(ids)))  # renumbered


def test_created_is_earliest_and_updated_latest_as_instants():
    a = doc([], created="2026-09-01T14:00:00Z", updated="2026-09-01T14:09:00Z")
    b = doc([], created="2026-09-01T14:00:00.000001Z", updated="2026-09-01T14:09:00.5Z")
    m = merge.merge_conversation(a, b)
    assert m["created_at"] == "2026-09-01T14:00:00Z" and m["last_updated"] == "2026-09-01T14:09:00.5Z"


def entry(title: str, updated: str, **extra) -> dict:
    return layout.index_entry(CID, "2026-09-01T14:00:00Z", updated, 3, title, extra)


def test_index_title_three_way():
    base = entry("Old", "2026-09-01T14:00:00Z")
    # changed on one side wins, whichever side
    assert merge.merge_entry(base, entry("Mine", "2026-09-01T14:00:00Z"), base)["title"] == "Mine"
    assert merge.merge_entry(base, base, entry("Web", "2026-09-01T14:00:00Z"))["title"] == "Web"
    # changed on both: the later last_updated wins
    assert merge.merge_entry(base, entry("Mine", "2026-09-01T15:00:00Z"),
                             entry("Web", "2026-09-01T14:30:00Z"))["title"] == "Mine"
    assert merge.merge_entry(base, entry("Mine", "2026-09-01T14:30:00Z"),
                             entry("Web", "2026-09-01T15:00:00Z"))["title"] == "Web"
    # unknown fields survive from both sides
    m = merge.merge_entry(base, entry("A", "2026-09-01T14:00:00Z", pinned=True),
                          entry("A", "2026-09-01T14:00:00Z", color="red"))
    assert m["pinned"] is True and m["color"] == "red"


def test_index_merge_keeps_orphans_missing_and_opaque_entries_and_drops_deleted():
    other = "9c623861-ea42-5811-bcd7-457c9ea503b6"
    gone = "62b5a0e7-b2ec-5a08-9c7f-567f59e7943f"
    remote = [entry("Web", "2026-09-01T14:00:00Z"), {"conversation_id": "../evil", "title": "x"},
              layout.index_entry(gone, "2026-09-01T14:00:00Z", "2026-09-01T14:00:00Z", 1, "Deleted here")]
    local = {CID: entry("Web", "2026-09-01T14:05:00Z"),
             other: layout.index_entry(other, "2026-09-02T00:00:00Z", "2026-09-02T00:00:00Z", 0, "Orphan")}
    out = merge.merge_index({}, local, remote, {CID: 7, other: 2}, deleted={gone})
    assert [e.get("conversation_id") for e in out] == [CID, "../evil", other]
    assert out[0]["message_count"] == 7 and out[0]["last_updated"] == "2026-09-01T14:05:00Z"
    assert out[1] == {"conversation_id": "../evil", "title": "x"}
    assert out[2]["message_count"] == 2


def test_tombstones_delete_only_what_the_deleter_saw():
    tomb = {"deleted_at": "2026-09-01T15:00:00Z", "message_ids": ["a", "b"]}
    assert merge.is_deleted(tomb, ["a"]) and merge.is_deleted(tomb, [])
    assert not merge.is_deleted(tomb, ["a", "c"])  # written elsewhere: keep it
    both = merge.merge_tombstones({CID: tomb}, {CID: {"deleted_at": "2026-09-01T16:00:00Z",
                                                      "message_ids": ["c"]}})
    assert both[CID] == {"deleted_at": "2026-09-01T16:00:00Z", "message_ids": ["a", "b", "c"]}
