"""The Bedrock provider driven through real boto3 against our ConverseStream endpoint over HTTP."""
from __future__ import annotations

import threading
import time

import pytest

from archpal_desktop.core import config as cfg
from archpal_desktop.core.assistant import (Cancelled, CancelToken, EmotionEvent, Finished, StreamError,
                                            TextDelta, Usage, build_providers, collect, stream_reply)
from archpal_desktop.core.assistant.bedrock import BedrockProvider
from archpal_desktop.core.assistant.prompt import build_request
from archpal_desktop.core.errors import AccessDeniedError, OfflineError
from archpal_desktop.localstack.bedrock import Reply
from archpal_desktop.localstack.server import free_port

import boto3

from tests.assistant.conftest import make_settings

QUESTION = [("user", "How do I start my essay on urban parks?")]


def provider(**settings_values) -> BedrockProvider:
    settings = make_settings(**settings_values)
    return BedrockProvider(settings, lambda: boto3.Session(region_name="us-east-1"))


def request(history=QUESTION, **kw):
    return build_request(history, site_prompt="Course policy: cite everything.",
                         profile={"first_name": "Ada", "major": "English"}, **kw)


def test_text_streams_in_pieces_and_in_order_with_the_structured_emotion(bedrock):
    pieces = ["Let's ", "start ", "with ", "your ", "claim. ", "What do ", "you \u201cbelieve\u201d? \U0001f333"]
    bedrock.script(Reply(pieces=pieces, emotion="point", delay=0.05))
    arrivals: list[tuple[float, object]] = []
    result = collect(provider().stream(request()), lambda e: arrivals.append((time.monotonic(), e)))

    deltas = [(t, e.text) for t, e in arrivals if isinstance(e, TextDelta)]
    assert "".join(text for _, text in deltas) == "".join(pieces)
    assert len(deltas) >= len(pieces) - 1          # pieces, not one blob at the end
    # they arrived while the endpoint was still sending (spread over the stream, not at once)
    assert deltas[-1][0] - deltas[0][0] >= 0.05 * (len(pieces) - 2)
    kinds = [type(e) for _, e in arrivals]
    assert kinds.index(EmotionEvent) < kinds.index(TextDelta)   # emotion first: it comes first in the JSON
    assert isinstance(result.final, Finished)
    assert result.final.text == "".join(pieces)
    assert result.final.emotion == "point" and result.final.structured
    assert result.final.model == cfg.DEFAULTS[cfg.ANTHROPIC_MODEL]
    assert any(isinstance(e, Usage) and e.output_tokens > 0 for _, e in arrivals)


def test_request_carries_settings_persona_site_prompt_profile_and_forced_tool(bedrock):
    bedrock.script(Reply(text="ok"))
    p = provider(anthropic_model="us.anthropic.claude-test-v1:0", anthropic_temperature=0.2,
                 anthropic_max_tokens=321)
    collect(p.stream(request()))
    (rec,) = bedrock.requests
    assert rec.model_id == "us.anthropic.claude-test-v1:0"
    assert rec.body["inferenceConfig"] == {"maxTokens": 321, "temperature": 0.2}
    system = rec.body["system"][0]["text"]
    assert system.index("writing coach") < system.index("Course policy") < system.index("Ada")
    assert "Never write the student's assignment prose" in system
    assert rec.body["toolConfig"]["toolChoice"] == {"tool": {"name": "coach_reply"}}
    assert rec.body["messages"] == [{"role": "user", "content": [{"text": QUESTION[0][1]}]}]
    assert rec.headers["authorization"].startswith("AWS4-HMAC-SHA256")


def test_throttled_call_is_retried_by_boto3_before_the_stream(bedrock):
    bedrock.script(Reply(http_error="throttling"), Reply(text="Second time lucky.", emotion="success"))
    result = collect(provider().stream(request()))
    assert isinstance(result.final, Finished)
    assert result.final.text == "Second time lucky." and result.final.emotion == "success"
    assert len(bedrock.requests) == 2


def test_access_denied_is_a_clear_message_and_not_retried(bedrock):
    bedrock.script(Reply(http_error="access_denied"))
    result = collect(provider(anthropic_model="us.anthropic.claude-x").stream(request()))
    assert isinstance(result.final, StreamError) and not result.final.started
    err = result.final.error
    assert isinstance(err, AccessDeniedError)
    assert "us.anthropic.claude-x" in str(err) and "Bedrock console" in str(err)
    assert len(bedrock.requests) == 1


def test_in_stream_model_error_keeps_the_partial_text_and_is_not_retried(bedrock):
    bedrock.script(Reply(pieces=["First part. ", "Second part. ", "Never sent."], stream_error_after=3))
    result = collect(provider().stream(request()))
    assert isinstance(result.final, StreamError) and result.final.started
    assert result.final.partial_text == "First part. Second part. "
    assert result.text == "First part. Second part. "
    assert "stopped in the middle" in str(result.final.error)
    assert len(bedrock.requests) == 1


