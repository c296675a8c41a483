"""Bedrock ConverseStream through boto3, with the emotion from a forced tool.

The model is asked to call ``coach_reply({emotion, response_text})``; the tool input streams as
JSON pieces and :class:`ToolInputParser` turns them into text deltas as they come. A model that
cannot be forced (``ValidationException`` about the tool) is asked again in plain text; a model
that answers in plain text anyway is accepted with emotion ``default``.

boto3 retries (standard mode) cover only the request: once the event stream has started nothing
is retried, so a reply is never produced twice. Cancel shuts the socket down, which wakes a read
blocked on the network, and the stream is closed so the endpoint sees the disconnect.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterator

from botocore.config import Config

from archpal_desktop.core import config as cfg
from archpal_desktop.core.assistant.events import (Cancelled, CancelToken, ChatRequest, EmotionEvent,
                                                   Event, Finished, StreamError, TextDelta, Usage)
from archpal_desktop.core.assistant.parse import InlineEmotionFilter, ToolInputParser, valid_emotion
from archpal_desktop.core.assistant.prompt import INLINE_INSTRUCTION, TOOL_INSTRUCTION, TOOL_NAME, TOOL_SPEC
from archpal_desktop.core.errors import ArchPalError, ServiceUnavailableError
from archpal_desktop.core.errors.bedrock import map_bedrock_error

log = logging.getLogger(__name__)


def _tool_not_supported(exc: BaseException) -> bool:
    err = (getattr(exc, "response", None) or {}).get("Error") or {}
    return err.get("Code") == "ValidationException" and "tool" in str(err.get("Message", "")).lower()


class BedrockProvider:
    name = "bedrock"

    def __init__(self, settings: cfg.Settings, session_factory: Callable[[], Any], *,
                 connect_timeout: float = 3.0, read_timeout: float = 60.0, max_attempts: int = 3):
        self.settings = settings
        self.session_factory = session_factory
        self._config = Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                              retries={"mode": "standard", "max_attempts": max_attempts},
                              tcp_keepalive=True, max_pool_connections=4)
        self._clients: dict[int, Any] = {}

    @property
    def model(self) -> str:
        return str(self.settings[cfg.ANTHROPIC_MODEL])

    def _client(self):
        session = self.session_factory()   # may raise OfflineError / AuthExpiredError
        key = id(session)
        if key not in self._clients:
            self._clients = {key: session.client("bedrock-runtime",
                                                 region_name=self.settings.aws_region,
                                                 config=self._config)}
        return self._clients[key]

    def _kwargs(self, request: ChatRequest, structured: bool) -> dict[str, Any]:
        temperature = request.temperature
        if temperature is None:
            temperature = float(self.settings[cfg.ANTHROPIC_TEMPERATURE])
        max_tokens = request.max_tokens or self.settings.anthropic_max_tokens
        system = request.system + "\n\n" + (TOOL_INSTRUCTION if structured else INLINE_INSTRUCTION)
        kwargs: dict[str, Any] = {
            "modelId": self.model,
            "system": [{"text": system}],
            "messages": [{"role": t.role, "content": [{"text": t.text}]} for t in request.turns],
            "inferenceConfig": {"maxTokens": max_tokens, "temperature": temperature},
        }
        if structured:
            kwargs["toolConfig"] = {"tools": [TOOL_SPEC], "toolChoice": {"tool": {"name": TOOL_NAME}}}
        return kwargs

    def stream(self, request: ChatRequest, cancel: CancelToken | None = None) -> Iterator[Event]:
        cancel = cancel or CancelToken()
        if not request.turns:
            yield StreamError(ArchPalError("There is no question to answer."), "", started=False)
            return
        structured = True
        while True:
            if cancel.cancelled:
                yield Cancelled("")
                return
            try:
                response = self._client().converse_stream(**self._kwargs(request, structured))
            except Exception as exc:  # everything before the stream: safe to fall back or queue
                if structured and _tool_not_supported(exc):
                    log.info("model %s cannot be forced to use a tool; asking in plain text", self.model)
                    structured = False
                    continue
                yield StreamError(map_bedrock_error(exc, self.model), "", started=False)
                return
            yield from self._consume(response["stream"], cancel)
            return

    def _consume(self, stream: Any, cancel: CancelToken) -> Iterator[Event]:
        raw = getattr(stream, "_raw_stream", None)   # urllib3's response: shutdown() wakes a read

        def wake() -> None:
            if raw is not None:
                raw.shutdown()
        remove_hook = cancel.on_cancel(wake)
        tool = ToolInputParser()
        plain = InlineEmotionFilter()
        saw_tool = False
        stop_reason = ""

        def partial() -> str:
            return tool.text if saw_tool and tool.text else "".join(plain.parts)

        try:
            for event in stream:
                if cancel.cancelled:
                    break
                if "contentBlockDelta" in event:
                    delta = event["contentBlockDelta"].get("delta") or {}
                    if "toolUse" in delta:
                        saw_tool = True
                        text, emotion = tool.feed(str(delta["toolUse"].get("input") or ""))
                        if emotion:
                            yield EmotionEvent(valid_emotion(emotion))
                        if text:
                            yield TextDelta(text)
                    elif "text" in delta:
                        text = plain.feed(str(delta["text"]))
                        if text:
                            yield TextDelta(text)
                elif "contentBlockStart" in event:
                    if "toolUse" in (event["contentBlockStart"].get("start") or {}):
                        saw_tool = True
                elif "messageStop" in event:
                    stop_reason = str(event["messageStop"].get("stopReason") or "")
                elif "metadata" in event:
                    usage = event["metadata"].get("usage") or {}
                    yield Usage(int(usage.get("inputTokens") or 0), int(usage.get("outputTokens") or 0))
        except Exception as exc:
            if cancel.cancelled:
                yield Cancelled(partial())
                return
            yield StreamError(map_bedrock_error(exc, self.model), partial(), started=True)
            return
        finally:
            remove_hook()
            try:
                stream.close()
            except Exception:  # already torn down by the cancel hook
                pass
        if cancel.cancelled:
            yield Cancelled(partial())
            return
        yield self._finish(tool if saw_tool else None, plain, stop_reason)

    def _finish(self, tool: ToolInputParser | None, plain: InlineEmotionFilter,
                stop_reason: str) -> Event:
        structured = False
        emotion: str | None = None
        offer: dict | None = None
        text = ""
        if tool is not None:
            text, emotion, structured = tool.result()
            offer = tool.offer()
        if not text.strip():
            text, emotion, offer = plain.split()
            structured = False
        if not text.strip():
            return StreamError(ServiceUnavailableError("The model sent an empty reply.",
                                                       "Press Retry to ask again."), "", started=True)
        return Finished(text.strip(), valid_emotion(emotion), self.model, stop_reason, structured, offer)
