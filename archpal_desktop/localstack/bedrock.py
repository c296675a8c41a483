"""Our own small Bedrock ConverseStream endpoint on 127.0.0.1 (moto has no bedrock-runtime).

It speaks the real wire format: ``POST /model/{modelId}/converse-stream`` answered with HTTP/1.1
chunked ``application/vnd.amazon.eventstream`` messages (prelude, headers, payload, two CRC32s),
and errors the way rest-json services send them (``x-amzn-ErrorType`` plus a JSON body), so the
real boto3 client, its retry logic and its event-stream parser are what the app and tests drive.

Tests script it (:class:`Reply`): what to stream, in which pieces, how fast, and which error to
raise (throttling before the stream, access denied, a ``modelStreamErrorException`` mid-stream).
With no script queued it answers as the demo coach (:func:`demo_coach_reply`).
"""
from __future__ import annotations

import hmac
import json
import logging
import select
import socket
import struct
import threading
import time
import uuid
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import unquote

from archpal_desktop.core import localauth
from archpal_desktop.localstack.server import free_port, serve_loopback, shutdown_server

log = logging.getLogger(__name__)

EVENTSTREAM = "application/vnd.amazon.eventstream"

#: errors before the stream: (HTTP status, x-amzn-ErrorType, message) as Bedrock sends them
HTTP_ERRORS = {
    "throttling": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    "access_denied": (403, "AccessDeniedException",
                      "You don't have access to the model with the specified model ID."),
    "validation_tool": (400, "ValidationException",
                        "This model doesn't support the toolConfig.toolChoice.tool field. Remove "
                        "toolConfig.toolChoice.tool and try again."),
    "unavailable": (503, "ServiceUnavailableException", "The service is temporarily unavailable."),
    "not_found": (404, "ResourceNotFoundException", "The model ID is not found."),
}


