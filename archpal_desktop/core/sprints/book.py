"""Writing sprints in the conversation and in this computer's cache (docs/ARCHITECTURE.md,
"Writing sprints").

What the web app and every device see are ordinary assistant messages: the coach's offer (its
reply, ``metadata.sprint.outcome`` "proposed"), "Sprint started…" and "Sprint over: how did it
go?…", each with ``metadata.sprint`` = {sprint_id, minutes, goal, started_at, ended_at, outcome,
words}. Messages are only ever appended (the merge keeps a grow-only set; an edited message could
lose to the other side's version), so a start and an end are new messages, never edits.

What only this computer needs is in the cache's key/value table: the running sprint (its pauses,
the words in the message box when it started) and the offers the student declined. Starting,
ending and reporting a sprint that ran out while the app was closed each happen in one
transaction with that state, so an end is written, and reported, exactly once.

Use a book from one thread (the window's database worker).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from archpal_desktop.core import layout
from archpal_desktop.core.attachments import count_words
from archpal_desktop.core.cache import Message, Store
from archpal_desktop.core.cache.sprintlog import sprint_messages, texts_sent_between
from archpal_desktop.core.errors import BadDataError, NotFoundError
from archpal_desktop.core.sprints.timer import Sprint

RUNNING_KEY = "sprint.running"
DECLINED_KEY = "sprint.declined"
OUTCOMES = ("proposed", "started", "completed", "stopped")


def sprint_meta(sprint: Sprint, outcome: str, *, ended_at: str | None = None,
                words: int | None = None, active_minutes: float | None = None) -> dict:
    meta = {"sprint_id": sprint.sprint_id, "minutes": sprint.minutes, "goal": sprint.goal,
            "started_at": sprint.started_at, "ended_at": ended_at, "outcome": outcome,
            "words": words}
    if active_minutes is not None:
        meta["active_minutes"] = round(active_minutes, 1)
    return meta


def offer_meta(offer: dict, sprint_id: str) -> dict:
    """``metadata.sprint`` of the coach's reply that offers a sprint (nothing started yet)."""
    return {"sprint_id": sprint_id, "minutes": offer["minutes"], "goal": offer["goal"],
            "started_at": None, "ended_at": None, "outcome": "proposed", "words": None}


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def start_text(sprint: Sprint) -> str:
    return (f"Sprint started: {_plural(sprint.minutes, 'minute')} for “{sprint.goal}”. Write "
            "away; I'll check in when the time is up.")


def end_text(sprint: Sprint, outcome: str, words: int, active: float, while_closed: bool) -> str:
    done = (f"You stopped the sprint after {_plural(max(1, round(active)), 'minute')}"
            if outcome == "stopped" else f"Your {_plural(sprint.minutes, 'minute')} are up")
    lead = "Your sprint ended while ArchPal was closed. " if while_closed else ""
    wrote = f" and wrote {_plural(words, 'word')} here" if words else ""
    return (f"{lead}Sprint over: how did it go? {done}{wrote}, working on “{sprint.goal}”. "
            "What did you get done, what got in the way, and what is your next small step?")


@dataclass
class Ended:
    """A sprint that was just ended: its message, and whether it ran out while the app was closed."""

    sprint: Sprint
    message: Message
    while_closed: bool = False


