"""The ``relay`` provider: replies through the site's coach relay instead of calling Bedrock.

The relay (``archpal_desktop.relay``) holds the coaching rules, the model and the quotas on the
server; this side only proves who the student is (the Cognito ID token) and sends the turns.
The reply comes back as newline-delimited JSON, one object per event of
:mod:`core.assistant.events` (:func:`event_to_wire` / :func:`event_from_wire`), so streaming,
stop and the emotion work exactly as with the other providers.

A refusal (401, 413, 429) is never retried elsewhere: with a relay configured there is no
direct-Bedrock path at all, and a local model is used only when the relay cannot be reached.
Stop shuts the response's socket down; the relay sees the disconnect and stops the model call.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import requests

from archpal_desktop.core import config as cfg
from archpal_desktop.core.assistant.events import (LOCAL_PREFIX, Cancelled, CancelToken,
                                                   ChatRequest, EmotionEvent,
                                                   Event, Finished, Provider, StreamError, TextDelta,
                                                   Usage)
from archpal_desktop.core.assistant.offer import OFFER_KEY, parse_offer
from archpal_desktop.core.assistant.parse import valid_emotion
from archpal_desktop.core.errors import (AccessDeniedError, ArchPalError, AuthExpiredError,
                                         BadDataError, ConfigError, OfflineError,
                                         ServiceUnavailableError)

log = logging.getLogger(__name__)

REPLY_PATH = "/v1/reply"
CONTENT_TYPE = "application/x-ndjson"


class QuotaExceededError(ArchPalError):
    """Today's time is used up: the message waits (it is not a failure of the reply)."""

    code = "quota_exceeded"
    default_message = "You have used today's ArchPal time."
    default_hint = "Your message is kept and will be answered when it comes back."

    def __init__(self, message: str | None = None, hint: str | None = None, *,
                 reset_at: datetime | None = None):
        super().__init__(message, hint)
        self.reset_at = reset_at


# -- the wire format (shared with the relay) ----------------------------------------------------
def event_to_wire(event: Event) -> dict[str, Any]:
    if isinstance(event, TextDelta):
        return {"type": "delta", "text": event.text}
    if isinstance(event, EmotionEvent):
        return {"type": "emotion", "emotion": event.emotion}
    if isinstance(event, Usage):
        return {"type": "usage", "input_tokens": event.input_tokens, "output_tokens": event.output_tokens}
    if isinstance(event, Finished):
        return {"type": "final", "text": event.text, "emotion": event.emotion, "model": event.model,
                "stop_reason": event.stop_reason, "structured": event.structured,
                **({OFFER_KEY: event.sprint} if event.sprint else {})}
    if isinstance(event, StreamError):
        return {"type": "error", "code": event.error.code, "message": event.error.message,
                "hint": event.error.hint, "partial_text": event.partial_text}
    raise ValueError(f"{type(event).__name__} does not travel over the wire")


