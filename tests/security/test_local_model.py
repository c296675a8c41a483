"""Point 2: the local-model fallback is opt-in; every reply says which provider wrote it
(metadata.model, and on the bubble); on Linux a loopback listener of another user is refused.

Bedrock is made unreachable by pointing its endpoint at a closed port; the local model is our
OpenAI-compatible server on 127.0.0.1."""
from __future__ import annotations

import os
import pwd
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import Qt

from archpal_desktop.core import config as cfg
from archpal_desktop.core.assistant import Finished, StreamError, build_providers, collect, stream_reply
from archpal_desktop.core.assistant.loopback import listener_uids
from archpal_desktop.core.assistant.openai_compat import OpenAICompatProvider
from archpal_desktop.core.assistant.prompt import build_request
from archpal_desktop.core.errors import AccessDeniedError
from archpal_desktop.localstack.openai_server import LocalOpenAI, LocalReply
from archpal_desktop.localstack.server import free_port
from tests.ui.conftest import wait_idle


@pytest.fixture(scope="module")
def local_model():
    server = LocalOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def no_bedrock(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{free_port()}")


def _window_settings(state, **values):
    state.settings = cfg.load_settings(cli_overrides={cfg.DATA_DIR: str(state.settings.data_dir()),
                                                      cfg.S3_BUCKET_NAME: state.settings[cfg.S3_BUCKET_NAME],
                                                      **values})


def _send(qtbot, w, text):
    qtbot.keyClicks(w.composer.edit, text)
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)


def test_the_fallback_is_off_unless_turned_on(qtbot, make_window, state, local_model, no_bedrock, bedrock):
    local_model.requests.clear()
    _window_settings(state, openai_base_url=local_model.url, openai_model=local_model.model)
    assert state.settings[cfg.OPENAI_FALLBACK] is False
    w = make_window()
    _send(qtbot, w, "Is my thesis arguable?")
    qtbot.waitUntil(lambda: any(m.role == "user" for m in w.chat.chat_model.messages()), timeout=5000)
    wait_idle(qtbot, state)
    assert local_model.requests == []  # the history went nowhere
    assert [m.role for m in w.chat.chat_model.messages()] == ["user"]


def test_a_local_reply_is_labelled_in_metadata_and_on_its_bubble(qtbot, make_window, state, local_model,
                                                                 no_bedrock, bedrock):
    local_model.script(LocalReply(text="Try a narrower claim."))
    _window_settings(state, openai_base_url=local_model.url, openai_model=local_model.model,
                     openai_fallback=True)
    w = make_window()
    _send(qtbot, w, "Is my thesis arguable?")
    qtbot.waitUntil(lambda: any(m.role == "assistant" and m.local_state is None and m.content
                                for m in w.chat.chat_model.messages()), timeout=15000)
    wait_idle(qtbot, state)
    reply = [m for m in w.chat.chat_model.messages() if m.role == "assistant"][-1]
    stored = state.store.get_message(reply.message_id)
    assert stored.raw["metadata"]["model"] == f"local:{local_model.model}"
    shown = w.chat.delegate.meta_text(reply)  # the line painted under the bubble
    assert shown.startswith(f"Local model {local_model.model} (not ArchPal)")
    # after a restart too (the view reads the label from the cache)
    w.close()
    w2 = make_window()
    w2.conversations.select(reply.conversation_id)
    wait_idle(qtbot, state)
    again = [m for m in w2.chat.chat_model.messages() if m.role == "assistant"][-1]
    assert w2.chat.delegate.meta_text(again).startswith("Local model")


def test_bedrock_replies_stay_archpal(bedrock):
    from tests.assistant.test_bedrock_provider import provider, request
    from archpal_desktop.localstack.bedrock import Reply
    bedrock.script(Reply(text="Fine."))
    result = collect(stream_reply([provider()], request()))
    assert isinstance(result.final, Finished) and not result.final.model.startswith("local:")


needs_root = pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                                reason="listening as another local user needs root (setuid)")


@needs_root
def test_a_listener_of_another_user_gets_nothing(tmp_path):
    port = free_port()
    nobody = pwd.getpwnam("nobody").pw_uid
    script = textwrap.dedent(f"""
        import socket, sys
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", {port})); s.listen(); print("ready", flush=True)
        s.settimeout(20)
        try:
            c, _ = s.accept()
            print("GOT", c.recv(65536)[:20], flush=True)
        except OSError:
            pass
    """)
    # the system's interpreter: "nobody" may not enter the folder this test's one lives in
    python = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.path.exists(p)), None)
    if python is None:
        pytest.skip("no system python3 that another user can run")
    proc = subprocess.Popen([python, "-c", script], stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: os.setuid(nobody), cwd="/")
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert nobody in listener_uids(port)
        settings = cfg.load_settings(cli_overrides={"provider": "openai",
                                                    "openai_base_url": f"http://127.0.0.1:{port}/v1",
                                                    "openai_model": "m"},
                                     env={"ARCHPAL_OPENAI_API_KEY": "sk-student-key"})
        request = build_request([("user", "my private essay draft")])
        result = collect(stream_reply(build_providers(settings, lambda: None), request))
        assert isinstance(result.final, StreamError) and not result.final.started
        assert isinstance(result.final.error, AccessDeniedError)
        assert "belongs to another user of this computer (nobody)" in str(result.final.error)
    finally:
        proc.kill()
        heard = proc.communicate()[0]
    assert "GOT" not in heard


def test_own_listener_is_accepted(local_model):
    local_model.script(LocalReply(text="Hi."))
    settings = cfg.load_settings(cli_overrides={"provider": "openai", "openai_base_url": local_model.url,
                                                "openai_model": local_model.model})
    result = collect(OpenAICompatProvider(settings).stream(build_request([("user", "hi")])))
    assert isinstance(result.final, Finished)
