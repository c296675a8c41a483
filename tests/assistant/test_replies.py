"""The offline queue: send, answer in order when a provider is back, failures, retry, recovery,
and a second device that syncs a waiting message without answering it. Real SQLite, real boto3
against our local Bedrock endpoint, real S3 sync against moto."""
from __future__ import annotations

import threading
import uuid

import boto3
import pytest

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout
from archpal_desktop.core.assistant import TextDelta, build_providers
from archpal_desktop.core.aws import static_access
from archpal_desktop.core.errors import BadDataError, OfflineError
from archpal_desktop.core.assistant.queue import TABLE, ReplyRunner
from archpal_desktop.core.cache import Store
from archpal_desktop.core.sync import sync_once
from archpal_desktop.localstack.bedrock import LocalBedrock, Reply, _last_user_text
from archpal_desktop.localstack.server import free_port

SUB = "5b1c7a2e-0d4f-4c3a-9e8b-1f2a3b4c5d6e"
PROFILE = {"first_name": "Ada", "last_name": "Lovelace", "college_year": "Second Year",
           "major": "English", "course_number": "ENGL 1102"}


def echo(body: dict) -> Reply:
    return Reply(text="Re: " + _last_user_text(body), emotion="point", piece_size=10)


def runner_for(store: Store, settings: cfg.Settings) -> ReplyRunner:
    return ReplyRunner(store, settings,
                       lambda: build_providers(settings, lambda: boto3.Session(region_name="us-east-1")))


@pytest.fixture
def settings(tmp_path, bedrock):
    return cfg.load_settings(cli_overrides={cfg.DATA_DIR: str(tmp_path / "a"),
                                            cfg.ANTHROPIC_MODEL: "us.anthropic.claude-test"})


@pytest.fixture
def store(tmp_path):
    s = Store.open_for_user(tmp_path / "a", SUB)
    s.save_profile(PROFILE, email="ada@uga.edu")
    yield s
    s.close()


def assistant_messages(store, cid):
    return [m for m in store.load_messages(cid, with_raw=True) if m.role == "assistant"]


def test_messages_sent_offline_are_answered_in_order_when_back_and_never_twice(store, settings, monkeypatch):
    port = free_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{port}")
    a = store.create_conversation("Essay A").conversation_id
    b = store.create_conversation("Essay B").conversation_id
    runner = runner_for(store, settings)
    m1 = runner.send(a, "first in A")
    m2 = runner.send(b, "only in B")
    m3 = runner.send(a, "second in A")
    for m in (m1, m2, m3):
        assert store.get_message(m.message_id).local_state == "waiting"   # stored at once
    assert store.pending_upload_count() >= 2                              # and synced like any message

    offline = runner.run_pending()
    assert offline.offline and isinstance(offline.error, OfflineError)
    assert offline.waiting == 3 and not offline.answered
    assert assistant_messages(store, a) == [] and assistant_messages(store, b) == []

    server = LocalBedrock(port=port, responder=echo).start()   # the network is back
    try:
        result = runner.run_pending()
        assert result.error is None and result.waiting == 0 and len(result.answered) == 2
        asked = [_last_user_text(r.body) for r in server.requests]
        assert asked == ["first in A\n\nsecond in A", "only in B"]   # send order; A's two together
        (reply_a,) = assistant_messages(store, a)
        (reply_b,) = assistant_messages(store, b)
        assert reply_a.content == "Re: first in A\n\nsecond in A" and reply_b.content == "Re: only in B"
        assert reply_a.local_state is None and reply_a.emotion == "point"
        assert reply_a.raw["metadata"] == {"model": "us.anthropic.claude-test", "course_number": "ENGL 1102",
                                           "emotion": "point", "message_index": 2}
        assert [m.local_state for m in store.load_messages(a)] == [None, None, None]
        assert [m.message_id for m in store.load_messages(a)][-1] == reply_a.message_id

        again = runner.run_pending()            # nothing left: no request, no second reply
        assert again.answered == [] and len(server.requests) == 2
        assert len(assistant_messages(store, a)) == 1
    finally:
        server.stop()


def test_failure_mid_stream_keeps_partial_text_and_retry_reuses_the_message(store, settings, bedrock):
    cid = store.create_conversation().conversation_id
    runner = runner_for(store, settings)
    runner.send(cid, "Help with my outline?")
    bedrock.script(Reply(pieces=["Start with ", "your claim, ", "then..."], stream_error_after=3))  # the JSON head, then two pieces
    seen = []
    result = runner.run_pending(on_event=lambda ev: seen.append(ev))
    (failed_id,) = result.failed
    msg = store.get_message(failed_id)
    assert (msg.content, msg.local_state) == ("Start with your claim, ", "failed")
    assert [e.event.text for e in seen if isinstance(e.event, TextDelta)] == ["Start with ", "your claim, "]
    assert {e.reply_message_id for e in seen} == {failed_id}
    assert runner.run_pending().answered == []      # a failure is not retried behind the user's back

    bedrock.script(Reply(text="Start with your claim, then list reasons.", emotion="success"))
    runner.retry(failed_id)
    result = runner.run_pending()
    assert result.answered == [failed_id]
    (reply,) = assistant_messages(store, cid)
    assert reply.message_id == failed_id and reply.local_state is None
    assert reply.content == "Start with your claim, then list reasons." and reply.emotion == "success"