def event_from_wire(doc: dict[str, Any]) -> Event:
    kind = doc.get("type")
    if kind == "delta":
        return TextDelta(str(doc.get("text") or ""))
    if kind == "emotion":
        return EmotionEvent(valid_emotion(str(doc.get("emotion") or "")))
    if kind == "usage":
        return Usage(int(doc.get("input_tokens") or 0), int(doc.get("output_tokens") or 0))
    if kind == "final":
        return Finished(str(doc.get("text") or ""), valid_emotion(str(doc.get("emotion") or "")),
                        str(doc.get("model") or ""), str(doc.get("stop_reason") or ""),
                        bool(doc.get("structured", True)), parse_offer(doc.get(OFFER_KEY)))
    if kind == "error":
        err = ServiceUnavailableError(str(doc.get("message") or "") or None, doc.get("hint"))
        err.code = str(doc.get("code") or err.code)
        return StreamError(err, str(doc.get("partial_text") or ""), started=True)
    raise ValueError(f"unknown event {kind!r}")


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def refusal_error(status: int, body: str) -> ArchPalError:
    """The relay's answer before any event, in the app's own errors."""
    try:
        err = (json.loads(body) or {}).get("error") or {}
    except ValueError:
        err = {}
    message, hint = err.get("message") or None, err.get("hint")
    if status == 401:
        return AuthExpiredError(message or "The coach relay did not accept your sign-in.",
                                "Sign in again; everything you wrote is kept.")
    if status == 429 and err.get("code") == "quota_exceeded":
        reset = _parse_time(err.get("reset_at"))
        if reset is not None:
            local = reset.astimezone().strftime("%H:%M")
            message = (message or "You have used today's ArchPal time.").split(" It comes back")[0]
            message += f" It comes back at {local} your time ({reset.astimezone(timezone.utc):%H:%M} UTC)."
        return QuotaExceededError(message, hint, reset_at=reset)
    if status == 429 or status >= 500:
        return ServiceUnavailableError(message, hint)
    if status == 413:
        return BadDataError(message or "This conversation is too long for ArchPal to read at once.",
                            hint or "Start a new conversation and summarise where you are.")
    if status == 403:
        return AccessDeniedError(message or "The coach relay refused the request.", hint or "")
    return ArchPalError(message or f"The coach relay refused the request ({status}).",
                        hint or "Tell your IT administrator (coach_relay_url may be wrong).")


def _lines(raw: Any) -> Iterator[bytes]:
    buffer = b""
    while True:
        chunk = raw.read1(65536)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        yield from lines
    if buffer.strip():
        yield buffer


class RelayProvider:
    name = "relay"

    def __init__(self, settings: cfg.Settings, token_factory: Callable[[], str] | None, *,
                 offline_fallback: Provider | None = None, connect_timeout: float = 5.0,
                 read_timeout: float = 120.0):
        self.settings = settings
        self.url = settings.coach_relay_url + REPLY_PATH
        self.token_factory = token_factory
        self.offline_fallback = offline_fallback
        self.timeout = (connect_timeout, read_timeout)
        self._http = requests.Session()
        self._model = ""

    @property
    def model(self) -> str:
        return self._model or "relay"

    def _token(self) -> str:
        if self.token_factory is None:
            raise AuthExpiredError("The coach relay needs you to be signed in.",
                                   "Sign in to talk to ArchPal.")
        token = self.token_factory()
        if not token:
            raise AuthExpiredError("The coach relay needs a Cognito sign-in.",
                                   "Sign in with your university account (static AWS keys do not "
                                   "reach the relay).")
        return token

    def stream(self, request: ChatRequest, cancel: CancelToken | None = None) -> Iterator[Event]:
        cancel = cancel or CancelToken()
        if cancel.cancelled:
            yield Cancelled("")
            return
        # only the turns travel: the system prompt, model and limits are the relay's own
        body = {"turns": [{"role": t.role, "text": t.text} for t in request.turns]}
        try:
            headers = {"Authorization": f"Bearer {self._token()}", "Accept": CONTENT_TYPE}
            resp = self._http.post(self.url, json=body, headers=headers, stream=True,
                                   timeout=self.timeout)
        except ArchPalError as exc:
            yield StreamError(exc, started=False)
            return
        except requests.RequestException as exc:
            log.debug("coach relay unreachable: %s", type(exc).__name__)
            if self.offline_fallback is not None:
                log.info("coach relay unreachable; answering with the local model")
                for event in self.offline_fallback.stream(request, cancel):
                    if isinstance(event, Finished):   # the local model wrote it, not the site's coach
                        event = dataclasses.replace(event, model=LOCAL_PREFIX + (event.model or "model"))
                    yield event
                return
            yield StreamError(OfflineError("ArchPal's coach could not be reached.",
                                           "Your message is saved and will be answered when the "
                                           "connection returns."), started=False)
            return
        if resp.status_code != 200:
            error = refusal_error(resp.status_code, resp.text)
            resp.close()
            yield StreamError(error, started=False)
            return
        yield from self._consume(resp, cancel)

    def _consume(self, resp: requests.Response, cancel: CancelToken) -> Iterator[Event]:
        remove_hook = cancel.on_cancel(lambda: resp.raw.shutdown())
        parts: list[str] = []
        final: Event | None = None
        try:
            for line in _lines(resp.raw):
                if cancel.cancelled:
                    break
                if not line.strip():
                    continue
                try:
                    event = event_from_wire(json.loads(line))
                except (ValueError, TypeError):
                    log.warning("ignoring a malformed line from the coach relay")
                    continue
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                elif isinstance(event, Finished):
                    self._model = event.model
                if isinstance(event, StreamError):
                    event = StreamError(event.error, event.partial_text or "".join(parts), started=True)
                if isinstance(event, (Finished, StreamError)):
                    final = event
                    break
                yield event
        except Exception as exc:
            if not cancel.cancelled:
                log.debug("coach relay stream failed: %s", type(exc).__name__)
                final = StreamError(OfflineError("The connection to ArchPal's coach was lost mid-reply.",
                                                 "The part received so far is kept; press Retry."),
                                    "".join(parts), started=True)
        finally:
            remove_hook()
            resp.close()
        if cancel.cancelled:
            yield Cancelled("".join(parts))
            return
        yield final or StreamError(ServiceUnavailableError("The coach relay ended the reply without "
                                                           "finishing.", "Press Retry to ask again."),
                                   "".join(parts), started=True)


