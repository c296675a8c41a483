"""What a provider streams, how a caller stops it, and the provider interface.

A reply is an iterator of events: any number of :class:`TextDelta` (in order), at most one
:class:`EmotionEvent`, optional :class:`Usage`, and exactly one terminal event: :class:`Finished`,
:class:`StreamError` or :class:`Cancelled`. Providers never raise out of ``stream()``: an error
before the first byte is a ``StreamError`` with ``started=False`` (so the caller can fall back to
another provider or queue the message), one mid-stream keeps the text received so far.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol, Union

from archpal_desktop.core.cancel import CancelToken
from archpal_desktop.core.errors import ArchPalError

#: metadata.model of a reply a local (OpenAI-compatible) model wrote
LOCAL_PREFIX = "local:"


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class EmotionEvent:
    emotion: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Finished:
    text: str            # the clean reply, authoritative (the deltas may include a preamble)
    emotion: str         # one of layout.EMOTIONS; "default" when the model gave none
    model: str
    stop_reason: str = ""
    structured: bool = True   # False: the model ignored the tool and answered in plain text
    sprint: dict | None = None   # a writing sprint the coach offers {"minutes", "goal"} (offer.py)


@dataclass(frozen=True)
class StreamError:
    error: ArchPalError
    partial_text: str = ""
    started: bool = False     # False: nothing arrived; safe to retry or use another provider


@dataclass(frozen=True)
class Cancelled:
    partial_text: str = ""


Event = Union[TextDelta, EmotionEvent, Usage, Finished, StreamError, Cancelled]
TERMINAL = (Finished, StreamError, Cancelled)


@dataclass(frozen=True)
class Turn:
    role: str   # "user" | "assistant"
    text: str


@dataclass
class ChatRequest:
    """A reply to produce: the system prompt and a history that alternates, user first and last."""

    system: str
    turns: list[Turn]
    temperature: float | None = None
    max_tokens: int | None = None


class Provider(Protocol):
    name: str    # "bedrock" | "openai"

    @property
    def model(self) -> str: ...

    def stream(self, request: ChatRequest, cancel: CancelToken | None = None) -> Iterator[Event]: ...


@dataclass
class Collected:
    """The result of :func:`collect`: the terminal event plus what came before it."""

    final: Event
    deltas: list[str] = field(default_factory=list)
    emotion: str | None = None
    usage: Usage | None = None

    @property
    def text(self) -> str:
        return "".join(self.deltas)


def collect(events: Iterator[Event], on_event: Callable[[Event], None] | None = None) -> Collected:
    """Drain a stream, calling ``on_event`` for each event; returns the terminal event."""
    out = Collected(final=StreamError(ArchPalError("The reply ended without finishing.")))
    for event in events:
        if on_event is not None:
            on_event(event)
        if isinstance(event, TextDelta):
            out.deltas.append(event.text)
        elif isinstance(event, EmotionEvent):
            out.emotion = event.emotion
        elif isinstance(event, Usage):
            out.usage = event
        elif isinstance(event, TERMINAL):
            out.final = event
            break
    return out
