"""The conversation pane as the window shows it (issue 17 point 6): the list loaded, a
conversation opened (its messages, its draft, the companion's face), the list row counting what
the chat shows, a draft kept as it is typed.

It uses the window's ``conversations``, ``side_stack``, ``empty_list``, ``search_box``,
``results``, ``chat``, ``composer``, ``companion``, ``title_label``, ``current_cid`` (which it
sets), ``conversation_actions`` (the deletes still behind Undo stay hidden), its signals
``conversations_loaded`` and ``conversation_opened``, and its ``_error`` and ``_update_composer``.
Every store call runs on the database worker.
"""
from __future__ import annotations

from PySide6.QtCore import QObject

from archpal_desktop import APP_NAME
from archpal_desktop.ui.tasks import Latest

LAST_CONVERSATION_KEY = "ui.last_conversation"


def show_title(window, conv) -> None:
    """The open conversation's title (None: none open) in the header and the window title."""
    window.title_label.setText(conv.title if conv else "")
    window.setWindowTitle(f"{conv.title} — {APP_NAME}" if conv else APP_NAME)

class ConversationPane(QObject):
    def __init__(self, window, tasks, store):
        super().__init__(window)
        self.window = window
        self.tasks = tasks
        self.store = store
        self.latest = Latest()        # every load of the open messages: a stale one is dropped
        self._pending_scroll: str | None = None
        window.conversations.selectionModel().currentChanged.connect(self._selection_changed)
        window.composer.draft_changed.connect(self.save_draft)

    def reload_conversations(self, select: str | None = None) -> None:
        w, store = self.window, self.store

        def shown(convs) -> None:
            # decided now, not when asked: the student may have moved on meanwhile
            keep = w.current_cid or select
            convs = self.visible(convs)
            w.conversations.conv_model.set_conversations(convs)
            w.side_stack.setCurrentWidget(w.conversations if convs or w.search_box.text()
                                          else w.empty_list)
            if w.search_box.text().strip():
                w.side_stack.setCurrentWidget(w.results)
            if keep and w.conversations.select(keep):
                pass
            elif convs and w.current_cid is None:
                w.conversations.select(convs[0].conversation_id)
            w.conversations_loaded.emit()
            self.refresh_counts()   # after the first paint
        self.tasks.run_db(store.list_conversations, shown, w._error("Loading your conversations"))

    def visible(self, convs: list) -> list:
        """The conversations the list shows: one deleted here and waiting on its Undo stays out."""
        hidden = self.window.conversation_actions.deleting.hidden
        return [c for c in convs if c.conversation_id not in hidden]

    def refresh_counts(self) -> None:
        """Every row counts what the chat shows (Ask again runs once), read on the db worker."""
        self.tasks.run_db(self.store.shown_message_counts,
                          self.window.conversations.conv_model.set_shown_counts)


    def _selection_changed(self, current, _previous) -> None:
        cid = self.window.conversations.current_id()
        if cid and cid != self.window.current_cid:
            self.open_conversation(cid)

    def open_conversation(self, cid: str, scroll_to: str | None = None) -> None:
        w, store = self.window, self.store
        w.composer.flush_draft()
        w.current_cid = cid
        self._pending_scroll = scroll_to
        show_title(w, w.conversations.conv_model.conversation(cid))
        handler = self.latest.guard(lambda r: self._show_conversation(cid, *r))
        self.tasks.run_db(lambda: (store.load_messages(cid), store.get_draft(cid)), handler,
                          w._error("Opening the conversation"))
        self.tasks.run_db(lambda: store.kv_set(LAST_CONVERSATION_KEY, cid))

    def _show_conversation(self, cid: str, messages, draft: str) -> None:
        w = self.window
        if cid != w.current_cid:
            return
        w.chat.show_messages(cid, messages)
        self.count_shown()
        w.composer.load_draft(draft)
        last_reply = next((m for m in reversed(messages) if m.role == "assistant"), None)
        w.companion.set_emotion(last_reply.emotion if last_reply else "hello")
        if self._pending_scroll:
            w.chat.scroll_to_message(self._pending_scroll)
            self._pending_scroll = None
        w._update_composer()
        w.conversation_opened.emit(cid)

    def count_shown(self) -> None:
        """The open conversation's row counts what the chat shows, as it changes."""
        w = self.window
        cid = w.chat.chat_model.conversation_id
        if cid and cid == w.current_cid:
            w.conversations.conv_model.set_shown_counts({cid: len(w.chat.chat_model.shown())},
                                                        replace=False)

    def refresh_conv(self, cid: str) -> None:
        """One list row read again (a reply saved, a write announced)."""
        store, model = self.store, self.window.conversations.conv_model
        self.tasks.run_db(lambda: store.get_conversation(cid), lambda conv: conv and model.upsert(conv))

    def save_draft(self, text: str) -> None:
        cid, store = self.window.current_cid, self.store
        if cid:
            self.tasks.run_db(lambda: store.set_draft(cid, text))
