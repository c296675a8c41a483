"""The core send (issue 17, point 5): with no conversation yet it creates one, and it stores the
message, queues it and clears the draft in one transaction (one commit, one announcement)."""
from __future__ import annotations

from archpal_desktop.core import config as cfg
from archpal_desktop.core.assistant.queue import ReplyRunner
from archpal_desktop.core.cache import Store

SUB = "5b1c7a2e-0d4f-4c3a-9e8b-1f2a3b4c5d6e"


def _runner(tmp_path):
    store = Store.open_for_user(tmp_path / "a", SUB)
    settings = cfg.load_settings(cli_overrides={cfg.DATA_DIR: str(tmp_path / "a")})
    return store, ReplyRunner(store, settings, lambda: [])


def test_send_with_no_conversation_creates_one(tmp_path):
    store, runner = _runner(tmp_path)
    msg = runner.send(None, "My first question")
    conv = store.get_conversation(msg.conversation_id)
    assert conv is not None and conv.message_count == 1
    assert [m.content for m in store.load_messages(conv.conversation_id)] == ["My first question"]
    assert [r["user_message_id"] for r in runner.pending()] == [msg.message_id]
    store.close()


def test_send_stores_queues_and_clears_the_draft_in_one_commit(tmp_path):
    store, runner = _runner(tmp_path)
    conv = store.create_conversation("Essay")
    store.set_draft(conv.conversation_id, "half a thought")
    commits = []
    store.subscribe(commits.append)
    msg = runner.send(conv.conversation_id, "half a thought, finished")
    assert len(commits) == 1, commits            # message, queue row and draft: one transaction
    assert commits[0].upload and msg.message_id in commits[0].messages
    assert store.get_draft(conv.conversation_id) == ""
    assert [r["user_message_id"] for r in runner.pending()] == [msg.message_id]
    store.close()


def test_a_conversation_deleted_before_the_send_gets_a_new_one(tmp_path):
    store, runner = _runner(tmp_path)
    conv = store.create_conversation("Gone")
    store.delete_conversation(conv.conversation_id)
    msg = runner.send(conv.conversation_id, "Still here?")
    assert msg.conversation_id != conv.conversation_id
    assert store.get_conversation(msg.conversation_id) is not None
    store.close()
