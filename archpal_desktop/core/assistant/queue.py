"""Sending a message and getting ArchPal's reply, online or not (the offline queue).

``send()`` stores the student's message at once (``local_state`` "waiting": it is synced like any
message) and queues it in our own ``reply_queue`` table (cache.replyqueue), which never leaves
this device; with no conversation yet it creates one, in the same transaction that also clears
the draft.
``run_pending()`` answers the queue in the order messages were sent, whenever a provider is
reachable; the UI calls it after sending, after a sync, and on a timer while anything waits.

Rules this keeps:
- A reply is one message: created when the first event arrives ("streaming", local only),
  saved every half second as it grows, finalized in the same transaction that marks its queue
  rows done. A failure after the stream started keeps the partial text ("failed") and a retry
  reuses that same message, so nothing is ever answered twice.
- Several messages sent in one conversation while offline are answered together by one reply
  (as a person would after reading them all), in send order across conversations.
- Only this device's queue is answered: another desktop that syncs the waiting message has no
  queue row for it, shows it as waiting ("No reply yet", ui/bubble_delegate.py) and never answers it.

Threads: a runner may be used from any one thread at a time (the cache gives each thread its
own connection; docs/ARCHITECTURE.md, "Threads").
- Claims are atomic (one ``UPDATE ... WHERE state='waiting'``), so a window and a terminal
  sharing the cache never answer the same message; a claim left by a process that died is
  recovered on the next run.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Sequence

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout
from archpal_desktop.core.assistant import (Cancelled, CancelToken, EmotionEvent, Event, Finished,
                                            Provider, StreamError, TextDelta, stream_reply)
from archpal_desktop.core.assistant.events import Turn
from archpal_desktop.core.assistant.prompt import build_request
from archpal_desktop.core.errors import (ArchPalError, BadDataError, NotFoundError, OfflineError,
                                         ServiceUnavailableError)
from archpal_desktop.core.cache import Message, Store
from archpal_desktop.core.cache.replyqueue import TABLE, ReplyQueue
from archpal_desktop.core.sprints.book import offer_meta

log = logging.getLogger(__name__)

SAVE_EVERY_S = 0.5
CONTINUE_PROMPT = ("(You were stopped mid-reply. Continue exactly where you stopped, without "
                   "repeating anything already said.)")
#: errors after which the queue waits for the network rather than reporting a failure
TRANSIENT = (OfflineError, ServiceUnavailableError)



@dataclass
class ReplyEvent:
    """A provider event, tagged with where it goes (for the UI's live bubble)."""

    conversation_id: str
    reply_message_id: str
    event: Event
    prefix: str = ""     # text the reply already had (Continue): the stream carries on from it


@dataclass
class RunResult:
    answered: list[str] = field(default_factory=list)    # reply message ids, finalized
    failed: list[str] = field(default_factory=list)      # reply message ids kept as "failed"
    waiting: int = 0                                      # queue rows still waiting after the run
    error: ArchPalError | None = None                     # why the run stopped early, if it did

    @property
    def offline(self) -> bool:
        return isinstance(self.error, TRANSIENT)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(claimed_by: str | None) -> bool:
    try:
        host, pid, _ = str(claimed_by).rsplit(":", 2)
        if host != socket.gethostname():
            return False
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class ReplyRunner:
    """Sends messages and answers the queue for one user's store (use it from one thread)."""

    def __init__(self, store: Store, settings: cfg.Settings,
                 providers: Callable[[], Sequence[Provider]]):
        self.store = store
        self.settings = settings
        self.providers = providers
        self.device = store.device_id()
        self.me = _me()
        self.queue = ReplyQueue(store, self.device, self.me)

    # -- sending ----------------------------------------------------------------------------
    def send(self, conversation_id: str | None, text: str) -> Message:
        """Store the student's message and queue it, in one transaction; returns it at once.
        No conversation yet (``None``, or one deleted meanwhile): one is created in that same
        transaction, which also clears the conversation's draft."""
        text = (text or "").strip()
        if not text:
            raise BadDataError("The message is empty.", "Type something to send.")
        with self.store.transaction():
            conv = self.store.get_conversation(conversation_id) if conversation_id else None
            if conv is None:
                conv = self.store.create_conversation()
            msg = self.store.add_message(conv.conversation_id, "user", text, local_state="waiting")
            self.queue.insert(msg.message_id, conv.conversation_id)
            self.store.set_draft(conv.conversation_id, "")
        return msg

    # -- what is queued ---------------------------------------------------------------------
    def pending(self) -> list[dict]:
        """This device's unanswered rows, in send order."""
        return self.queue.pending()

    def failed(self) -> list[dict]:
        return self.queue.failed()

    def retry(self, reply_message_id: str) -> None:
        """Queue a failed reply again; the same message is reused, so there are never two."""
        if self.queue.requeue_failed(reply_message_id) == 0:
            raise NotFoundError("There is no failed reply to retry here.")

    def ask_again(self, user_message_id: str) -> None:
        """Queue a (new) reply to the student's message, only ever on their explicit request: one
        with no reply yet (e.g. sent from another device), or one already answered, whose new
        reply is stored beside the first as an ordinary message (the first is kept)."""
        msg = self.store.get_message(user_message_id)
        if msg is None or msg.role != "user":
            raise NotFoundError("That message is no longer here.")
        with self.store.transaction():
            if not self.queue.row(user_message_id):
                self.queue.insert(user_message_id, msg.conversation_id)
            else:
                self.queue.reask(user_message_id)

    def continue_reply(self, reply_message_id: str) -> None:
        """Queue a stopped (or failed) reply to carry on from its partial text, in the same message."""
        if self.queue.requeue_continue(reply_message_id) == 0:
            raise NotFoundError("There is no stopped reply to continue here.")

    # -- recovery ---------------------------------------------------------------------------
    def recover(self) -> None:
        """Claims left by a process that died: a reply it had started becomes "failed" (its text
        kept, retry offered); one it never started goes back to waiting."""
        for row in self.queue.answering():
            if row["claimed_by"] == self.me or _pid_alive(row["claimed_by"]):
                continue
            reply = self.store.get_message(row["reply_message_id"]) if row["reply_message_id"] else None
            with self.store.transaction():
                if reply is None:
                    state = "waiting"
                elif reply.local_state is None:
                    state = "done"
                else:
                    state = "failed"
                    if reply.local_state != "failed":
                        self.store.update_message(reply.message_id, local_state="failed")
                self.queue.settle(row["user_message_id"], state,
                                  "interrupted" if state == "failed" else None)

    # -- answering --------------------------------------------------------------------------
    def run_pending(self, on_event: Callable[[ReplyEvent], None] | None = None,
                    cancel: CancelToken | None = None) -> RunResult:
        """Answer this device's queue in order until it is empty or no provider can start."""
        result = RunResult()
        self.recover()
        providers: Sequence[Provider] | None = None
        while not (cancel and cancel.cancelled):
            batch = self._claim_next()
            if not batch:
                break
            if providers is None:
                providers = self.providers()
            outcome = self._answer(batch, providers, on_event, cancel)
            if isinstance(outcome, ArchPalError):
                result.error = outcome
                break
            (result.answered if outcome[1] else result.failed).append(outcome[0])
        result.waiting = len(self.pending())
        return result

    def _claim_next(self) -> list[dict]:
        return self.queue.claim_next(str(uuid.uuid4()))

    def _release(self, batch: list[dict], state: str, error: str | None = None) -> None:
        self.queue.release(batch, state, error)

    def _history(self, cid: str, reply_id: str, asked: set[str] | None = None) -> list[tuple[str, str]]:
        """What the model reads. Of several answers to one question (Ask again) only the newest is
        kept; a question that was never answered nor queued here (no reply yet, e.g. from another
        device) and is not being answered now is left out: the student chose not to have it
        answered (the window asks; never folded in silently)."""
        msgs = [m for m in self.store.load_messages(cid)
                if m.message_id != reply_id and not (m.role == "assistant" and m.local_state)]
        last_reply = max((i for i, m in enumerate(msgs) if m.role == "assistant"), default=-1)
        if asked is not None:   # questions queued here (even ones whose reply failed) stay asked
            asked = asked | self.queue.queued_in(cid)
        out: list[tuple[str, str]] = []
        for i, m in enumerate(msgs):
            nxt = msgs[i + 1] if i + 1 < len(msgs) else None
            if m.role == "assistant" and nxt is not None and nxt.role == "assistant" \
                    and not (m.sprint or nxt.sprint):   # a sprint's lines are no alternatives
                continue
            if asked is not None and i > last_reply and m.role == "user" and m.message_id not in asked:
                continue
            out.append((m.role, m.content))
        return out

    def _answer(self, batch: list[dict], providers: Sequence[Provider],
                on_event: Callable[[ReplyEvent], None] | None,
                cancel: CancelToken | None) -> tuple[str, bool] | ArchPalError:
        cid, reply_id = batch[0]["conversation_id"], batch[0]["reply_message_id"]
        if self.store.get_conversation(cid) is None:   # deleted while it waited
            with self.store.transaction():
                self._release(batch, "done", "conversation deleted")
            return reply_id, True
        profile = self.store.get_profile() or {}
        asked = {r["user_message_id"] for r in batch}
        request = build_request(self._history(cid, reply_id, asked), site_prompt=self.settings[cfg.SYSTEM_PROMPT],
                                profile=profile)
        if not request.turns:
            with self.store.transaction():
                self._release(batch, "done", "nothing to answer")
            return reply_id, True
        existing = self.store.get_message(reply_id)
        prefix = ""
        if existing is not None and any(r.get("last_error") == "continue" for r in batch) and existing.content:
            # Continue: the partial reply goes back as said, then a request to carry on (not a
            # prefill: Claude refuses one beside the forced emotion tool call)
            prefix = existing.content
            request.turns += [Turn("assistant", prefix.rstrip()), Turn("user", CONTINUE_PROMPT)]
        parts: list[str] = []
        emotion: str | None = None
        last_save = 0.0
        model = ""
        final: Event | None = None
        for event in stream_reply(providers, request, cancel):
            if isinstance(event, StreamError) and not event.started:
                with self.store.transaction():   # nothing was said: it simply waits longer
                    self._release(batch, "waiting", event.error.code)
                return event.error
            if existing is None or existing.local_state != "streaming":
                # the first sign of life: the bubble appears now, never for an unreachable model
                existing = self._begin(cid, reply_id, existing, profile, keep=prefix)
            if isinstance(event, TextDelta):
                parts.append(event.text)
                if time.monotonic() - last_save >= SAVE_EVERY_S:
                    self.store.update_message(reply_id, content=prefix + "".join(parts))
                    last_save = time.monotonic()
            elif isinstance(event, EmotionEvent):
                emotion = event.emotion
            elif isinstance(event, Finished):
                model = event.model
            if on_event is not None:
                on_event(ReplyEvent(cid, reply_id, event, prefix))
            if isinstance(event, (Finished, StreamError, Cancelled)):
                final = event
                break
        if isinstance(final, Finished):
            # a sprint the coach offers: only a proposal, started by the student's Start (core/sprints)
            extra = {"sprint": offer_meta(final.sprint, reply_id)} if final.sprint else None
            with self.store.transaction():
                self.store.update_message(reply_id, content=prefix + final.text, emotion=final.emotion,
                                          model=model, local_state=None, metadata=extra)
                for row in batch:
                    msg = self.store.get_message(row["user_message_id"])
                    if msg is not None and msg.local_state == "waiting":
                        self.store.update_message(msg.message_id, local_state=None)
                self._release(batch, "done")
            return reply_id, True
        partial = prefix + (getattr(final, "partial_text", "") or "".join(parts))
        why = final.error.code if isinstance(final, StreamError) else "stopped"
        with self.store.transaction():
            self.store.update_message(reply_id, content=partial, local_state="failed",
                                      emotion=emotion)
            self._release(batch, "failed", why)
        return reply_id, False

    def _begin(self, cid: str, reply_id: str, existing: Message | None, profile: dict,
               keep: str = "") -> Message:
        if existing is not None:   # a retry: the same message, emptied (or kept: Continue), streams again
            return self.store.update_message(reply_id, content=keep, local_state="streaming")
        return self.store.add_message(cid, "assistant", "", message_id=reply_id,
                                      course_number=profile.get("course_number", ""),
                                      model="", local_state="streaming")