def test_cancel_from_another_thread_stops_the_stream_and_the_request(bedrock):
    bedrock.script(Reply(text="word " * 200, piece_size=5, delay=0.1))
    cancel = CancelToken()
    seen: list[str] = []

    def on_event(event):
        if isinstance(event, TextDelta):
            seen.append(event.text)
            if len(seen) == 3:
                threading.Timer(0.02, cancel.cancel).start()   # the Stop button, from the UI thread
    started = time.monotonic()
    result = collect(provider().stream(request(), cancel), on_event)
    assert isinstance(result.final, Cancelled)
    assert time.monotonic() - started < 2.0
    assert result.final.partial_text.startswith("".join(seen[:3]))
    (rec,) = bedrock.requests
    assert rec.done.wait(5), "the endpoint never noticed the client went away"
    assert rec.disconnected and not rec.finished
    assert rec.events_sent < 100


def test_dropping_the_stream_closes_the_request(bedrock):
    bedrock.script(Reply(text="word " * 200, piece_size=5, delay=0.05))
    events = provider().stream(request())
    for event in events:
        if isinstance(event, TextDelta):
            break
    events.close()   # the consumer went away (window closed)
    (rec,) = bedrock.requests
    assert rec.done.wait(5) and rec.disconnected and not rec.finished


def test_model_that_ignores_the_tool_falls_back_to_plain_text_with_default_emotion(bedrock):
    bedrock.script(Reply(mode="text", pieces=["Plain ", "answer."]))
    result = collect(provider().stream(request()))
    assert isinstance(result.final, Finished)
    assert (result.final.text, result.final.emotion, result.final.structured) == ("Plain answer.", "default", False)


def test_model_that_cannot_be_forced_is_asked_again_in_plain_text(bedrock):
    bedrock.script(Reply(http_error="validation_tool"), Reply(mode="text", text="Plainly put."))
    result = collect(provider().stream(request()))
    assert isinstance(result.final, Finished) and result.final.text == "Plainly put."
    first, second = bedrock.requests
    assert "toolConfig" in first.body and "toolConfig" not in second.body


@pytest.mark.parametrize("tool_input, text, emotion", [
    ('{"emotion": "ecstatic", "response_text": "Hi"}', "Hi", "default"),       # not one of the 11
    ('{"response_text": "No emotion given"}', "No emotion given", "default"),
    ('{"emotion": "sad", "response_text": "Cut off mid-sen', "Cut off mid-sen", "sad"),  # max_tokens
    ('{"response_text": "Tab\\there \\u00e9 \\ud83d\\ude00", "emotion": "walk"}', "Tab\there \u00e9 \U0001f600", "walk"),
])
def test_odd_tool_inputs(bedrock, tool_input, text, emotion):
    bedrock.script(Reply(mode="raw_tool", tool_input=tool_input, piece_size=3))
    result = collect(provider().stream(request()))
    assert isinstance(result.final, Finished)
    assert (result.final.text, result.final.emotion) == (text, emotion)
    assert result.text == text


def test_unreachable_endpoint_is_offline_before_start(monkeypatch, bedrock):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{free_port()}")
    result = collect(provider().stream(request()))
    assert isinstance(result.final, StreamError) and not result.final.started
    assert isinstance(result.final.error, OfflineError)


def test_local_model_answers_when_bedrock_is_unreachable(monkeypatch, bedrock, local_model):
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://127.0.0.1:{free_port()}")
    settings = make_settings(openai_base_url=local_model.url, openai_model=local_model.model,
                             openai_fallback=True)  # opt-in (issue 18)
    providers = build_providers(settings, lambda: boto3.Session(region_name="us-east-1"))
    assert [p.name for p in providers] == ["bedrock", "openai"]
    result = collect(stream_reply(providers, request()))
    assert isinstance(result.final, Finished) and result.final.model == "local:" + local_model.model  # labelled
    assert len(local_model.requests) == 1


def test_no_fallback_when_not_configured(monkeypatch, bedrock):
    settings = make_settings(openai_base_url="http://127.0.0.1:9/v1", openai_fallback=False)
    assert [p.name for p in build_providers(settings, boto3.Session)] == ["bedrock"]
    settings = make_settings(provider="openai", openai_base_url="http://127.0.0.1:9/v1")
    assert [p.name for p in build_providers(settings, boto3.Session)] == ["openai"]


def test_cancel_while_waiting_for_the_first_event(bedrock):
    bedrock.script(Reply(text="late", first_delay=3.0))
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    result = collect(provider().stream(request(), cancel))
    assert isinstance(result.final, Cancelled) and result.final.partial_text == ""
    assert time.monotonic() - started < 1.5
    (rec,) = bedrock.requests
    assert rec.done.wait(5) and rec.disconnected and rec.events_sent == 0
