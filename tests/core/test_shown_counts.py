"""Store.shown_message_counts: what the window's chat shows, per conversation (issue 11, build 5)."""
from __future__ import annotations

from archpal_desktop.core.cache import Store


def test_a_run_of_replies_counts_once_and_local_messages_count(tmp_path):
    store = Store.open_for_user(tmp_path / "data", "0f1c3a52-0a8e-4c49-9d0c-2f3b8d6e5a10")
    try:
        a = store.create_conversation("A").conversation_id
        empty = store.create_conversation("Empty").conversation_id
        store.add_message(a, "assistant", "Hello first")                  # a greeting: one bubble
        store.add_message(a, "user", "Q1")
        store.add_message(a, "assistant", "A1")
        store.add_message(a, "assistant", "A1 again")                     # Ask again: same bubble
        store.add_message(a, "user", "Q2")
        store.add_message(a, "assistant", "cut short", local_state="failed")
        store.add_message(a, "user", "Q3", local_state="waiting")
        counts = store.shown_message_counts()
        assert counts[a] == 6 and counts[empty] == 0
        assert store.get_conversation(a).message_count == 6            # the index's count: 7 - failed
        store.delete_conversation(empty)
        assert empty not in store.shown_message_counts()
    finally:
        store.close()
