"""OpenAI-compatible streaming chat completions (Ollama, LM Studio, llama.cpp's server).

Local servers differ in how well they stream tool calls, so the emotion is asked for inline at
the end of the reply (the web app's legacy form) and stripped as the text streams. The body is
read with ``read1`` so each server-sent event is handled as soon as it arrives, chunked or not.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Iterator

import requests

from archpal_desktop.core import config as cfg
from archpal_desktop.core import localauth
from archpal_desktop.core.assistant.events import (Cancelled, CancelToken, ChatRequest, Event, Finished,
                                                   StreamError, TextDelta, Usage)
from archpal_desktop.core.assistant.loopback import listener_problem
from archpal_desktop.core.assistant.parse import InlineEmotionFilter, valid_emotion
from archpal_desktop.core.assistant.prompt import INLINE_INSTRUCTION
from archpal_desktop.core.errors import (AccessDeniedError, ArchPalError, ConfigError, OfflineError,
                                         ServiceUnavailableError, ThrottledError)

log = logging.getLogger(__name__)


def map_http_error(status: int, body: str, base_url: str, model: str) -> ArchPalError:
    detail = body.strip().replace("\n", " ")[:200]
    if status in (401, 403):
        return AccessDeniedError(f"The local model server at {base_url} refused the request "
                                 f"({status}).", "Check openai_api_key in the settings.")
    if status == 404:
        return ConfigError(f"The model {model!r} was not found at {base_url} ({detail}).",
                           "Check openai_model and openai_base_url (for Ollama: run "
                           f"'ollama pull {model}' and use http://127.0.0.1:11434/v1).")
    if status == 429:
        return ThrottledError()
    if status >= 500:
        return ServiceUnavailableError(f"The local model server at {base_url} failed ({status}: "
                                       f"{detail}).", "Check that the model is loaded and try again.")
    return ArchPalError(f"The local model server at {base_url} refused the request ({status}: "
                        f"{detail}).", "Check openai_base_url and openai_model in the settings.")


def _sse_lines(raw: Any) -> Iterator[bytes]:
    buffer = b""
    while True:
        chunk = raw.read1(65536)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        yield from lines
    if buffer:
        yield buffer


class OpenAICompatProvider:
    name = "openai"

    def __init__(self, settings: cfg.Settings, *, connect_timeout: float = 3.0,
                 read_timeout: float = 120.0):
        self.settings = settings
        self.base_url = settings.openai_base_url
        self.timeout = (connect_timeout, read_timeout)
        self._http = requests.Session()
        self._http.trust_env = False   # a local server: no proxies from the environment
        self._model = settings.openai_model

    @property
    def model(self) -> str:
        return self._model

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream",
                   **localauth.headers_for(self.base_url)}  # the embedded server's secret, if ours
        key = self.settings.get("openai_api_key")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _resolve_model(self) -> str:
        """No model configured: use the first one the server lists (Ollama, LM Studio do)."""
        if self._model:
            return self._model
        resp = self._http.get(f"{self.base_url}/models", headers=self._headers(), timeout=self.timeout)
        if resp.status_code != 200:
            raise map_http_error(resp.status_code, resp.text, self.base_url, "")
        models = [m.get("id") for m in (resp.json().get("data") or []) if isinstance(m, dict)]
        if not models:
            raise ConfigError(f"The local model server at {self.base_url} has no model loaded.",
                              "Load or pull a model, or set openai_model.")
        self._model = str(models[0])
        return self._model

    def stream(self, request: ChatRequest, cancel: CancelToken | None = None) -> Iterator[Event]:
        cancel = cancel or CancelToken()
        if not self.base_url:
            yield StreamError(ConfigError("No local model server is configured.",
                                          "Set openai_base_url in the settings."), started=False)
            return
        if cancel.cancelled:
            yield Cancelled("")
            return
        problem = listener_problem(self.base_url)
        if problem:  # another local user's listener must not get the history or the API key
            yield StreamError(AccessDeniedError(problem, ""), started=False)
            return
        messages = [{"role": "system", "content": request.system + "\n\n" + INLINE_INSTRUCTION}]
        messages += [{"role": t.role, "content": t.text} for t in request.turns]
        try:
            model = self._resolve_model()
            body: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
            temperature = request.temperature
            if temperature is None:
                temperature = float(self.settings[cfg.ANTHROPIC_TEMPERATURE])
            body["temperature"] = temperature
            body["max_tokens"] = request.max_tokens or self.settings.anthropic_max_tokens
            resp = self._http.post(f"{self.base_url}/chat/completions", json=body,
                                   headers=self._headers(), stream=True, timeout=self.timeout)
        except ArchPalError as exc:
            yield StreamError(exc, started=False)
            return
        except requests.RequestException as exc:
            yield StreamError(OfflineError(f"The local model server at {self.base_url} could not be "
                                           "reached.", "Start it (e.g. Ollama or LM Studio) or check "
                                           "openai_base_url; your message stays queued."),
                              started=False)
            log.debug("openai-compatible request failed: %s", type(exc).__name__)
            return
        if resp.status_code != 200:
            error = map_http_error(resp.status_code, resp.text, self.base_url, model)
            resp.close()
            yield StreamError(error, started=False)
            return
        yield from self._consume(resp, model, cancel)

    def _consume(self, resp: requests.Response, model: str, cancel: CancelToken) -> Iterator[Event]:
        def wake() -> None:
            resp.raw.shutdown()
        remove_hook = cancel.on_cancel(wake)
        plain = InlineEmotionFilter()
        stop_reason = ""
        error: ArchPalError | None = None
        try:
            for line in _sse_lines(resp.raw):
                if cancel.cancelled:
                    break
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except ValueError:
                    continue
                if isinstance(chunk.get("error"), (dict, str)):
                    err = chunk["error"]
                    text = err.get("message") if isinstance(err, dict) else err
                    error = ServiceUnavailableError(f"The local model stopped with an error: {text}",
                                                    "The part received so far is kept; press Retry.")
                    break
                for choice in chunk.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content")
                    if isinstance(piece, str) and piece:
                        shown = plain.feed(piece)
                        if shown:
                            yield TextDelta(shown)
                    if choice.get("finish_reason"):
                        stop_reason = str(choice["finish_reason"])
                usage = chunk.get("usage")
                if isinstance(usage, dict):
                    yield Usage(int(usage.get("prompt_tokens") or 0),
                                int(usage.get("completion_tokens") or 0))
        except Exception as exc:
            if not cancel.cancelled:
                error = OfflineError("The connection to the local model server was lost mid-reply.",
                                     "The part received so far is kept; press Retry.")
                log.debug("openai-compatible stream failed: %s", type(exc).__name__)
        finally:
            remove_hook()
            resp.close()
        partial = "".join(plain.parts)
        if cancel.cancelled:
            yield Cancelled(partial)
            return
        if error is not None:
            yield StreamError(error, partial, started=True)
            return
        text, emotion, offer = plain.split()   # the sprint offer: the plain-text line (offer.py)
        if not text.strip():
            yield StreamError(ServiceUnavailableError("The local model sent an empty reply.",
                                                      "Press Retry to ask again."), "", started=True)
            return
        yield Finished(text.strip(), valid_emotion(emotion), model, stop_reason, structured=emotion is not None,
                       sprint=offer)
