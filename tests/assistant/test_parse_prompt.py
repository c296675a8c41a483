"""Incremental parsing of the forced tool's JSON, the inline-emotion filter, and the prompt."""
from __future__ import annotations

import json
import random

import pytest

from archpal_desktop.core import layout
from archpal_desktop.core.assistant.parse import InlineEmotionFilter, ToolInputParser
from archpal_desktop.core.assistant.prompt import PERSONA, alternating_turns, system_prompt

TEXTS = ["Simple.", 'Quotes "inside" and \\ backslash', "Line\nbreaks\tand tabs",
         "Accents \u00e9\u00e8 and emoji \U0001f600\U0001f333 and CJK \u4f60\u597d", ""]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("ascii_only", [True, False])
def test_tool_input_parsed_identically_for_every_split(text, ascii_only):
    doc = json.dumps({"emotion": "smile", "response_text": text}, ensure_ascii=ascii_only)
    rng = random.Random(len(text))
    for _ in range(60):
        cuts = sorted(rng.sample(range(1, len(doc)), k=min(len(doc) - 1, rng.randint(1, 12))))
        pieces = [doc[a:b] for a, b in zip([0] + cuts, cuts + [len(doc)])]
        parser = ToolInputParser()
        streamed, emotions = [], []
        for piece in pieces:
            new, emotion = parser.feed(piece)
            streamed.append(new)
            if emotion:
                emotions.append(emotion)
        assert "".join(streamed) == text
        assert emotions == ["smile"]
        assert parser.result() == (text, "smile", True)


def test_tool_input_with_other_values_and_key_order():
    parser = ToolInputParser()
    out, _ = parser.feed('{"n": 3, "extra": {"a": [1, "}"]}, "response_text": "Hi", "emotion": "sad"}')
    assert out == "Hi" and parser.emotion == "sad" and parser.complete


def test_text_that_is_not_json_is_marked_broken():
    parser = ToolInputParser()
    assert parser.feed("Sure! Here") == ("", None)
    assert parser.broken and parser.result() == ("", None, False)


@pytest.mark.parametrize("chunks, shown, clean, emotion", [
    (["Hello ", "there.\n", '{"emotion"', ': "success"}'], "Hello there.\n", "Hello there.", "success"),
    (["Use {curly} braces", " freely."], "Use {curly} braces freely.", "Use {curly} braces freely.", None),
    (["A set {", "1, 2}"], "A set {1, 2}", "A set {1, 2}", None),
    (["Ends with {"], "Ends with ", "Ends with {", None),
])
def test_inline_emotion_filter(chunks, shown, clean, emotion):
    f = InlineEmotionFilter()
    assert "".join(f.feed(c) for c in chunks) == shown
    assert f.result() == (clean, emotion)


def test_alternating_turns_with_gaps():
    history = [("assistant", "Welcome!"),            # reply before any question: dropped
               ("user", "First question"), ("user", "  "), ("user", "never answered, then more"),
               ("assistant", "Answer"), ("assistant", "and a follow-up"),
               ("user", "Last question"), ("assistant", "")]
    turns = alternating_turns(history)
    assert [(t.role, t.text) for t in turns] == [
        ("user", "First question\n\nnever answered, then more"),
        ("assistant", "Answer\n\nand a follow-up"),
        ("user", "Last question")]
    assert alternating_turns([("assistant", "only a reply")]) == []
    roles = [t.role for t in alternating_turns([("user", "a"), ("assistant", "b"), ("assistant", "c")])]
    assert roles == ["user"]


def test_system_prompt_order_and_content():
    text = system_prompt("Cite in MLA.", {"first_name": "Ada", "last_name": "Lovelace",
                                          "college_year": "Second Year", "major": "English",
                                          "course_number": "ENGL 1102"})
    assert text.startswith(PERSONA.strip())
    assert text.index("Cite in MLA.") < text.index("Name: Ada Lovelace")
    for word in ("Year: Second Year", "Major: English", "Course: ENGL 1102", *layout.EMOTIONS):
        assert word in text
    assert "About the student" not in system_prompt("", None)
