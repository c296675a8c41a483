"""The OpenAI-compatible provider driven through requests against a local streaming server."""
from __future__ import annotations

import threading
import time

from archpal_desktop.core.assistant import Cancelled, CancelToken, Finished, StreamError, TextDelta, collect
from archpal_desktop.core.assistant.openai_compat import OpenAICompatProvider
from archpal_desktop.core.assistant.prompt import build_request
from archpal_desktop.core.errors import ConfigError, OfflineError
from archpal_desktop.localstack.openai_server import LocalReply
from archpal_desktop.localstack.server import free_port

from tests.assistant.conftest import make_settings


def provider(server, **values) -> OpenAICompatProvider:
    values.setdefault("openai_base_url", server.url)
    values.setdefault("openai_model", server.model)
    return OpenAICompatProvider(make_settings(provider="openai", **values))


def request():
    return build_request([("user", "Can you check my thesis?"), ("assistant", "Sure, paste it."),
                          ("user", "Parks make cities better.")], profile={"first_name": "Bob"})


def test_streams_in_pieces_in_order_and_strips_the_inline_emotion(local_model):
    local_model.script(LocalReply(pieces=["Good ", "start. ", "Why do ", "parks matter?", '\n{"emo',
                                          'tion": "sm', 'ile"}'], delay=0.04))
    arrivals = []
    result = collect(provider(local_model).stream(request()), lambda e: arrivals.append((time.monotonic(), e)))
    deltas = [(t, e.text) for t, e in arrivals if isinstance(e, TextDelta)]
    assert len(deltas) >= 4
    assert deltas[-1][0] - deltas[0][0] >= 0.04 * 2
    shown = "".join(t for _, t in deltas)
    assert "emotion" not in shown and shown.startswith("Good start. Why do parks matter?")
    assert isinstance(result.final, Finished)
    assert (result.final.text, result.final.emotion) == ("Good start. Why do parks matter?", "smile")
    (rec,) = local_model.requests
    assert rec.body["stream"] is True and rec.body["model"] == local_model.model
    roles = [m["role"] for m in rec.body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert '{"emotion": "smile"}' in rec.body["messages"][0]["content"]


def test_model_discovered_when_not_configured(local_model):
    local_model.script(LocalReply(text="Hi."))
    p = provider(local_model, openai_model="")
    result = collect(p.stream(request()))
    assert isinstance(result.final, Finished) and result.final.model == local_model.model


def test_no_inline_emotion_means_default(local_model):
    local_model.script(LocalReply(text="Plain reply {with braces} inside.", emotion=None))
    result = collect(provider(local_model).stream(request()))
    assert (result.final.text, result.final.emotion) == ("Plain reply {with braces} inside.", "default")
    assert result.text == "Plain reply {with braces} inside."


def test_error_mid_stream_keeps_partial_text(local_model):
    local_model.script(LocalReply(pieces=["One. ", "Two. ", "Three."], stream_error_after=2))
    result = collect(provider(local_model).stream(request()))
    assert isinstance(result.final, StreamError) and result.final.started
    assert result.final.partial_text == "One. Two. "


def test_unknown_model_is_a_config_error_naming_it(local_model):
    result = collect(provider(local_model, openai_model="llama-nope").stream(request()))
    assert isinstance(result.final, StreamError) and not result.final.started
    assert isinstance(result.final.error, ConfigError) and "llama-nope" in str(result.final.error)


def test_server_down_is_offline():
    settings = make_settings(provider="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1",
                             openai_model="x")
    result = collect(OpenAICompatProvider(settings).stream(request()))
    assert isinstance(result.final, StreamError) and isinstance(result.final.error, OfflineError)


def test_cancel_stops_stream_and_request(local_model):
    local_model.script(LocalReply(text="token " * 200, delay=0.1))
    cancel = CancelToken()
    count = 0

    def on_event(event):
        nonlocal count
        if isinstance(event, TextDelta):
            count += 1
            if count == 2:
                threading.Timer(0.02, cancel.cancel).start()
    started = time.monotonic()
    result = collect(provider(local_model).stream(request(), cancel), on_event)
    assert isinstance(result.final, Cancelled) and result.final.partial_text
    assert time.monotonic() - started < 2.0
    (rec,) = local_model.requests
    assert rec.done.wait(5) and rec.disconnected and not rec.finished
