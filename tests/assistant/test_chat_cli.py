"""``archpal-desktop chat`` in a subprocess, as a user runs it."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from archpal_desktop.core.cache import Store
from archpal_desktop.localstack.bedrock import DEMO_LABEL, Reply
from archpal_desktop.localstack.server import free_port

SUB = "2f4e6a8c-1b3d-4f5a-8c7e-9d0b1a2c3e4f"


def run(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "archpal_desktop", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_demo_chat_streams_a_reply_and_syncs():
    proc = run("--demo", "chat", "Can you help me plan my outline?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(DEMO_LABEL) and "outline" in proc.stdout
    assert "demo.student@example.edu" in proc.stderr and "temporary" in proc.stderr
    assert re.search(r"Conversation: [0-9a-f-]{36}", proc.stderr)
    assert "warning" not in proc.stderr


def test_offline_chat_queues_then_answers_when_back(tmp_path, local_aws, bucket, bedrock):
    data = tmp_path / "data"
    env = {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": f"http://127.0.0.1:{free_port()}",
           "ARCHPAL_S3_BUCKET_NAME": bucket}
    proc = run("--user", SUB, "--data-dir", str(data), "chat", "Written offline", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "queued" in proc.stderr and proc.stdout == ""
    with Store.open_for_user(data, SUB) as store:
        (conv,) = store.list_conversations()
        assert [(m.content, m.local_state) for m in store.load_messages(conv.conversation_id)] == \
            [("Written offline", "waiting")]

    bedrock.script(Reply(text="Answered once you were back.", emotion="smile"))
    env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = bedrock.url
    proc = run("--user", SUB, "--data-dir", str(data), "chat", "--retry", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Answered once you were back."
    with Store.open_for_user(data, SUB) as store:
        msgs = store.load_messages(conv.conversation_id)
        assert [(m.role, m.local_state) for m in msgs] == [("user", None), ("assistant", None)]
    assert len(bedrock.requests) == 1


def test_access_denied_is_reported_in_one_line(tmp_path, local_aws, bucket, bedrock):
    bedrock.script(Reply(http_error="access_denied"))
    proc = run("--user", SUB, "--data-dir", str(tmp_path / "d"), "chat", "hi",
               env={"ARCHPAL_S3_BUCKET_NAME": bucket})
    assert proc.returncode == 1
    assert "not allowed to use the model" in proc.stderr and "saved" in proc.stderr


def test_unknown_conversation_is_a_clear_error(tmp_path, local_aws, bucket, bedrock):
    proc = run("--user", SUB, "--data-dir", str(tmp_path / "d"), "chat", "--conversation", "nope", "hi",
               env={"ARCHPAL_S3_BUCKET_NAME": bucket})
    assert proc.returncode == 1 and "not a conversation id" in proc.stderr
