"""A remote change shown in place (issue 19, point 3): the open conversation gets the new
messages without a jump, and the list reorders without losing the selection.

- The message view keeps its place: at the bottom if it was there (the new messages show),
  else the message at the top of the viewport stays at the same height. The older messages the
  student had scrolled back to stay loaded, and the current message (keyboard) stays current.
- The composer is not touched: its text, cursor and focus are the student's (opening the
  conversation again, as the window used to, reloaded the saved draft over them).
- The list is patched row by row (moves, inserts, removals through the model's upsert and
  remove), never reset, so the current row follows its conversation.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, QPoint

from archpal_desktop.ui.chat_model import MessageRole
from archpal_desktop.ui.conversation_list import ConversationRole
from archpal_desktop.ui.conversation_pane import show_title


#: more rows changed than this: the list is reset once instead of patched row by row
PATCH_AT_MOST = 50


def _top_anchor(chat: Any) -> tuple[str | None, int]:
    """The message at the top of the viewport and how far its top is from the viewport's."""
    vp = chat.viewport()
    for y in (1, 8, 24, 48):
        idx = chat.indexAt(QPoint(max(1, vp.width() // 2), y))
        if idx.isValid():
            msg = idx.data(MessageRole)
            return (msg.message_id if msg is not None else None), chat.visualRect(idx).top()
    return None, 0


def refresh_messages(chat: Any, cid: str, messages: list) -> None:
    """Show ``messages`` for the open conversation ``cid`` without moving the view."""
    model = chat.chat_model
    sb = chat.verticalScrollBar()
    stick = chat._at_bottom()
    anchor, offset = (None, 0) if stick else _top_anchor(chat)
    first_shown = model._all[model._rows[model._first]].message_id \
        if model.rowCount() and model._first < len(model._rows) else None
    current = chat.currentIndex().data(MessageRole) if chat.currentIndex().isValid() else None
    chat._loading_older = True   # no "load older" from the scroll bar's moves meanwhile
    try:
        model.set_messages(cid, messages)
        if first_shown is not None:
            model.row_of(first_shown, reveal=True)   # keep what the student had scrolled back to
        chat.doItemsLayout()
        if current is not None:
            row = model.row_of(current.message_id, reveal=False)
            if row >= 0:
                chat.selectionModel().setCurrentIndex(model.index(row),
                                                      QItemSelectionModel.SelectionFlag.NoUpdate)
        if stick:
            chat.scrollToBottom()
        elif anchor is not None:
            row = model.row_of(anchor, reveal=False)
            if row >= 0:
                sb.setValue(sb.value() + chat.visualRect(model.index(row)).top() - offset)
    finally:
        chat._loading_older = False
    chat._stick = stick


def selected_id(conversations: Any) -> str | None:
    """The conversation selected in the list (its current index exists only while the list has
    the focus: ui/a11y.py, current_item_on_focus)."""
    rows = conversations.selectionModel().selectedIndexes()
    conv = rows[0].data(ConversationRole) if rows else None
    return conv.conversation_id if conv is not None else None


def patch_list(conversations: Any, convs: list, open_cid: str | None) -> bool:
    """Bring the list to ``convs`` (newest first) with moves, inserts and removals only, the
    selection following its conversation. False when ``open_cid`` is no longer listed (deleted
    elsewhere: the caller decides what to show instead)."""
    model = conversations.conv_model
    wanted = {c.conversation_id for c in convs}
    held = {c.conversation_id: c for c in model.conversations()}
    differ = sum(1 for c in convs if held.get(c.conversation_id) != c) + len(set(held) - wanted)
    if differ > PATCH_AT_MOST:
        # a first sync or a big day elsewhere: one reset (each row patched alone is quadratic:
        # 1,000 inserts froze the window ~100 ms), then the open conversation selected again
        model.set_conversations(convs)
        if open_cid in wanted:
            conversations.select(open_cid)
        return open_cid is None or open_cid in wanted
    for old in model.conversations():
        if old.conversation_id not in wanted:
            model.remove(old.conversation_id)
    for conv in reversed(convs):   # oldest first: each upsert moves its row into place
        if model.conversation(conv.conversation_id) != conv:
            model.upsert(conv)
    if open_cid is not None and open_cid in wanted and selected_id(conversations) != open_cid:
        conversations.select(open_cid)
    return open_cid is None or open_cid in wanted


def after_sync(window: Any, changed: set) -> None:
    """A sync pulled changes: the list patched, the open conversation refreshed in place."""
    store = window.store

    def listed(convs) -> None:
        if window.search_box.text().strip():
            window.conversation_pane.reload_conversations()
            return
        pane = window.conversation_pane
        convs = pane.visible(convs)
        kept = patch_list(window.conversations, convs, window.current_cid)
        pane.refresh_counts()
        window.side_stack.setCurrentWidget(window.conversations if convs else window.empty_list)
        if not kept or window.current_cid is None:
            # the open conversation was deleted elsewhere
            window.current_cid = None
            if convs:
                window.conversations.select(convs[0].conversation_id)
            else:
                window.chat.show_messages(None, [])
                show_title(window, None)
            return
        conv = window.conversations.conv_model.conversation(window.current_cid)
        if conv is not None and conv.title != window.title_label.text():
            show_title(window, conv)   # renamed in the web app
        if window.current_cid in changed:
            cid = window.current_cid

            def show(msgs) -> None:
                if cid == window.current_cid:
                    refresh_messages(window.chat, cid, msgs)
                    window.conversation_pane.count_shown()
            window.tasks.run_db(lambda: store.load_messages(cid), window.conversation_pane.latest.guard(show))
    window.tasks.run_db(store.list_conversations, listed, window._error("Loading your conversations"))
