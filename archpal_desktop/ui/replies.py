"""Getting ArchPal's reply into the window, through the core's reply runner (core.assistant.queue).

``send`` stores the student's message (and queues it) on the database worker; ``kick`` runs
``ReplyRunner.run_pending`` on a network worker, which answers this computer's queue in order
and reports every provider event; the events reach the UI thread as signals so the bubble
grows in place. Stop cancels the provider's own token (which also aborts the HTTP stream).
With no provider reachable the run ends early and the messages simply keep waiting; the window
kicks again after the next successful sync.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from archpal_desktop.core.errors import ArchPalError, map_exception

log = logging.getLogger(__name__)

DELTA_INTERVAL = 0.012  # seconds: at most ~80 UI updates/s however fast tokens arrive


class ReplyController(QObject):
    message_sent = Signal(object, object)     # Conversation, the student's Message
    reply_started = Signal(object)            # the assistant Message placeholder
    reply_delta = Signal(str, str, str)       # reply message id, text so far, emotion or ""
    reply_done = Signal(str, str, bool)       # conversation id, reply message id, finished (not failed)
    run_finished = Signal(object)             # core.replies.RunResult
    offline = Signal(str)                     # words: no provider reachable, messages wait
    busy_changed = Signal(bool)
    error = Signal(str)

    def __init__(self, state, parent: QObject | None = None, providers_fn=None):
        super().__init__(parent)
        from archpal_desktop.core.replies import ReplyRunner
        self.state = state
        self.runner = ReplyRunner(state.store, state.settings, providers_fn or self._default_providers)
        self._cancel = None
        self._task = None
        self._again = False

    def _default_providers(self):
        from archpal_desktop.core.assistant import build_providers
        access = self.state.access

        def session_factory():
            if access is None:
                from archpal_desktop.core.errors import AuthExpiredError
                raise AuthExpiredError("You are not signed in.", "Sign in to talk to ArchPal.")
            return access().session
        from archpal_desktop.core.assistant.relay import token_from_access
        return build_providers(self.state.settings, session_factory, token_from_access(access))

    @property
    def busy(self) -> bool:
        return self._task is not None and self._task.running

    # -- sending ----------------------------------------------------------------------------------
    def send(self, cid: str | None, text: str, on_error=None) -> None:
        store, runner = self.state.store, self.runner

        def work():
            # the core creates the conversation if there is none yet, and clears the draft, in
            # the one transaction that stores the message
            msg = runner.send(cid, text)
            return store.get_conversation(msg.conversation_id), msg

        def done(result) -> None:
            conv, msg = result
            self.message_sent.emit(conv, msg)
            self.kick()
        self.state.tasks.run_db(work, done, on_error or (lambda e: self.error.emit(str(map_exception(e)))))

    def retry(self, reply_message_id: str) -> None:
        runner = self.runner
        self.state.tasks.run_db(lambda: runner.retry(reply_message_id), lambda _r: self.kick(),
                                lambda e: self.error.emit(str(map_exception(e))))

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    # -- answering --------------------------------------------------------------------------------
    def kick(self) -> None:
        """Answer whatever waits on this computer (no-op if nothing does)."""
        if self.busy:
            self._again = True
            return
        from archpal_desktop.core.assistant import CancelToken
        cancel = CancelToken()
        runner, store = self.runner, self.state.store

        def work(report):
            seen: set[str] = set()
            texts: dict[str, str] = {}
            last = [0.0]

            def on_event(rev) -> None:
                from archpal_desktop.core.assistant import (Cancelled, EmotionEvent, Finished, StreamError,
                                                            TextDelta)
                rid, ev = rev.reply_message_id, rev.event
                if rid not in seen:
                    seen.add(rid)
                    texts[rid] = ""
                    msg = store.get_message(rid)
                    if msg is not None:
                        report(("started", msg))
                if isinstance(ev, TextDelta):
                    texts[rid] += ev.text
                    now = time.monotonic()
                    if now - last[0] >= DELTA_INTERVAL:
                        last[0] = now
                        report(("delta", rid, texts[rid], ""))
                elif isinstance(ev, EmotionEvent):
                    report(("delta", rid, texts[rid], ev.emotion))
                elif isinstance(ev, (Finished, Cancelled, StreamError)):
                    if isinstance(ev, Finished):
                        report(("delta", rid, ev.text, ev.emotion))
                    report(("done", rev.conversation_id, rid, isinstance(ev, Finished)))
            return runner.run_pending(on_event=on_event, cancel=cancel)

        self._cancel = cancel
        self._task = self.state.tasks.run_in_background(work, self._finished, self._failed, self._progress)
        self.busy_changed.emit(True)

    def _progress(self, payload: Any) -> None:
        kind = payload[0]
        if kind == "started":
            self.reply_started.emit(payload[1])
        elif kind == "delta":
            self.reply_delta.emit(payload[1], payload[2], payload[3])
        elif kind == "done":
            self.reply_done.emit(payload[1], payload[2], payload[3])

    def _finished(self, result) -> None:
        self._task = None
        self._cancel = None
        self.busy_changed.emit(False)
        self.run_finished.emit(result)
        if result.error is not None:
            if result.offline:
                self.offline.emit(str(result.error))
            else:
                self.error.emit(str(result.error))
        if self._again:
            self._again = False
            if result.error is None:
                self.kick()

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self._cancel = None
        self.busy_changed.emit(False)
        err = exc if isinstance(exc, ArchPalError) else map_exception(exc)
        log.warning("reply run failed: %s", err.code)
        self.error.emit(str(err))
