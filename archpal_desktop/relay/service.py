"""What the relay does with one request, apart from HTTP: who is asking, what they may send,
how much they may use, and the reply from the site's model with the site's prompt.

Order of the checks (each a :class:`Refusal` with its HTTP status): the ID token (401), the
body's size and shape (413 / 400), the quota (429); then the student's profile is read and the
model called with the server's system prompt, model, temperature and max tokens. Whatever else
the client put in the body (a "system" field, a model, a temperature) is not read at all.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generator

import boto3

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout
from archpal_desktop.core.auth import tokens
from archpal_desktop.core.assistant.bedrock import BedrockProvider
from archpal_desktop.core.assistant.events import (Cancelled, CancelToken, ChatRequest, Event,
                                                   Finished, StreamError, TextDelta, Turn, Usage)
from archpal_desktop.core.assistant.prompt import alternating_turns, system_prompt
from archpal_desktop.core.errors import ArchPalError, OfflineError, ServiceUnavailableError
from archpal_desktop.relay.config import RelayConfig
from archpal_desktop.relay.quota import Quota, QuotaExceeded, Reservation

log = logging.getLogger("archpal.relay")


@dataclass
class Refusal(Exception):
    status: int
    code: str
    message: str
    hint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    sub: str = ""       # who was refused, for the log (never sent back)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "hint": self.hint, **self.extra}}


@dataclass
class Prepared:
    """An admitted request: who, what reaches the model, and the quota it holds."""

    sub: str
    request: ChatRequest
    reservation: Reservation | None
    started: float = field(default_factory=time.monotonic)
    outcome: str = "ok"
    input_tokens: int = 0
    output_tokens: int = 0
    reply_text: str = ""
    reply_chars: int = 0
    model_started: bool = False
    finished: bool = False          # the model's reply completed (a later hang-up changes nothing)


class RelayJwks(tokens.JwksCache):
    """The pool's keys, re-downloaded for an unknown key id at most once a minute: a caller
    sending made-up key ids must not turn every request into a JWKS download."""

    REFRESH_EVERY_S = 60.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._refreshed = float("-inf")

    def keys(self, *, refresh: bool = False):
        if refresh:
            now = time.monotonic()
            if now - self._refreshed < self.REFRESH_EVERY_S:
                refresh = False
            else:
                self._refreshed = now
        return super().keys(refresh=refresh)


def _model_settings(config: RelayConfig) -> cfg.Settings:
    values = {cfg.ANTHROPIC_MODEL: config.model, cfg.ANTHROPIC_TEMPERATURE: config.temperature,
              cfg.ANTHROPIC_MAX_TOKENS: config.max_tokens, cfg.AWS_REGION: config.region}
    return cfg.Settings({k: cfg.Value(v, "relay") for k, v in values.items()}, set(),
                        user_file=Path("/nonexistent"))


def _quota_message(exc: QuotaExceeded, now: datetime) -> Refusal:
    left = max(0, int((exc.reset_at - now).total_seconds()))
    when = exc.reset_at.strftime("%H:%M UTC")
    hours, minutes = divmod(left // 60, 60)
    if exc.scope == "student":
        message = f"You have used today's ArchPal time. It comes back at {when} (in {hours} h {minutes} min)."
        hint = "Your message is kept and will be answered then."
    else:
        message = (f"Your institution's ArchPal time for today has been used up. It comes back at "
                   f"{when} (in {hours} h {minutes} min).")
        hint = "Your message is kept and will be answered then; tell your IT administrator if this keeps happening."
    return Refusal(429, "quota_exceeded", message, hint,
                   {"scope": exc.scope, "reset_at": exc.reset_at.isoformat().replace("+00:00", "Z"),
                    "retry_after": left})


class RelayService:
    def __init__(self, config: RelayConfig, session: boto3.Session | None = None):
        self.config = config
        self.session = session or boto3.Session(region_name=config.region)
        self.s3 = self.session.client("s3", region_name=config.region)
        self.jwks = RelayJwks(config.pool_region, config.user_pool_id, None)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="relay-io")
        self.quota = (Quota(self.session.client("dynamodb", region_name=config.region),
                            config.quota_table, student_limit=config.student_daily_tokens,
                            site_limit=config.site_daily_tokens, pool=self._pool)
                      if config.quota_table else None)
        self.provider = BedrockProvider(_model_settings(config), lambda: self.session)
        self._profiles: dict[str, tuple[float, dict | None]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop the I/O threads (the local backend stops its relay; a Lambda never does)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- checks -----------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refusal(401, "auth_required", "Sign in to talk to ArchPal.",
                          "The request carried no sign-in token.")
        try:
            claims = tokens.verify(token.strip(), jwks=self.jwks,
                                   client_id=list(self.config.client_ids),  # type: ignore[arg-type]
                                   token_use="id")
            return layout.validate_sub(str(claims["sub"]))
        except (OfflineError, ServiceUnavailableError):
            # the pool's keys could not be fetched: the token may be fine, so no "sign in again"
            raise Refusal(503, "unavailable", "ArchPal's coach cannot check sign-ins right now.",
                          "Your message is kept; it will be answered shortly.") from None
        except ArchPalError as exc:
            raise Refusal(401, "auth_expired", exc.message or "Your session could not be verified.",
                          "Sign in again; everything you wrote is kept.") from None

    def check_length(self, length: int) -> None:
        if length > self.config.max_body_bytes:
            raise self._too_big(f"The conversation sent is {length:,} bytes; the limit is "
                                f"{self.config.max_body_bytes:,}.")

    def _too_big(self, detail: str) -> Refusal:
        return Refusal(413, "too_large", "This conversation is too long for ArchPal to read at once. "
                       + detail, "Start a new conversation and summarise where you are.")

    def parse_turns(self, raw: bytes) -> list[Turn]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise Refusal(400, "bad_request", "The request is not valid JSON.") from None
        turns = body.get("turns") if isinstance(body, dict) else None
        if not isinstance(turns, list) or not turns:
            raise Refusal(400, "bad_request", "The request carries no conversation turns.")
        if len(turns) > self.config.max_turns:
            raise self._too_big(f"It has {len(turns)} messages; the limit is {self.config.max_turns}.")
        history: list[tuple[str, str]] = []
        for turn in turns:
            if not isinstance(turn, dict) or turn.get("role") not in layout.ROLES \
                    or not isinstance(turn.get("text"), str):
                raise Refusal(400, "bad_request",
                              "Each turn must be {role: user|assistant, text: string}.")
            if len(turn["text"]) > self.config.max_turn_chars:
                raise self._too_big(f"One message has {len(turn['text']):,} characters; the limit "
                                    f"is {self.config.max_turn_chars:,}.")
            history.append((turn["role"], turn["text"]))
        out = alternating_turns(history)
        if not out:
            raise Refusal(400, "bad_request", "There is no question to answer.")
        return out

    def profile(self, sub: str) -> dict | None:
        now = time.monotonic()
        with self._lock:
            hit = self._profiles.get(sub)
        if hit and now - hit[0] < self.config.profile_cache_seconds:
            return hit[1]
        try:
            obj = self.s3.get_object(Bucket=self.config.bucket, Key=layout.info_key(sub))
            doc = json.loads(obj["Body"].read())
            profile = doc if isinstance(doc, dict) else None
        except self.s3.exceptions.NoSuchKey:
            profile = None
        except (ValueError, UnicodeDecodeError):
            log.warning("info.json of a student is not valid JSON; answering without the profile")
            profile = None
        with self._lock:
            self._profiles[sub] = (now, profile)
        return profile

    def _reserve_estimate(self, system: str, turns: list[Turn]) -> int:
        # generous on purpose (about 2 characters a token, plus the tool definition): the
        # reservation must cover what the reply really costs for the quota's bound to hold
        chars = len(system) + sum(len(t.text) for t in turns)
        return chars // 2 + 1000 + self.config.max_tokens

    def prepare(self, authorization: str | None, raw: bytes) -> Prepared:
        sub = self.authenticate(authorization)
        try:
            return self._prepare(sub, raw)
        except Refusal as refusal:
            refusal.sub = sub
            raise

    def _prepare(self, sub: str, raw: bytes) -> Prepared:
        turns = self.parse_turns(raw)
        # the profile is read while the counters are updated: both stand before the first words
        profile = self._pool.submit(self.profile, sub)
        reservation = None
        if self.quota is not None:
            now = datetime.now(timezone.utc)
            # the estimate's system part: the persona and the site prompt; a profile adds ~100
            estimate = self._reserve_estimate(system_prompt(self.config.system_prompt, None), turns) + 200
            try:
                reservation = self.quota.admit(sub, estimate, now)
            except QuotaExceeded as exc:
                profile.cancel()
                raise _quota_message(exc, now) from None
        system = system_prompt(self.config.system_prompt, profile.result())
        request = ChatRequest(system, turns, self.config.temperature, self.config.max_tokens)
        return Prepared(sub, request, reservation)

    # -- the reply --------------------------------------------------------------------------
    def reply(self, prepared: Prepared, cancel: CancelToken) -> Generator[Event, None, None]:
        """The model's events; settles the quota and writes the log line when it ends."""
        try:
            for event in self.provider.stream(prepared.request, cancel):
                if not isinstance(event, StreamError):
                    prepared.model_started = True
                if isinstance(event, Usage):
                    prepared.input_tokens += event.input_tokens
                    prepared.output_tokens += event.output_tokens
                elif isinstance(event, TextDelta):
                    prepared.reply_chars += len(event.text)
                    if self.config.log_message_text:
                        prepared.reply_text += event.text
                elif isinstance(event, StreamError):
                    prepared.outcome = f"error:{event.error.code}"
                    prepared.model_started = prepared.model_started or event.started
                elif isinstance(event, Finished):
                    prepared.outcome, prepared.finished = "ok", True
                elif isinstance(event, Cancelled):
                    prepared.outcome = "cancelled"
                yield event
        finally:
            if cancel.cancelled and prepared.outcome == "ok" and not prepared.finished:
                prepared.outcome = "cancelled"
            self.finish(prepared)

    def finish(self, prepared: Prepared) -> None:
        if prepared.reservation is not None and self.quota is not None:
            used_in, used_out = prepared.input_tokens, prepared.output_tokens
            if not prepared.model_started:
                used_in = used_out = 0      # refused by the model before it began: nothing used
            elif prepared.outcome != "ok" and not (used_in or used_out):
                # a stopped or failed reply sends no usage: count what it may have cost
                used_in = prepared.reservation.tokens - self.config.max_tokens
                used_out = prepared.reply_chars // 3 + 1
            self.quota.settle(prepared.reservation, used_in, used_out)
        entry: dict[str, Any] = {
            "event": "relay_request", "sub": prepared.sub, "outcome": prepared.outcome,
            "input_tokens": prepared.input_tokens, "output_tokens": prepared.output_tokens,
            "turns": len(prepared.request.turns), "model": self.config.model,
            "ms": int((time.monotonic() - prepared.started) * 1000)}
        if self.config.log_message_text:
            entry["question"] = prepared.request.turns[-1].text
            entry["reply"] = prepared.reply_text
        log.info(json.dumps(entry))

    def log_refusal(self, refusal: Refusal) -> None:
        log.info(json.dumps({"event": "relay_request", "sub": refusal.sub or None,
                             "outcome": f"refused:{refusal.code}",
                             "status": refusal.status, "input_tokens": 0, "output_tokens": 0}))


def unavailable(error: ArchPalError) -> Refusal:
    """A model error before anything streamed, as an HTTP answer the desktop can queue on."""
    status = 503 if isinstance(error, ServiceUnavailableError) else 502
    return Refusal(status, error.code, error.message, error.hint)