def test_stop_keeps_partial_text_as_failed(store, settings, bedrock):
    from archpal_desktop.core.assistant import CancelToken

    cid = store.create_conversation().conversation_id
    runner = runner_for(store, settings)
    runner.send(cid, "Long answer please")
    bedrock.script(Reply(text="word " * 100, piece_size=5, delay=0.05))
    cancel = CancelToken()

    def on_event(ev):
        if isinstance(ev.event, TextDelta) and not cancel.cancelled:
            cancel.cancel()
    result = runner.run_pending(on_event=on_event, cancel=cancel)
    (rid,) = result.failed
    kept = store.get_message(rid)
    assert kept.local_state == "failed" and kept.content and ("word " * 100).startswith(kept.content)
    assert bedrock.requests[0].done.wait(5) and bedrock.requests[0].disconnected


def test_a_claim_left_by_a_dead_process_is_recovered(store, settings, bedrock):
    cid = store.create_conversation().conversation_id
    runner = runner_for(store, settings)
    sent = runner.send(cid, "question")
    reply_id = str(uuid.uuid4())
    store.add_message(cid, "assistant", "half an ans", message_id=reply_id, local_state="streaming")
    with store.transaction():
        store.conn.execute(f"UPDATE {TABLE} SET state='answering', claimed_by='{layout_host()}:999999:x', "
                           "reply_message_id=? WHERE user_message_id=?", (reply_id, sent.message_id))
    result = runner.run_pending()
    assert result.answered == [] and bedrock.requests == []
    assert store.get_message(reply_id).local_state == "failed"
    assert store.get_message(reply_id).content == "half an ans"
    assert [r["reply_message_id"] for r in runner.failed()] == [reply_id]


def layout_host():
    import socket
    return socket.gethostname()


def test_two_runners_on_one_cache_never_answer_the_same_message(store, settings, bedrock, tmp_path):
    cids = [store.create_conversation().conversation_id for _ in range(4)]
    runner = runner_for(store, settings)
    for cid in cids:
        runner.send(cid, f"question for {cid[:8]}")
    bedrock.responder = lambda body: Reply(text="answer", delay=0.01)
    other = Store.open_for_user(tmp_path / "a", SUB)   # e.g. the window and a terminal command
    try:
        runners = [runner, runner_for(other, settings)]
        threads = [threading.Thread(target=r.run_pending) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        other.close()
        from archpal_desktop.localstack.bedrock import demo_coach_reply
        bedrock.responder = demo_coach_reply
    assert len(bedrock.requests) == 4
    for cid in cids:
        assert len(assistant_messages(store, cid)) == 1


def test_send_refuses_empty_text(store, settings):
    cid = store.create_conversation().conversation_id
    with pytest.raises(BadDataError):
        runner_for(store, settings).send(cid, "   ")
    assert store.load_messages(cid) == []


def test_second_device_shows_waiting_message_and_does_not_answer_it(tmp_path, local_aws, bucket, bedrock,
                                                                     monkeypatch):
    port = free_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{port}")  # A is offline
    settings = cfg.load_settings(cli_overrides={cfg.S3_BUCKET_NAME: bucket})
    access = static_access(settings, SUB)
    laptop = Store.open_for_user(tmp_path / "laptop", SUB)
    desktop = Store.open_for_user(tmp_path / "desktop", SUB)
    try:
        assert laptop.device_id() != desktop.device_id()
        cid = laptop.create_conversation().conversation_id
        runner_a = runner_for(laptop, settings)
        sent = runner_a.send(cid, "Written on the train")
        assert runner_a.run_pending().offline
        assert sync_once(laptop, access, settings).ok          # the waiting message is uploaded

        assert sync_once(desktop, access, settings).ok
        runner_b = runner_for(desktop, settings)
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.url)   # B is online
        assert runner_b.run_pending().answered == [] and bedrock.requests == []
        msgs_b = desktop.load_messages(cid)
        # only the question, no reply: B's window shows it as waiting for ArchPal ("No reply yet")
        assert [(m.message_id, m.role) for m in msgs_b] == [(sent.message_id, "user")]

        bedrock.script(Reply(text="Glad you're writing on the go!", emotion="smile"))
        assert len(runner_a.run_pending().answered) == 1          # A is back and answers it
        assert sync_once(laptop, access, settings).ok
        assert sync_once(desktop, access, settings).ok
        msgs_b = desktop.load_messages(cid)
        assert [m.role for m in msgs_b] == ["user", "assistant"] and msgs_b[-1].local_state is None
        assert runner_b.run_pending().answered == [] and len(bedrock.requests) == 1
    finally:
        laptop.close()
        desktop.close()


def test_a_failed_partial_reply_is_not_sent_back_to_the_model_as_history(store, settings, bedrock):
    cid = store.create_conversation().conversation_id
    runner = runner_for(store, settings)
    runner.send(cid, "Question one")
    bedrock.script(Reply(pieces=["Half ", "an answer"], stream_error_after=2))
    (failed_id,) = runner.run_pending().failed
    runner.send(cid, "Question two")
    bedrock.script(Reply(text="Full answer"))
    runner.run_pending()
    last = bedrock.requests[-1].body["messages"]
    assert last == [{"role": "user", "content": [{"text": "Question one\n\nQuestion two"}]}]
    texts = [m.content for m in store.load_messages(cid)]
    assert texts.count("Full answer") == 1 and store.get_message(failed_id).local_state == "failed"
