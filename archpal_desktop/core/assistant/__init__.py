"""The coach: model providers that stream replies as events, the prompt, the emotion parsing.

``build_providers(settings, session_factory, token_factory)`` returns the providers to try in
order: only the site's coach relay when ``coach_relay_url`` is set (never falling back to direct
Bedrock); otherwise Bedrock, then the local OpenAI-compatible model only when ``openai_fallback``
is turned on (off by default: whoever listens on that loopback port gets the history); or only
the local model when ``provider = "openai"``. ``stream_reply`` tries them in that order and moves
on only when one could not even start (unreachable, no credentials, refused): a reply that has
started is never re-asked elsewhere. A reply another provider than Bedrock or the relay wrote
carries ``local:<model>`` as its model (stored in the message's ``metadata.model``), and
:func:`provider_label` names it on the bubble.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable, Iterator, Sequence

from archpal_desktop.core import config as cfg
from archpal_desktop.core.assistant.events import (LOCAL_PREFIX, Cancelled, CancelToken, ChatRequest, Collected,
                                                   EmotionEvent, Event, Finished, Provider,
                                                   StreamError, TextDelta, Turn, Usage, collect)

log = logging.getLogger(__name__)

__all__ = ["Cancelled", "CancelToken", "ChatRequest", "Collected", "EmotionEvent", "Event", "Finished",
           "Provider", "StreamError", "TextDelta", "Turn", "Usage", "collect", "build_providers",
           "stream_reply", "provider_label", "LOCAL_PREFIX"]

#: providers that are the site's own coach (Bedrock directly, or through the coach relay)
SITE_PROVIDERS = ("bedrock", "relay")


def provider_label(model: str | None) -> str:
    """Who wrote a reply, for its bubble: "ArchPal", or the local model named as such."""
    model = model or ""
    if model.startswith(LOCAL_PREFIX):
        return f"Local model {model[len(LOCAL_PREFIX):]} (not ArchPal)".replace("  ", " ")
    return "ArchPal"


def build_providers(settings: cfg.Settings, session_factory: Callable[[], Any],
                    token_factory: Callable[[], str] | None = None) -> list[Provider]:
    from archpal_desktop.core.assistant.bedrock import BedrockProvider
    from archpal_desktop.core.assistant.openai_compat import OpenAICompatProvider
    from archpal_desktop.core.assistant.relay import RelayProvider

    choice = settings.provider
    local = bool(settings.openai_base_url)
    if settings.coach_relay_url:
        # the site's relay is the only way to the site's model: never direct Bedrock, and the
        # student's local model only when the relay cannot be reached (not when it refuses)
        fallback = OpenAICompatProvider(settings) if local and settings[cfg.OPENAI_FALLBACK] else None
        return [RelayProvider(settings, token_factory, offline_fallback=fallback)]
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
            if isinstance(event, Finished) and provider.name not in SITE_PROVIDERS:
                event = dataclasses.replace(event, model=LOCAL_PREFIX + (event.model or "model"))
            yield event
        else:
            return
    yield first_error or StreamError(_no_provider_error(), started=False)


def _no_provider_error():
    from archpal_desktop.core.errors import ConfigError

    return ConfigError("No model provider is configured.",
                       "Set provider and its settings (Bedrock, or openai_base_url for a local model).")
