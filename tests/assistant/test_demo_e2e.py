"""End to end on the demo backend: sign in (real SRP against moto), send, stream the demo
coach's reply from our ConverseStream endpoint, sync, and find both messages in S3 in the web
app's format, readable and appendable by a writer that behaves as the web app does."""
from __future__ import annotations

import json
import os
import uuid

import boto3
import pytest

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout
from archpal_desktop.core.assistant import TextDelta, build_providers
from archpal_desktop.core.assistant.queue import ReplyRunner
from archpal_desktop.core.cache import Store
from archpal_desktop.core.sync import sync_once
from archpal_desktop.localstack.bedrock import DEMO_LABEL
from archpal_desktop.localstack.demo import seed_objects, start_demo


@pytest.fixture
def demo(tmp_path):
    d = start_demo(tmp_path / "demo-data", announce=False)
    yield d
    d.close()


def sign_in(settings, demo):
    try:
        from archpal_desktop.core.auth import AuthSession
    except ModuleNotFoundError:  # pragma: no cover - only before core.auth existed
        from archpal_desktop.core.aws import static_access
        return static_access(settings, demo.sub)
    session = AuthSession(settings)
    session.sign_in(demo.email, demo.password)
    return session.access()


def web_app_append(s3, bucket, sub, cid, text):
    """What the web app does: blind GET, append, blind PUT (no conditions), then the index."""
    key = layout.conversation_key(sub, cid)
    doc = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    ts = layout.now_ts()
    doc["messages"].append({"message_id": str(uuid.uuid4()), "role": "user", "content": text,
                            "timestamp": ts, "metadata": {"course_number": "ENGL 1101",
                                                          "message_index": len(doc["messages"])}})
    doc["last_updated"] = ts
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(doc, indent=2).encode())
    index = json.loads(s3.get_object(Bucket=bucket, Key=layout.index_key(sub))["Body"].read())
    for entry in index:
        if entry["conversation_id"] == cid:
            entry["last_updated"], entry["message_count"] = ts, len(doc["messages"])
    s3.put_object(Bucket=bucket, Key=layout.index_key(sub), Body=json.dumps(index, indent=2).encode())


def test_sign_in_send_stream_sync_and_web_app_reads_it(demo):
    assert os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == demo.bedrock.url
    settings = cfg.load_settings(cli_overrides=demo.settings_overrides())
    access = sign_in(settings, demo)
    assert access.sub == demo.sub
    store = Store.open_for_user(settings.data_dir(), access.sub)
    try:
        assert sync_once(store, access, settings).ok
        convs = store.list_conversations()
        assert len(convs) == 3
        legacy = [m for c in convs for m in store.load_messages(c.conversation_id)
                  if m.role == "assistant" and m.emotion == "success"]
        assert legacy and "emotion" not in legacy[0].content    # inline emotion shown clean

        from archpal_desktop.core.assistant.relay import token_from_access   # --demo uses the relay
        runner = ReplyRunner(store, settings, lambda: build_providers(settings, lambda: access.session,
                                                                      token_from_access(lambda: access)))
        cid = store.create_conversation().conversation_id
        sent = runner.send(cid, "How should I structure my conclusion?")
        deltas = []
        result = runner.run_pending(on_event=lambda ev: isinstance(ev.event, TextDelta)
                                    and deltas.append(ev.event.text))
        (reply_id,) = result.answered
        assert len(deltas) > 5
        reply = store.get_message(reply_id)
        assert reply.content.startswith(DEMO_LABEL) and "conclusion" in reply.content
        assert reply.content == "".join(deltas)
        assert sync_once(store, access, settings).ok

        s3 = boto3.client("s3", region_name="us-east-1")
        key = layout.conversation_key(demo.sub, cid)
        body = s3.get_object(Bucket=demo.bucket, Key=key)["Body"].read()
        doc = layout.parse_conversation(body, demo.sub, cid, key)
        assert body == layout.dumps(doc)                         # the web app's byte format
        user, assistant = doc["messages"]
        assert (user["message_id"], user["content"]) == (sent.message_id, "How should I structure my conclusion?")
        assert user["metadata"] == {"course_number": "ENGL 1101", "message_index": 0}
        assert list(assistant["metadata"]) == ["model", "course_number", "emotion", "message_index"]
        assert assistant["metadata"]["model"] == "archpal-demo-coach"
        assert assistant["metadata"]["emotion"] in layout.EMOTIONS
        assert assistant["content"] == reply.content and "local_state" not in json.dumps(doc)
        for m in doc["messages"]:
            assert layout.format_ts(layout.parse_ts(m["timestamp"])) == m["timestamp"]
        index = json.loads(s3.get_object(Bucket=demo.bucket, Key=layout.index_key(demo.sub))["Body"].read())
        (entry,) = [e for e in index if e["conversation_id"] == cid]
        assert entry["message_count"] == 2

        web_app_append(s3, demo.bucket, demo.sub, cid, "Thanks! One more question.")
        assert sync_once(store, access, settings).ok
        assert [m.role for m in store.load_messages(cid)] == ["user", "assistant", "user"]
        doc = json.loads(s3.get_object(Bucket=demo.bucket, Key=key)["Body"].read())
        assert [m["role"] for m in doc["messages"]] == ["user", "assistant", "user"]
    finally:
        store.close()


def test_demo_never_uses_the_real_data_folder():
    from archpal_desktop.core import paths
    from archpal_desktop.core.errors import ConfigError

    with pytest.raises(ConfigError, match="real data folder"):
        start_demo(paths.user_data_dir(), announce=False)
    assert "AWS_ENDPOINT_URL_S3" not in os.environ


def test_demo_without_data_dir_uses_a_temporary_folder_and_removes_it():
    d = start_demo(None, announce=False)
    folder = d.data_dir
    try:
        assert folder.is_dir() and d.temporary and "archpal-demo-" in folder.name
        assert "temporary" in d.banner() and d.password in d.banner()
    finally:
        d.close()
    assert not folder.exists() and "AWS_ENDPOINT_URL_BEDROCK_RUNTIME" not in os.environ


def test_seed_objects_are_in_the_web_app_layout():
    sub = "6c1d2e3f-4a5b-4c7d-8e9f-0a1b2c3d4e5f"
    objects = seed_objects(sub)
    index = layout.parse_index(objects[layout.index_key(sub)])
    assert len(index) == 3
    for entry in index:
        key = layout.conversation_key(sub, entry["conversation_id"])
        doc = layout.parse_conversation(objects[key], sub, entry["conversation_id"], key)
        assert objects[key] == layout.dumps(doc) and entry["message_count"] == len(doc["messages"])
    inline = [m for key, body in objects.items() if "/conversations/" in key
              for m in json.loads(body)["messages"] if "emotion" not in m["metadata"] and m["role"] == "assistant"]
    assert len(inline) == 1 and layout.message_view(inline[0])[1] == "success"
