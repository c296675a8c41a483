"""Getting ArchPal's reply into the window, through the core's reply runner (core.assistant.queue).

``send`` stores the student's message (and queues it) on the database worker; ``kick`` runs
``ReplyRunner.run_pending`` on a network worker, which answers this computer's queue in order
and reports every provider event; the events reach the UI thread as signals so the bubble
grows in place. Stop cancels the provider's own token (which also aborts the HTTP stream).
With no provider reachable the run ends early and the messages simply keep waiting; the window
kicks again after the next successful sync.

The message view's requests land here too (:func:`connect_chat`): Ask again (a new reply stored
beside the first), Ask now (a question with no reply yet), Continue (a stopped reply carries
on), Edit as a new message (its text into the composer). A conversation started here is named
after its first message (:mod:`archpal_desktop.core.titles`) in the transaction that stores it.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from archpal_desktop.core import titles
from archpal_desktop.core.errors import ArchPalError, map_exception

log = logging.getLogger(__name__)

DELTA_INTERVAL = 0.012  # seconds: at most ~80 UI updates/s however fast tokens arrive


class ReplyController(QObject):
    message_sent = Signal(object, object)     # Conversation, the student's Message
    reply_started = Signal(object)            # the assistant Message placeholder
    reply_delta = Signal(str, str, str)       # reply message id, text so far, emotion or ""
    reply_done = Signal(str, str, bool)       # conversation id, reply message id, finished (not failed)
    run_finished = Signal(object)             # core.assistant.queue.RunResult
    offline = Signal(str)                     # words: no provider reachable, messages wait
    busy_changed = Signal(bool)
    error = Signal(str)                       # a local step failed (saving, queueing): words
    coach_error = Signal(str, object)         # the coach refused or failed before replying: words, error
    coach_reachable = Signal()                # a run reached the coach (answered, or nothing to do)
    stopped_changed = Signal(object)          # set of reply ids the student stopped
    title_changed = Signal(str, str)          # conversation id, its new title
    send_cancelled = Signal(str)              # the text goes back into the composer

    def __init__(self, state, parent: QObject | None = None, providers_fn=None):
        super().__init__(parent)
        from archpal_desktop.core.assistant.queue import ReplyRunner
        self.state = state
        self.runner = ReplyRunner(state.store, state.settings, providers_fn or self._default_providers)
        self._cancel = None
        self._task = None
        self._again = False
        self.stopped: set[str] = set()
        self.chat = None            # the ChatView, once connected (to see unanswered questions)
        self.question: QMessageBox | None = None   # "answer both?" while it is open

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
        unanswered = self._unanswered(cid)
        if unanswered:
            self._ask_about(cid, text, unanswered, on_error)
            return
        self._send(cid, text, [], on_error)

    def _unanswered(self, cid: str | None) -> list[str]:
        chat = self.chat
        if chat is None or not cid or chat.chat_model.conversation_id != cid:
            return []
        return [m.message_id for m in chat.chat_model.shown()
                if m.role == "user" and chat.delegate.state(m) == "unanswered"]

    def _ask_about(self, cid: str | None, text: str, unanswered: list[str], on_error) -> None:
        """Never fold an earlier question in silently: the student says which to answer."""
        box = QMessageBox(QMessageBox.Icon.Question, "Earlier question without a reply",
                          "Your earlier question has no reply yet. Should ArchPal answer it together "
                          "with this one?", QMessageBox.StandardButton.NoButton, self.chat)
        both = box.addButton("Answer both", QMessageBox.ButtonRole.AcceptRole)
        only = box.addButton("Only the new one", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(both)
        box.setObjectName("answerBothQuestion")
        both.setObjectName("answerBoth")
        only.setObjectName("answerOnlyNew")

        def answered(button) -> None:
            self.question = None
            if button is both:
                self._send(cid, text, unanswered, on_error)
            elif button is only:
                self._send(cid, text, [], on_error)
            else:
                self.send_cancelled.emit(text)
        box.buttonClicked.connect(answered)
        box.rejected.connect(lambda: self.question is box and (setattr(self, "question", None),
                                                               self.send_cancelled.emit(text)))
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.question = box
        box.open()

    def _send(self, cid: str | None, text: str, also: list[str], on_error) -> None:
        store, runner = self.state.store, self.runner

        def work():
            # the core creates the conversation if there is none yet, and clears the draft, in
            # the one transaction that stores the message; the title joins that transaction
            named = ""
            with store.transaction():
                for mid in also:
                    runner.ask_again(mid)
                msg = runner.send(cid, text)
                conv = store.get_conversation(msg.conversation_id)
                if conv.message_count <= 1 and titles.is_default_title(conv.title, conv.created_at):
                    named = titles.title_from_message(text)
                    if named:   # synced like a rename; a title someone chose is never replaced
                        store.rename_conversation(conv.conversation_id, named)
            return store.get_conversation(msg.conversation_id), msg, named

        def done(result) -> None:
            conv, msg, named = result
            self.message_sent.emit(conv, msg)
            if named:
                self.title_changed.emit(conv.conversation_id, conv.title)
            self.kick()
        self.state.tasks.run_db(work, done, on_error or (lambda e: self.error.emit(str(map_exception(e)))))

    def retry(self, reply_message_id: str) -> None:
        runner = self.runner
        self.state.tasks.run_db(lambda: runner.retry(reply_message_id), lambda _r: self._requeued(reply_message_id),
                                lambda e: self.error.emit(str(map_exception(e))))

    def continue_reply(self, reply_message_id: str) -> None:
        runner = self.runner
        self.state.tasks.run_db(lambda: runner.continue_reply(reply_message_id),
                                lambda _r: self._requeued(reply_message_id),
                                lambda e: self.error.emit(str(map_exception(e))))

    def ask_again(self, user_message_id: str) -> None:
        """A new reply to the same question, stored beside the first (both kept)."""
        runner = self.runner
        self.state.tasks.run_db(lambda: runner.ask_again(user_message_id), lambda _r: self.kick(),
                                lambda e: self.error.emit(str(map_exception(e))))

    ask_now = ask_again   # a question with no reply yet: the same request, nothing to keep beside

    def _requeued(self, reply_message_id: str) -> None:
        if reply_message_id in self.stopped:
            self.stopped.discard(reply_message_id)
            self.stopped_changed.emit(set(self.stopped))
        self.kick()

    def refresh_stopped(self) -> None:
        """Which kept partial replies were stopped by the student (vs. failed), from the queue."""
        runner = self.runner

        def found(ids) -> None:
            if ids != self.stopped:
                self.stopped = ids
                self.stopped_changed.emit(set(ids))
        self.state.tasks.run_db(lambda: {r["reply_message_id"] for r in runner.failed()
                                         if r.get("last_error") == "stopped" and r.get("reply_message_id")},
                                found)

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
                    texts[rid] = getattr(rev, "prefix", "")
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
                        report(("delta", rid, getattr(rev, "prefix", "") + ev.text, ev.emotion))
                    report(("done", rev.conversation_id, rid, isinstance(ev, Finished),
                            isinstance(ev, Cancelled)))
            return runner.run_pending(on_event=on_event, cancel=cancel)

        self._cancel = cancel
        self._shown_busy = False
        # "ArchPal is writing… [Stop]" only once a reply is on its way (its bubble exists): a run
        # that finds the coach unreachable (boto3's connect retries take a second or two) must not
        # show a Stop with no bubble, then take it away again at every retry
        self._task = self.state.tasks.run_in_background(work, self._finished, self._failed, self._progress)

    _shown_busy = False

    def _show_busy(self) -> None:
        if not self._shown_busy:
            self._shown_busy = True
            self.busy_changed.emit(True)

    def _end_busy(self) -> None:
        if self._shown_busy:
            self._shown_busy = False
            self.busy_changed.emit(False)

    def _progress(self, payload: Any) -> None:
        kind = payload[0]
        if kind == "started":
            self._show_busy()
            self.reply_started.emit(payload[1])
        elif kind == "delta":
            self.reply_delta.emit(payload[1], payload[2], payload[3])
        elif kind == "done":
            if payload[4]:   # the student's Stop: not a failure (shown "Stopped", with Continue)
                self.stopped.add(payload[2])
                self.stopped_changed.emit(set(self.stopped))
            self.reply_done.emit(payload[1], payload[2], payload[3])

    def _finished(self, result) -> None:
        from archpal_desktop.core.errors import OfflineError
        self._task = None
        self._cancel = None
        self._end_busy()
        self.run_finished.emit(result)
        if result.error is None:
            self.coach_reachable.emit()
        elif isinstance(result.error, OfflineError):   # unreachable: the messages simply wait
            self.offline.emit(str(result.error))
        else:   # throttled, refused, a model error: said in the chat, with what to do
            self.coach_error.emit(str(result.error), result.error)
        if self._again:
            self._again = False
            if result.error is None:
                self.kick()

    def _failed(self, exc: BaseException) -> None:
        self._task = None
        self._cancel = None
        self._end_busy()
        err = exc if isinstance(exc, ArchPalError) else map_exception(exc)
        log.warning("reply run failed: %s", err.code)
        self.coach_error.emit(str(err), err)


def connect_chat(window) -> None:
    """Wire the message view and composer to the reply controller (called once by the window)."""
    replies, chat, composer = window.replies, window.chat, window.composer
    replies.chat = chat
    chat.ask_again_requested.connect(replies.ask_again)
    chat.ask_now_requested.connect(replies.ask_now)
    chat.continue_requested.connect(replies.continue_reply)
    chat.edit_requested.connect(composer.edit_as_new)
    replies.stopped_changed.connect(chat.set_stopped)
    replies.busy_changed.connect(chat.set_answering)
    replies.send_cancelled.connect(composer.load_draft)

    def titled(cid: str, title: str) -> None:
        from archpal_desktop import APP_NAME
        if cid == window.current_cid:
            window.title_label.setText(title)
            window.setWindowTitle(f"{title} — {APP_NAME}")
    replies.title_changed.connect(titled)
    replies.refresh_stopped()
