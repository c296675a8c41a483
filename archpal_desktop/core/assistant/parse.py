"""Incremental parsing of what models stream.

:class:`ToolInputParser` reads the forced tool's JSON input ``{"emotion": ..., "response_text":
...}`` as it arrives in arbitrary pieces and hands back the text of ``response_text`` as soon as
each character is decoded (escapes and surrogate pairs may be split across pieces), so the reply
shows while it streams even though it is wrapped in JSON.

:class:`InlineEmotionFilter` is for plain-text replies that may end with the legacy inline
``{"emotion": "smile"}``: it streams everything except a tail that might become that object.
"""
from __future__ import annotations

import json
import re

from archpal_desktop.core import layout
from archpal_desktop.core.assistant.offer import OFFER_KEY, offer_tail_start, parse_offer, split_inline_offer

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_PLAIN = re.compile(r'[^"\\]+')


class ToolInputParser:
    """A streaming reader for one flat JSON object whose interesting values are strings."""

    TEXT_KEY = "response_text"
    EMOTION_KEY = "emotion"

    def __init__(self) -> None:
        self.raw: list[str] = []
        self._state = "start"       # start, key?, key, colon, value?, string, other, comma?, done
        self._key_chars: list[str] = []
        self._key = ""
        self._value: list[str] = []
        self._escape: str | None = None   # None, "" (after a backslash) or "u..." (collecting hex)
        self._high: int | None = None     # a high surrogate waiting for its pair
        self._other_depth = 0
        self._other_in_string = False
        self._other_escape = False
        self.values: dict[str, str] = {}
        self.emotion: str | None = None
        self.broken = False

    @property
    def text(self) -> str:
        if self._state == "string" and self._key == self.TEXT_KEY:
            return "".join(self._value)
        return self.values.get(self.TEXT_KEY, "")

    @property
    def complete(self) -> bool:
        return self._state == "done"

    def feed(self, chunk: str) -> tuple[str, str | None]:
        """-> (new response_text characters, the emotion if it just completed)."""
        self.raw.append(chunk)
        if self.broken:
            return "", None
        out: list[str] = []
        emotion_before = self.emotion
        i, n = 0, len(chunk)
        while i < n:
            state = self._state
            ch = chunk[i]
            if state == "string":
                i = self._string(chunk, i, out)
                continue
            if state == "other":
                self._other(ch)
            elif ch in " \t\r\n":
                pass
            elif state == "start":
                if ch != "{":
                    self.broken = True
                    return "".join(out), None
                self._state = "key?"
            elif state in ("key?", "comma?") and ch == "}":
                self._state = "done"
            elif state == "comma?" and ch == ",":
                self._state = "key?"
            elif state == "key?" and ch == '"':
                self._state, self._key_chars = "key", []
            elif state == "key":
                # keys we care about have no escapes; an escaped key is simply never matched
                if ch == '"':
                    self._key, self._state = "".join(self._key_chars), "colon"
                else:
                    self._key_chars.append(ch)
            elif state == "colon" and ch == ":":
                self._state = "value?"
            elif state == "value?":
                if ch == '"':
                    self._state, self._value = "string", []
                else:
                    self._state, self._other_depth = "other", 0
                    self._other(ch)
            elif state == "done":
                pass  # trailing bytes after the object are ignored
            else:
                self.broken = True
                return "".join(out), None
            i += 1
        new_emotion = self.emotion if self.emotion != emotion_before else None
        return "".join(out), new_emotion

    def _string(self, chunk: str, i: int, out: list[str]) -> int:
        streaming = self._key == self.TEXT_KEY
        if self._escape is None:
            match = _PLAIN.match(chunk, i)
            if match:
                piece = match.group()
                self._flush_high(out if streaming else None)
                self._value.append(piece)
                if streaming:
                    out.append(piece)
                return match.end()
            ch = chunk[i]
            if ch == '"':
                self._flush_high(out if streaming else None)
                self._end_string()
            else:
                self._escape = ""
            return i + 1
        ch = chunk[i]
        if self._escape == "":
            if ch == "u":
                self._escape = "u"
            else:
                self._escape = None
                self._emit(_ESCAPES.get(ch, ch), out if streaming else None)
            return i + 1
        self._escape += ch
        if len(self._escape) == 5:
            try:
                code = int(self._escape[1:], 16)
            except ValueError:
                code = 0xFFFD
            self._escape = None
            self._emit_code(code, out if streaming else None)
        return i + 1

    def _emit(self, text: str, out: list[str] | None) -> None:
        self._flush_high(out)
        self._value.append(text)
        if out is not None:
            out.append(text)

    def _emit_code(self, code: int, out: list[str] | None) -> None:
        if 0xD800 <= code <= 0xDBFF:
            self._flush_high(out)
            self._high = code
            return
        if 0xDC00 <= code <= 0xDFFF and self._high is not None:
            char = chr(0x10000 + ((self._high - 0xD800) << 10) + (code - 0xDC00))
            self._high = None
            self._value.append(char)
            if out is not None:
                out.append(char)
            return
        self._emit(chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd", out)

    def _flush_high(self, out: list[str] | None) -> None:
        if self._high is not None:
            self._high = None
            self._value.append("\ufffd")
            if out is not None:
                out.append("\ufffd")

    def _end_string(self) -> None:
        value = "".join(self._value)
        self.values[self._key] = value
        if self._key == self.EMOTION_KEY:
            self.emotion = value.strip().lower()
        self._state = "comma?"

    def _other(self, ch: str) -> None:
        """Skip a non-string value (number, bool, null, nested object or list)."""
        if self._other_in_string:
            if self._other_escape:
                self._other_escape = False
            elif ch == "\\":
                self._other_escape = True
            elif ch == '"':
                self._other_in_string = False
            return
        if ch == '"':
            self._other_in_string = True
        elif ch in "[{":
            self._other_depth += 1
        elif ch in "]}":
            if self._other_depth == 0:  # the end of our object
                self._state = "done"
                return
            self._other_depth -= 1
        elif ch == "," and self._other_depth == 0:
            self._state = "key?"

    def result(self) -> tuple[str, str | None, bool]:
        """-> (text, emotion or None, complied). Falls back to a full JSON parse of the input."""
        raw = "".join(self.raw)
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get(self.TEXT_KEY), str):
            emotion = doc.get(self.EMOTION_KEY)
            emotion = emotion.strip().lower() if isinstance(emotion, str) else None
            return doc[self.TEXT_KEY], emotion, True
        return self.text, self.emotion, False

    def offer(self) -> dict | None:
        """The optional ``writing_sprint`` field of the whole input (a proposal, never a start)."""
        try:
            doc = json.loads("".join(self.raw))
        except ValueError:
            return None
        return parse_offer(doc.get(OFFER_KEY)) if isinstance(doc, dict) else None