def token_from_access(access_fn: Callable[[], Any] | None) -> Callable[[], str]:
    """The ID token of the signed-in student, from an ``AwsAccess`` factory (``access.id_token``)."""
    def token() -> str:
        if access_fn is None:
            raise AuthExpiredError("You are not signed in.", "Sign in to talk to ArchPal.")
        getter = getattr(access_fn(), "id_token", None)
        return getter() if callable(getter) else ""
    return token


def probe(base_url: str, token: str | None, timeout: float = 5.0) -> tuple[bool | None, str]:
    """For doctor: is the relay up, and does it accept this student's sign-in? An empty request
    is sent, so no model call is made and no quota is used. (True, words) / (False, words) /
    (None, words) when the sign-in could not be tried."""
    base = base_url.rstrip("/")
    try:
        health = requests.get(base + "/healthz", timeout=timeout)
    except requests.RequestException as exc:
        return False, f"the coach relay at {base} could not be reached ({type(exc).__name__})."
    if health.status_code != 200:
        return False, f"the coach relay at {base} answered {health.status_code} to its health check."
    if not token:
        return None, f"the coach relay at {base} answers (sign in to check that it accepts you)."
    try:
        resp = requests.post(base + REPLY_PATH, json={"turns": []}, timeout=timeout,
                             headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException as exc:
        return False, f"the coach relay at {base} dropped the request ({type(exc).__name__})."
    if resp.status_code == 401:
        return False, (f"the coach relay at {base} does not accept this sign-in: it serves another "
                       "user pool or app client.")
    return True, f"the coach relay at {base} answers and accepts your sign-in."


def doctor_check(url: str, access: Any, admin: bool) -> tuple[str, str, str, str]:
    """doctor's line about the coach, as (name, status, detail, fix): the relay when the site has
    one, otherwise what direct access allows (a warning for admins, a note for students)."""
    if not url:
        return ("coach", "warn" if admin else "info",
                "direct Bedrock access: students' credentials may call the model with any prompt "
                "(no coach relay).",
                "Deploy the coach relay and set coach_relay_url (docs/ADMIN.md, Coach relay).")
    try:
        token = access.id_token() if getattr(access, "id_token", None) else None
    except ArchPalError:
        token = None
    ok, words = probe(url, token)
    return ("coach relay", {True: "ok", None: "info", False: "fail"}[ok], words,
            "Check coach_relay_url and that the relay's stack uses this user pool and app client "
            "(docs/ADMIN.md, Coach relay).")