# -- the binary event-stream framing ------------------------------------------------------------
def _header(name: str, value: str) -> bytes:
    n, v = name.encode("utf-8"), value.encode("utf-8")
    return bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v  # 7 = string


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (total, headers length, CRC), headers, payload, CRC."""
    head = b"".join(_header(k, v) for k, v in headers.items())
    prelude = struct.pack(">II", 12 + len(head) + len(payload) + 4, len(head))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event_message(event_type: str, body: dict) -> bytes:
    return encode_message({":event-type": event_type, ":content-type": "application/json",
                           ":message-type": "event"},
                          json.dumps(body, separators=(",", ":")).encode("utf-8"))


def exception_message(exception_type: str, message: str) -> bytes:
    return encode_message({":exception-type": exception_type, ":content-type": "application/json",
                           ":message-type": "exception"},
                          json.dumps({"message": message}).encode("utf-8"))


# -- scripts ------------------------------------------------------------------------------------
@dataclass
class Reply:
    """One scripted answer.

    ``mode``: "tool" streams a toolUse block whose input is ``{emotion, response_text}`` (what
    ArchPal asks for); "text" streams plain text (a model that does not comply); "raw_tool"
    streams ``tool_input`` verbatim (malformed JSON and other odd inputs).
    ``pieces`` fixes how the text is cut; otherwise it is cut every ``piece_size`` characters.
    """

    text: str = "Hello from the local endpoint."
    emotion: str = "smile"
    mode: str = "tool"
    pieces: list[str] | None = None
    piece_size: int = 8
    delay: float = 0.0              # seconds between events
    first_delay: float = 0.0        # before the first event
    http_error: str | None = None   # a key of HTTP_ERRORS, answered instead of a stream
    stream_error_after: int | None = None   # deltas sent before a modelStreamErrorException
    tool_input: str | None = None
    stop_reason: str | None = None
    sprint: dict | None = None      # a writing sprint offered: the tool's writing_sprint field,
                                    # or in "text" mode the plain-text line a local model writes

    def body_pieces(self) -> list[str]:
        if self.mode == "raw_tool":
            whole = self.tool_input or ""
        elif self.mode == "tool":
            doc = {"emotion": self.emotion, "response_text": self.text}
            if self.sprint:
                doc["writing_sprint"] = self.sprint
            whole = json.dumps(doc)
        else:
            whole = self.text + (f"\n{json.dumps({'writing_sprint': self.sprint})}" if self.sprint else "")
        if self.pieces is not None and self.mode == "text":
            return list(self.pieces)
        if self.pieces is not None and self.mode == "tool":
            # the opening carries the emotion, then the text's pieces, JSON-escaped
            head = '{"emotion": %s, "response_text": "' % json.dumps(self.emotion)
            tail = '"}' if not self.sprint else '", "writing_sprint": %s}' % json.dumps(self.sprint)
            return [head] + [json.dumps(p)[1:-1] for p in self.pieces] + [tail]
        size = max(1, self.piece_size)
        return [whole[i:i + size] for i in range(0, len(whole), size)] or [""]


@dataclass
class RequestRecord:
    model_id: str
    body: dict
    headers: dict[str, str]
    events_sent: int = 0
    disconnected: bool = False
    finished: bool = False
    first_delta_sent_at: float | None = None   # time.perf_counter() just after the write
    delta_sent_at: list[float] = field(default_factory=list)   # the same, for every delta
    done: threading.Event = field(default_factory=threading.Event)


class LocalBedrock:
    """The endpoint; ``start()`` binds 127.0.0.1 on a free port."""

    def __init__(self, port: int = 0, responder: Callable[[dict], Reply] | None = None,
                 secret: str | None = None):
        self.port = port or free_port()
        self.secret = secret
        self.responder = responder or demo_coach_reply
        self._scripts: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.requests: list[RequestRecord] = []
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint_env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.url}

    def script(self, *replies: Reply) -> None:
        """Queue replies; each request takes the next one (then the responder takes over)."""
        with self._lock:
            self._scripts.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.requests.clear()

    def _next(self, body: dict) -> Reply:
        with self._lock:
            if self._scripts:
                return self._scripts.popleft()
        return self.responder(body)

    def start(self) -> "LocalBedrock":
        handler = type("Handler", (_Handler,), {"endpoint": self, "secret": self.secret})
        if self.secret:
            localauth.register(self.port, self.secret)
        self._httpd = serve_loopback(handler, "local-bedrock", self.port)
        return self

    def stop(self) -> None:
        shutdown_server(self._httpd)
        self._httpd = None
        if self.secret:
            localauth.unregister(self.port)

    close = stop


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # each event leaves at once (first-delta latency)
    endpoint: LocalBedrock
    secret: str | None = None   # the per-run secret every request must carry (core.localauth)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
        log.debug("local bedrock: " + format, *args)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.secret and not hmac.compare_digest(self.headers.get(localauth.HEADER, "").encode(),
                                                   self.secret.encode()):
            self.close_connection = True
            self.send_error(403, "This local server answers only the ArchPal process that started it.")
            return False
        return True

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = self.path.split("/")
        if len(parts) != 4 or parts[1] != "model" or parts[3] not in ("converse-stream",):
            self._error(404, "UnknownOperationException", f"No such operation: {self.path}")
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._error(400, "ValidationException", "The request body is not valid JSON.")
            return
        record = RequestRecord(unquote(parts[2]), body, {k.lower(): v for k, v in self.headers.items()})
        with self.endpoint._lock:
            self.endpoint.requests.append(record)
        try:
            reply = self.endpoint._next(body)
            if reply.http_error:
                status, code, message = HTTP_ERRORS[reply.http_error]
                self._error(status, code, message)
                return
            self._stream(reply, record)
        finally:
            record.done.set()

    def _error(self, status: int, code: str, message: str) -> None:
        payload = json.dumps({"message": message}).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-ErrorType", f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    # -- streaming --------------------------------------------------------------------------
    def _send(self, data: bytes, record: RequestRecord) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except (BrokenPipeError, ConnectionResetError, OSError) as exc:
            record.disconnected = True
            raise _ClientGone() from exc
        record.events_sent += 1

    def _pause(self, seconds: float, record: RequestRecord) -> None:
        """Wait, but notice at once when the client hangs up (cancel must stop the stream)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if readable:
                try:
                    peek = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    peek = b""
                if not peek:
                    record.disconnected = True
                    raise _ClientGone()

    def _stream(self, reply: Reply, record: RequestRecord) -> None:
        self.send_response(200)
        self.send_header("Content-Type", EVENTSTREAM)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        try:
            self._pause(reply.first_delay, record)
            self._events(reply, record)
            self.wfile.write(b"0\r\n\r\n")
            record.finished = True
        except _ClientGone:
            log.debug("local bedrock: client disconnected after %d events", record.events_sent)
            self.close_connection = True

    def _events(self, reply: Reply, record: RequestRecord) -> None:
        send = lambda kind, body: self._send(event_message(kind, body), record)  # noqa: E731
        send("messageStart", {"role": "assistant"})
        tool = reply.mode in ("tool", "raw_tool")
        if tool:
            send("contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {
                "toolUseId": "tooluse_" + uuid.uuid4().hex[:20], "name": "coach_reply"}}})
        out_tokens = 0
        for i, piece in enumerate(reply.body_pieces()):
            if reply.stream_error_after is not None and i >= reply.stream_error_after:
                self._send(exception_message(
                    "modelStreamErrorException",
                    "The model stopped unexpectedly while streaming its response."), record)
                return
            self._pause(reply.delay, record)
            delta = {"toolUse": {"input": piece}} if tool else {"text": piece}
            send("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta})
            record.delta_sent_at.append(time.perf_counter())
            if record.first_delta_sent_at is None:
                record.first_delta_sent_at = record.delta_sent_at[0]
            out_tokens += max(1, len(piece) // 4)
        self._pause(reply.delay, record)
        send("contentBlockStop", {"contentBlockIndex": 0})
        send("messageStop", {"stopReason": reply.stop_reason or ("tool_use" if tool else "end_turn")})
        send("metadata", {"usage": {"inputTokens": _approx_tokens(record.body), "outputTokens": out_tokens,
                                    "totalTokens": _approx_tokens(record.body) + out_tokens},
                          "metrics": {"latencyMs": 1}})


def _approx_tokens(body: dict) -> int:
    return max(1, len(json.dumps(body)) // 4)


# -- the demo coach -----------------------------------------------------------------------------
DEMO_LABEL = "[Demo coach: a local stand-in running on this computer, not the real ArchPal model.]"

_TOPICS = (
    (("thesis", "claim", "argument"), "point",
     "A strong thesis makes a claim someone could reasonably disagree with. Try writing yours as "
     "one sentence: what do you believe, and why should a reader care? Then ask yourself what the "
     "strongest objection to it would be."),
    (("outline", "structure", "organize", "organise", "plan"), "point",
     "Before drafting, list the two or three main points that support your thesis, and under each "
     "one the evidence you already have. Which point feels weakest right now?"),
    (("cite", "citation", "mla", "apa", "chicago", "source", "reference"), "point",
     "For citations, check which style your course uses (MLA, APA or Chicago) and look up that "
     "style's pattern for the kind of source you have. What details of the source can you find: "
     "author, title, date, publisher or site?"),
    (("introduction", "intro", "hook", "start", "begin"), "hello",
     "Many writers draft the introduction last. For now, what question does your paper answer? "
     "Jot down why that question matters to you; that often becomes a good opening."),
    (("conclusion", "ending", "conclude"), "smile",
     "A conclusion works best when it shows why your argument matters beyond the paper. What "
     "should a reader think or do differently after reading it?"),
    (("evidence", "support", "example", "data", "research"), "point",
     "Look at each piece of evidence and ask: how exactly does this support my claim? If you "
     "can't say it in one sentence, the link may need explaining in your paragraph."),
    (("revise", "revision", "edit", "feedback", "draft"), "success",
     "When revising, read your draft aloud and mark every place you stumble. Start with the big "
     "picture (does each paragraph support the thesis?) before fixing sentences."),
    (("write it", "write my", "do it for me", "write the essay", "write this"), "upset",
     "I can't write your assignment for you: the work and the voice need to be yours. I can help "
     "you plan it, though. What part are you stuck on?"),
    (("stressed", "anxious", "overwhelmed", "behind", "deadline"), "sad",
     "That sounds stressful. Let's break the task into small steps. What is one thing you could "
     "finish in the next twenty minutes?"),
    (("thanks", "thank you", "great", "awesome"), "dance",
     "You're welcome! Keep going; you're doing the thinking, and it shows."),
    (("hello", "hi ", "hey"), "hello",
     "Hi! I'm here to help you think through your writing. What are you working on?"),
)


#: what asks the demo coach to plan a writing session: it offers a sprint (never starts one)
_SPRINT_WORDS = ("writing session", "writing sprint", "sprint", "timer", "focus session",
                 "plan my session", "plan a session", "time to write", "pomodoro")
_SPRINT_GOALS = (("introduction", "Draft your introduction"), ("intro", "Draft your introduction"),
                 ("conclusion", "Draft your conclusion"), ("outline", "Outline your paper"),
                 ("revis", "Revise one section"), ("body paragraph", "Draft one body paragraph"),
                 ("thesis", "Write a working thesis"))


def _sprint_offer(lowered: str) -> tuple[str, dict] | None:
    if not any(w in lowered for w in _SPRINT_WORDS):
        return None
    goal = next((g for word, g in _SPRINT_GOALS if word in lowered), "Draft the next section")
    minutes = 25
    for n in (10, 15, 20, 30, 45, 60):
        if f"{n} min" in lowered or f"{n}-min" in lowered:
            minutes = n
    text = (f"A focused sprint could help here. Pick one small goal, put distractions away, and "
            f"just write; polishing comes later. Would you like me to set a {minutes}-minute "
            f"writing sprint so you can {goal[0].lower() + goal[1:]}? Press Start when you are "
            "ready, or Not now.")
    return text, {"minutes": minutes, "goal": goal}


def _last_user_text(body: dict) -> str:
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") == "user":
            return " ".join(block.get("text", "") for block in msg.get("content") or []
                            if isinstance(block, dict))
    return ""


def demo_coach_reply(body: dict) -> Reply:
    """A helpful, clearly labelled answer about what the student wrote (no model involved)."""
    said = _last_user_text(body).strip()
    lowered = f" {said.lower()} "
    emotion, advice = "smile", (
        "Tell me a bit more: what is the assignment asking for, and what have you got so far? "
        "We can work out the next step together.")
    offer = _sprint_offer(lowered)
    for words, emo, text in _TOPICS:
        if offer is None and any(w in lowered for w in words):
            emotion, advice = emo, text
            break
    if offer is not None:
        emotion, advice = "point", offer[0]
    quoted = said if len(said) <= 120 else said[:117].rstrip() + "..."
    text = f"{DEMO_LABEL}\n\nYou wrote: \u201c{quoted}\u201d\n\n{advice}"
    forced = bool(((body.get("toolConfig") or {}).get("toolChoice") or {}).get("tool"))
    return Reply(text=text, emotion=emotion, mode="tool" if forced else "text", piece_size=6,
                 delay=0.01, sprint=offer[1] if offer else None)