class SprintBook:
    def __init__(self, store: Store):
        self.store = store

    # -- the running sprint ------------------------------------------------------------------
    def current(self) -> Sprint | None:
        return Sprint.from_dict(self.store.kv_get(RUNNING_KEY))

    def _save(self, sprint: Sprint | None) -> None:
        self.store.kv_set(RUNNING_KEY, sprint.to_dict() if sprint else None)

    def start(self, cid: str | None, minutes: int, goal: str, now: datetime, *,
              draft_words: int = 0, proposal_id: str | None = None) -> tuple[Sprint, Message]:
        """Start a sprint (the student pressed Start, or chose one themselves): its message and
        the running state in one transaction. No conversation yet: one is made for it."""
        if self.current() is not None:
            raise BadDataError("A sprint is already running.", "Stop it first, or let it finish.")
        with self.store.transaction():
            conv = self.store.get_conversation(cid) if cid else None
            if conv is None:
                conv = self.store.create_conversation()
            sprint = Sprint.new(conv.conversation_id, minutes, goal, now, draft_words=draft_words,
                                proposal_id=proposal_id, sprint_id=proposal_id)
            msg = self.store.add_message(conv.conversation_id, "assistant", start_text(sprint),
                                         emotion="smile", timestamp=sprint.started_at,
                                         metadata={"sprint": sprint_meta(sprint, "started", words=0)})
            self._save(sprint)
        return sprint, msg

    def change(self, action: str, now: datetime) -> Sprint:
        """``pause``, ``resume`` or ``extend`` (+5 minutes) the running sprint."""
        with self.store.transaction():
            sprint = self.current()
            if sprint is None:
                raise NotFoundError("No sprint is running.")
            if action == "pause":
                sprint.pause(now)
            elif action == "resume":
                sprint.resume(now)
            elif action == "extend":
                sprint.extend()
            else:
                raise ValueError(action)
            self._save(sprint)
        return sprint

    def words(self, sprint: Sprint, end_ts: str | None = None, draft_words: int | None = None) -> int:
        """Words written during the sprint: the student's messages sent in its conversation
        since it started, plus what the message box gained (``draft_words``: its count now;
        None: the saved draft's)."""
        sent = sum(count_words(t) for t in texts_sent_between(self.store, sprint.conversation_id,
                                                              sprint.started_at, end_ts))
        if draft_words is None:
            draft_words = count_words(self.store.get_draft(sprint.conversation_id))
        return sent + max(0, draft_words - sprint.draft_words)

    def finish(self, outcome: str, now: datetime, *, draft_words: int | None = None,
               while_closed: bool = False) -> Ended:
        """End the running sprint: the coach's reflection question as a message, and no more
        running state, in one transaction (a second call finds nothing to end)."""
        if outcome not in ("completed", "stopped"):
            raise ValueError(outcome)
        with self.store.transaction():
            sprint = self.current()
            if sprint is None:
                raise NotFoundError("No sprint is running.")
            if outcome == "completed" and not sprint.paused:
                ended = min(now, sprint.end_time())
            else:
                ended = now
            active = sprint.elapsed(ended) / 60
            ended_ts = layout.format_ts(ended)
            words = self.words(sprint, ended_ts, draft_words)
            meta = sprint_meta(sprint, outcome, ended_at=ended_ts, words=words, active_minutes=active)
            if while_closed:
                meta["while_closed"] = True
            sprint.resume(ended)
            if self.store.get_conversation(sprint.conversation_id) is None:   # deleted meanwhile
                self._save(None)
                raise NotFoundError("The sprint's conversation was deleted.")
            # just after the sprint's last message, so the reflection follows what was written
            msg = self.store.add_message(sprint.conversation_id, "assistant",
                                         end_text(sprint, outcome, words, active, while_closed),
                                         emotion="hello", timestamp=ended_ts, metadata={"sprint": meta})
            self._save(None)
        return Ended(sprint, msg, while_closed)

    def recover(self, now: datetime) -> Ended | None:
        """At start-up: a sprint that ran out while the app was closed is ended now (reported
        once: its running state goes in the same transaction); one still running is left."""
        sprint = self.current()
        if sprint is None or not sprint.is_over(now):
            return None
        try:
            return self.finish("completed", now, while_closed=True)
        except NotFoundError:
            return None

    # -- offers -------------------------------------------------------------------------------
    def declined(self) -> set[str]:
        return set(self.store.kv_get(DECLINED_KEY) or [])

    def decline(self, sprint_id: str) -> None:
        """"Not now": remembered on this computer (nothing is added to the conversation)."""
        with self.store.transaction():
            self.store.kv_set(DECLINED_KEY, sorted(self.declined() | {sprint_id})[-200:])

    def answered(self, cid: str) -> set[str]:
        """Offers in a conversation that were started or declined (their buttons are done)."""
        found = {row["sprint"].get("sprint_id") for row in sprint_messages(self.store, cid)
                 if row["sprint"].get("outcome") != "proposed"}
        return {s for s in found if isinstance(s, str)} | self.declined()

    # -- the student's own record -----------------------------------------------------------------
    def summary(self, now: datetime, days: int = 7) -> list[dict]:
        """Sprints ended in the last ``days`` days, per conversation: ``{"conversation_id",
        "title", "sprints", "minutes", "words"}``, the busiest first."""
        since = layout.ts_key(layout.format_ts(now - timedelta(days=days)))
        per: dict[str, dict] = {}
        for row in sprint_messages(self.store):
            sprint = row["sprint"]
            if sprint.get("outcome") not in ("completed", "stopped"):
                continue
            if layout.ts_key(sprint.get("ended_at") or row["timestamp"]) < since:
                continue
            entry = per.setdefault(row["conversation_id"], {
                "conversation_id": row["conversation_id"], "title": row["title"],
                "sprints": 0, "minutes": 0.0, "words": 0})
            entry["sprints"] += 1
            entry["minutes"] += _number(sprint.get("active_minutes"), _number(sprint.get("minutes")))
            entry["words"] += int(_number(sprint.get("words")))
        for entry in per.values():
            entry["minutes"] = round(entry["minutes"])
        return sorted(per.values(), key=lambda e: (-e["minutes"], e["title"]))

    def history(self) -> list[dict]:
        """Every ended sprint in the cache, oldest first (for "Export all my data")."""
        out = []
        for row in sprint_messages(self.store):
            sprint = row["sprint"]
            if sprint.get("outcome") in ("completed", "stopped"):
                out.append({"conversation_id": row["conversation_id"], "title": row["title"],
                            "message_id": row["message_id"], **sprint})
        return out


def _number(value: object, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)
