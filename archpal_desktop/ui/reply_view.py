"""The window's side of a reply (issue 17 point 6): what the student sends goes to the
:class:`~archpal_desktop.ui.reply_runner.ReplyController`, and what it reports (the message
saved, the reply starting, streaming, done, the run over) is shown in the window's parts.

It uses the window's ``composer``, ``chat``, ``companion``, ``conversations``, ``side_stack``,
``search_box``, ``title_label``, ``current_cid`` (set when a first message makes a conversation),
``store``, ``tasks``, ``sync``, ``conversation_pane`` (the row counts; its "latest" guard for
every load of the open messages), and its ``flash``, ``notify`` and ``_error``.
"""
from __future__ import annotations

from PySide6.QtCore import QObject

from archpal_desktop import APP_NAME
from archpal_desktop.ui import a11y


class ReplyView(QObject):
    def __init__(self, window, replies):
        super().__init__(window)
        self.window = window
        self.replies = replies                           # ui.reply_runner.ReplyController
        self._answered: list[tuple[str, bool]] = []      # (conversation, finished) of this run
        self._connect_replies()

    def send_message(self, text: str) -> None:
        w = self.window
        w.composer.clear()

        def failed(exc) -> None:
            w.composer.load_draft(text)  # nothing the student wrote is lost
            w._error("Saving your message")(exc)
        self.replies.send(w.current_cid, text, on_error=failed)

    def _connect_replies(self) -> None:
        w = self.window
        r = self.replies
        r.message_sent.connect(self._message_sent)
        r.busy_changed.connect(self._busy)
        r.reply_started.connect(self._reply_started)
        r.reply_delta.connect(self._reply_delta)
        r.reply_done.connect(self._reply_done)
        r.run_finished.connect(self._run_finished)
        r.error.connect(lambda words: w.flash(words, 8000, error=True))

    def _show_list(self) -> None:
        w = self.window
        if not w.search_box.text().strip():
            w.side_stack.setCurrentWidget(w.conversations)

    def _busy(self, busy: bool) -> None:
        w = self.window
        w.composer.set_busy(busy)
        w.chat.chat_model.answering = busy
        w.chat.viewport().update()

    def _message_sent(self, conv, msg) -> None:
        w = self.window
        w.conversations.conv_model.upsert(conv)
        self._show_list()
        if conv.conversation_id != w.current_cid:
            w.current_cid = conv.conversation_id
            w.chat.show_messages(conv.conversation_id, [msg])
            w.conversations.blockSignals(True)
            w.conversations.select(conv.conversation_id)
            w.conversations.blockSignals(False)
            w.title_label.setText(conv.title)
            w.setWindowTitle(f"{conv.title} — {APP_NAME}")
        else:
            w.chat.append_message(msg)
            w.conversations.select(conv.conversation_id)
        w.conversation_pane.count_shown()

    def _reply_started(self, msg) -> None:
        w = self.window
        if msg.conversation_id == w.current_cid:
            w.chat.append_message(msg)
            w.conversation_pane.count_shown()
            w.companion.set_emotion("walk")
        w.composer.set_notice("")

    def _reply_delta(self, mid: str, text: str, emotion) -> None:
        w = self.window
        if w.chat.chat_model.message(mid) is not None:
            w.chat.stream_text(mid, text, emotion)
            if emotion:
                w.companion.set_emotion(emotion)

    def _reply_done(self, cid: str, mid: str, finished: bool) -> None:
        w = self.window
        # the runner saves the final text right after this event: reload when the run returns
        self._answered.append((cid, finished))
        done = w.chat.chat_model.message(mid)
        if done is not None:
            a11y.announce_reply(w.chat, done.content, finished)
        if not finished:   # the student's Stop is not a failure: a neutral companion
            w.companion.set_emotion("default" if mid in self.replies.stopped else "sad")

    def _run_finished(self, result) -> None:
        w = self.window
        answered, self._answered = self._answered, []
        touched = {cid for cid, _ in answered}
        for cid in touched:
            w.conversation_pane.refresh_conv(cid)
        if w.current_cid in touched:
            self.reload_current()
        # saved replies announce themselves (ChangeBridge): their upload is already scheduled
        if result.answered:
            if not w.isActiveWindow():
                w.notify("ArchPal answered", "A reply to your message has arrived.")
        from archpal_desktop.core.errors import OfflineError
        unreachable = isinstance(result.error, OfflineError)
        if result.waiting and unreachable and w.sync.state.online is False:
            w.composer.set_notice("Offline: your messages are saved here and ArchPal answers "
                                  "them when a connection is back.")
        elif result.waiting and unreachable:
            w.composer.set_notice("ArchPal can't be reached right now: your messages are saved "
                                  "here and it answers them when it is back.")
        elif not result.waiting:
            w.composer.set_notice("")

    def reload_current(self) -> None:
        w = self.window
        cid, store = w.current_cid, w.store
        if not cid:
            return
        handler = w.conversation_pane.latest.guard(lambda msgs: self._refresh_messages(cid, msgs))
        w.tasks.run_db(lambda: store.load_messages(cid), handler)

    def _refresh_messages(self, cid: str, messages) -> None:
        w = self.window
        if cid != w.current_cid:
            return
        stick = w.chat._at_bottom()
        w.chat.chat_model.set_messages(cid, messages)
        w.conversation_pane.count_shown()
        w.chat._relayout(stick)
        last_reply = next((m for m in reversed(messages) if m.role == "assistant"), None)
        if last_reply is not None and last_reply.local_state is None:
            w.companion.set_emotion(last_reply.emotion)

    def stop_reply(self) -> None:
        if self.replies.busy:
            self.replies.stop()

    def retry_reply(self, mid: str) -> None:
        self.replies.retry(mid)
