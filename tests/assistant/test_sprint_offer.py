"""The coach offers a writing sprint: Bedrock's optional ``writing_sprint`` tool field, the plain-text
line of a local OpenAI-compatible model, the relay's wire, the prompt's rule, and the offer saved
on the reply as ``metadata.sprint`` (a proposal only). Real boto3 and requests against our local
endpoints over HTTP, a real SQLite cache."""
from __future__ import annotations

import json

import boto3

from archpal_desktop.core import config as cfg
from archpal_desktop.core.assistant import Finished, TextDelta, build_providers, collect
from archpal_desktop.core.assistant.bedrock import BedrockProvider
from archpal_desktop.core.assistant.offer import parse_offer, split_inline_offer
from archpal_desktop.core.assistant.openai_compat import OpenAICompatProvider
from archpal_desktop.core.assistant.parse import InlineEmotionFilter
from archpal_desktop.core.assistant.prompt import TOOL_SPEC, build_request
from archpal_desktop.core.assistant.relay import event_from_wire, event_to_wire
from archpal_desktop.core.assistant.queue import ReplyRunner
from archpal_desktop.core.cache import Store
from archpal_desktop.localstack.bedrock import Reply, demo_coach_reply
from archpal_desktop.localstack.openai_server import LocalReply

from tests.assistant.conftest import make_settings

PLAN = [("user", "Can you help me plan a writing session for my essay introduction?")]
OFFER = {"minutes": 25, "goal": "Draft your introduction"}


def bedrock_provider() -> BedrockProvider:
    return BedrockProvider(make_settings(), lambda: boto3.Session(region_name="us-east-1"))


def test_the_prompt_says_when_to_offer_to_ask_first_and_never_to_start_unasked(bedrock):
    bedrock.script(Reply(text="ok"))
    collect(bedrock_provider().stream(build_request(PLAN)))
    body = bedrock.requests[-1].body
    system = body["system"][0]["text"]
    assert "Always ask first" in system and "Never start a sprint unasked" in system
    assert "plan" in system and "1 to 120 minutes" in system
    schema = body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    assert "writing_sprint" in schema["properties"] and "writing_sprint" not in schema["required"]
    assert schema["properties"]["writing_sprint"]["properties"]["minutes"]["maximum"] == 120
    assert TOOL_SPEC["toolSpec"]["inputSchema"]["json"]["required"] == ["emotion", "response_text"]


def test_bedrock_offer_arrives_beside_the_text_and_the_emotion(bedrock):
    text = "Would you like me to set a 25-minute sprint so you can draft your introduction?"
    bedrock.script(Reply(pieces=["Would you like ", "me to set a 25-minute sprint ",
                                 "so you can draft your introduction?"], emotion="point", sprint=OFFER))
    result = collect(bedrock_provider().stream(build_request(PLAN)))
    assert isinstance(result.final, Finished)
    assert result.final.text == text and result.text == text   # the offer never shows as text
    assert result.final.emotion == "point"
    assert result.final.sprint == OFFER


def test_bedrock_reply_without_an_offer_has_none_and_a_bad_offer_is_dropped(bedrock):
    bedrock.script(Reply(text="Keep going."),
                   Reply(text="Try this.", sprint={"minutes": 500, "goal": "Everything"}))
    assert collect(bedrock_provider().stream(build_request(PLAN))).final.sprint is None
    assert collect(bedrock_provider().stream(build_request(PLAN))).final.sprint is None


def test_local_model_offer_is_the_plain_text_line_and_is_never_streamed(local_model):
    line = json.dumps({"writing_sprint": {"minutes": 20, "goal": "Outline your paper"}})
    local_model.script(LocalReply(text="Want a 20-minute sprint to outline it?\n" + line, emotion="smile",
                                  piece_size=5))
    provider = OpenAICompatProvider(make_settings(provider="openai", openai_base_url=local_model.url,
                                                  openai_model=local_model.model))
    shown: list[str] = []
    result = collect(provider.stream(build_request(PLAN)),
                     lambda e: shown.append(e.text) if isinstance(e, TextDelta) else None)
    assert isinstance(result.final, Finished)
    assert result.final.text == "Want a 20-minute sprint to outline it?"
    assert "writing_sprint" not in "".join(shown) and "emotion" not in "".join(shown)
    assert result.final.sprint == {"minutes": 20, "goal": "Outline your paper"}
    assert result.final.emotion == "smile"


def test_plain_text_parser_takes_the_offer_in_either_order_and_leaves_other_json_alone():
    f = InlineEmotionFilter()
    for piece in ['Ready?\n{"emo', 'tion": "smile"}\n{"writing_sp', 'rint": {"minutes": 15, "goal": " Revise  one part "}}']:
        f.feed(piece)
    assert f.split() == ("Ready?", "smile", {"minutes": 15, "goal": "Revise one part"})
    assert split_inline_offer('Use {"a": 1} in JSON.') == ('Use {"a": 1} in JSON.', None)
    assert parse_offer({"minutes": 0, "goal": "x"}) is None
    assert parse_offer({"minutes": True, "goal": "x"}) is None
    assert parse_offer({"minutes": "30", "goal": ""}) == {"minutes": 30, "goal": "Focused writing"}


def test_relay_wire_carries_the_offer():
    event = Finished("Sprint?", "point", "m", "tool_use", True, OFFER)
    back = event_from_wire(json.loads(json.dumps(event_to_wire(event))))
    assert back == event
    plain = Finished("Hi", "smile", "m")
    assert "writing_sprint" not in event_to_wire(plain) and event_from_wire(event_to_wire(plain)).sprint is None


def test_the_demo_coach_offers_a_sprint_when_asked_to_plan_a_writing_session():
    reply = demo_coach_reply({"messages": [{"role": "user", "content": [{"text": PLAN[0][1]}]}],
                              "toolConfig": {"toolChoice": {"tool": {"name": "coach_reply"}}}})
    assert reply.sprint == OFFER and "Would you like me to set a 25-minute writing sprint" in reply.text
    assert demo_coach_reply({"messages": [{"role": "user", "content": [{"text": "What is a thesis?"}]}]}).sprint is None


def test_the_offer_is_saved_on_the_reply_as_a_proposal_in_the_web_apps_shape(bedrock, tmp_path):
    settings = cfg.load_settings(cli_overrides={cfg.DATA_DIR: str(tmp_path / "d")})
    store = Store.open_for_user(tmp_path / "d", "5b1c7a2e-0d4f-4c3a-9e8b-1f2a3b4c5d6e")
    try:
        runner = ReplyRunner(store, settings, lambda: build_providers(
            settings, lambda: boto3.Session(region_name="us-east-1")))
        bedrock.script(Reply(text="Shall I set a 25-minute sprint?", emotion="point", sprint=OFFER))
        msg = runner.send(None, PLAN[0][1])
        assert runner.run_pending().answered
        reply = [m for m in store.load_messages(msg.conversation_id, with_raw=True) if m.role == "assistant"][0]
        meta = reply.raw["metadata"]
        assert list(meta)[:3] == ["model", "course_number", "emotion"] and meta["emotion"] == "point"
        assert meta["sprint"] == {"sprint_id": reply.message_id, "minutes": 25, "goal": "Draft your introduction",
                                  "started_at": None, "ended_at": None, "outcome": "proposed", "words": None}
        assert reply.content == "Shall I set a 25-minute sprint?"
        # the hot path (no raw) carries it too: the chat view draws the card from it
        fast = [m for m in store.load_messages(msg.conversation_id) if m.role == "assistant"][0]
        assert fast.sprint == meta["sprint"]
    finally:
        store.close()
