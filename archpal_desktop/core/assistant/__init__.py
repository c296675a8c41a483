"""The coach: model providers that stream replies as events, the prompt, the emotion parsing.

``build_providers(settings, session_factory)`` returns the providers to try in order (Bedrock,
then the local OpenAI-compatible model when it is configured as the fallback; or only the local
model when ``provider = "openai"``). ``stream_reply`` tries them in that order and moves on only
when one could not even start (unreachable, no credentials, refused): a reply that has started
is never re-asked elsewhere.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterator, Sequence

from archpal_desktop.core import config as cfg
from archpal_desktop.core.assistant.events import (Cancelled, CancelToken, ChatRequest, Collected,
                                                   EmotionEvent, Event, Finished, Provider,
                                                   StreamError, TextDelta, Turn, Usage, collect)

log = logging.getLogger(__name__)

__all__ = ["Cancelled", "CancelToken", "ChatRequest", "Collected", "EmotionEvent", "Event", "Finished",
           "Provider", "StreamError", "TextDelta", "Turn", "Usage", "collect", "build_providers",
           "stream_reply"]


def build_providers(settings: cfg.Settings, session_factory: Callable[[], Any]) -> list[Provider]:
    from archpal_desktop.core.assistant.bedrock import BedrockProvider
    from archpal_desktop.core.assistant.openai_compat import OpenAICompatProvider

    choice = settings.provider
    local = bool(settings.openai_base_url)
    if choice == "openai":
        return [OpenAICompatProvider(settings)]
    chain: list[Provider] = [BedrockProvider(settings, session_factory)]
    if local and settings[cfg.OPENAI_FALLBACK]:
        chain.append(OpenAICompatProvider(settings))
    return chain


def stream_reply(providers: Sequence[Provider], request: ChatRequest,
                 cancel: CancelToken | None = None) -> Iterator[Event]:
    """Events of the first provider that starts. If none starts, the first one's error is the
    one reported (the main provider's problem is what the user or admin needs to fix)."""
    cancel = cancel or CancelToken()
    first_error: StreamError | None = None
    for provider in providers:
        for event in provider.stream(request, cancel):
            if isinstance(event, StreamError) and not event.started:
                log.info("provider %s could not start: %s", provider.name, event.error.code)
                first_error = first_error or event
                break
            yield event
        else:
            return
    yield first_error or StreamError(_no_provider_error(), started=False)


def _no_provider_error():
    from archpal_desktop.core.errors import ConfigError

    return ConfigError("No model provider is configured.",
                       "Set provider and its settings (Bedrock, or openai_base_url for a local model).")
