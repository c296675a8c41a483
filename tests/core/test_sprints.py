"""Sprint timing and the sprint record in a real SQLite cache, with an explicit clock (no Qt)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from archpal_desktop.core.errors import BadDataError, NotFoundError
from archpal_desktop.core.sprints import RUNNING_KEY, Sprint, SprintBook, remaining_text
from archpal_desktop.core.cache import Store

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=timezone.utc)
SUB = "5b1c7a2e-0d4f-4c3a-9e8b-1f2a3b4c5d6e"


@pytest.fixture
def store(tmp_path):
    s = Store.open_for_user(tmp_path, SUB)
    yield s
    s.close()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_pause_resume_extend_and_the_end_time():
    s = Sprint.new("c", 25, "  Draft   the intro ", T0)
    assert s.goal == "Draft the intro" and remaining_text(s.remaining(T0)) == "25:00"
    assert remaining_text(s.remaining(at(10) - timedelta(seconds=0.4))) == "15:01"   # rounded up
    s.pause(at(10))
    assert s.remaining(at(40)) == 15 * 60 and not s.is_over(at(400))
    s.resume(at(40))
    s.extend()
    assert s.minutes == 30 and s.remaining(at(40)) == 20 * 60
    assert s.end_time() == at(60) and s.is_over(at(60)) and not s.is_over(at(59.9))
    assert remaining_text(3723) == "1:02:03"
    with pytest.raises(ValueError):
        Sprint.new("c", 0, "x", T0)
    big = Sprint.new("c", 118, "x", T0)
    assert not big.can_extend()
    assert Sprint.from_dict({"sprint_id": "x"}) is None and Sprint.from_dict("junk") is None
    assert Sprint.from_dict(s.to_dict()) == s


def test_start_finish_once_and_words(store):
    book = SprintBook(store)
    cid = store.create_conversation("Essay").conversation_id
    sprint, msg = book.start(cid, 20, "Outline", T0, draft_words=3)
    assert msg.sprint["outcome"] == "started" and store.kv_get(RUNNING_KEY)["sprint_id"] == sprint.sprint_id
    with pytest.raises(BadDataError):
        book.start(cid, 10, "Again", T0)
    store.add_message(cid, "user", "four words right here", timestamp="2026-12-01T09:05:00Z")
    store.add_message(cid, "user", "before the sprint", timestamp="2026-12-01T08:59:00Z")
    store.set_draft(cid, "one two three four five")   # 2 more than at the start
    assert book.recover(at(10)) is None                 # still running
    ended = book.recover(at(90))
    assert ended is not None and ended.while_closed
    meta = ended.message.sprint
    assert meta["ended_at"] == "2026-12-01T09:20:00Z" and meta["words"] == 6 and meta["active_minutes"] == 20.0
    assert book.current() is None and book.recover(at(100)) is None   # reported once
    with pytest.raises(NotFoundError):
        book.finish("stopped", at(100))


def test_the_week_summary_per_conversation_and_declines(store):
    book = SprintBook(store)
    a = store.create_conversation("Essay A").conversation_id
    b = store.create_conversation("Essay B").conversation_id
    for cid, start, stop_after in ((a, T0 - timedelta(days=9), 25), (a, T0, 12), (b, at(60), 30)):
        book.start(cid, 30, "Write", start)
        book.finish("stopped" if stop_after < 30 else "completed", start + timedelta(minutes=stop_after))
    rows = book.summary(T0 + timedelta(days=1))
    assert [(r["title"], r["sprints"], r["minutes"]) for r in rows] == [("Essay B", 1, 30), ("Essay A", 1, 12)]
    assert len(book.history()) == 3
    book.decline("offer-1")
    assert "offer-1" in book.answered(a) and book.declined() == {"offer-1"}