def valid_emotion(value: str | None) -> str:
    return value if value in layout.EMOTIONS else "default"


_INLINE_PREFIX = '{"emotion":"'


def _could_be_inline_tail(tail: str) -> bool:
    """True if ``tail`` (starting at a ``{``) may still grow into ``{"emotion": "word"}``."""
    squeezed = re.sub(r"\s+", "", tail)
    if len(squeezed) <= len(_INLINE_PREFIX):
        return _INLINE_PREFIX.startswith(squeezed)
    if not squeezed.startswith(_INLINE_PREFIX):
        return False
    rest = squeezed[len(_INLINE_PREFIX):]
    return re.fullmatch(r'[a-z]*("\}?)?', rest) is not None


class InlineEmotionFilter:
    """Streams plain text, holding back only a tail that could be the inline emotion object."""

    def __init__(self) -> None:
        self._held = ""
        self.parts: list[str] = []

    def feed(self, chunk: str) -> str:
        self.parts.append(chunk)
        text = self._held + chunk
        offer = offer_tail_start(text)   # a sprint offer's line is held back to the end
        if offer >= 0:
            self._held = text[offer:]
            return text[:offer]
        cut = text.rfind("{")
        if cut >= 0 and _could_be_inline_tail(text[cut:]):
            self._held = text[cut:]
            return text[:cut]
        self._held = ""
        return text

    def result(self) -> tuple[str, str | None]:
        """-> (clean text, emotion or None) for the whole reply."""
        text, emotion, _offer = self.split()
        return text, emotion

    def split(self) -> tuple[str, str | None, dict | None]:
        """-> (clean text, emotion or None, sprint offer or None): the offer line may come before
        or after the emotion line."""
        text, emotion = layout.split_inline_emotion("".join(self.parts))
        text, offer = split_inline_offer(text)
        if emotion is None:
            text, emotion = layout.split_inline_emotion(text)
        return text, emotion, offer
