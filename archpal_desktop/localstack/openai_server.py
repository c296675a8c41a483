"""A small OpenAI-compatible chat server on 127.0.0.1 that streams like Ollama / LM Studio.

``POST /v1/chat/completions`` with ``stream: true`` answers with chunked ``text/event-stream``
(``data: {chunk}`` lines, then ``data: [DONE]``); ``GET /v1/models`` lists the model. Tests
script it with :class:`LocalReply` (text, pieces, pace, HTTP error, error mid-stream); with no
script it answers as the demo coach, the emotion inline at the end as a local model would.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from archpal_desktop.core import localauth
from archpal_desktop.localstack.bedrock import RequestRecord, _ClientGone, _Handler, demo_coach_reply
from archpal_desktop.localstack.server import free_port, serve_loopback, shutdown_server

MODEL = "demo-local-coach"


@dataclass
class LocalReply:
    text: str = "Hello from the local model."
    emotion: str | None = "smile"     # appended inline as {"emotion": ...}; None: nothing appended
    pieces: list[str] | None = None
    piece_size: int = 6
    delay: float = 0.0
    http_error: int | None = None     # answer with this status instead of a stream
    stream_error_after: int | None = None
    include_usage: bool = True

    def body_pieces(self) -> list[str]:
        if self.pieces is not None:
            return list(self.pieces)
        whole = self.text + (f'\n{{"emotion": "{self.emotion}"}}' if self.emotion else "")
        size = max(1, self.piece_size)
        return [whole[i:i + size] for i in range(0, len(whole), size)]


def _demo(body: dict) -> LocalReply:
    # reuse the demo coach's words; Bedrock's shape of messages is close enough to extract them
    messages = [{"role": m.get("role"), "content": [{"text": m.get("content", "")}]}
                for m in body.get("messages") or [] if m.get("role") in ("user", "assistant")]
    reply = demo_coach_reply({"messages": messages})
    offer = f"\n{json.dumps({'writing_sprint': reply.sprint})}" if reply.sprint else ""  # the plain-text form
    return LocalReply(text=reply.text + offer, emotion=reply.emotion, delay=0.01)


class LocalOpenAI:
    def __init__(self, port: int = 0, responder: Callable[[dict], LocalReply] | None = None,
                 model: str = MODEL, secret: str | None = None):
        self.port = port or free_port()
        self.secret = secret
        self.model = model
        self.responder = responder or _demo
        self._scripts: deque[LocalReply] = deque()
        self._lock = threading.Lock()
        self.requests: list[RequestRecord] = []
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: LocalReply) -> None:
        with self._lock:
            self._scripts.extend(replies)

    def _next(self, body: dict) -> LocalReply:
        with self._lock:
            if self._scripts:
                return self._scripts.popleft()
        return self.responder(body)

    def start(self) -> "LocalOpenAI":
        handler = type("Handler", (_OpenAIHandler,), {"server_obj": self, "secret": self.secret})
        if self.secret:
            localauth.register(self.port, self.secret)
        self._httpd = serve_loopback(handler, "local-openai", self.port)
        return self

    def stop(self) -> None:
        shutdown_server(self._httpd)
        self._httpd = None
        if self.secret:
            localauth.unregister(self.port)

    close = stop


class _OpenAIHandler(_Handler):
    server_obj: LocalOpenAI

    def _json(self, status: int, doc: dict) -> None:
        payload = json.dumps(doc).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": self.server_obj.model, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error": {"message": "invalid JSON"}})
            return
        record = RequestRecord(str(body.get("model", "")), body,
                               {k.lower(): v for k, v in self.headers.items()})
        with self.server_obj._lock:
            self.server_obj.requests.append(record)
        try:
            if body.get("model") != self.server_obj.model:
                self._json(404, {"error": {"message": f"model '{body.get('model')}' not found"}})
                return
            reply = self.server_obj._next(body)
            if reply.http_error:
                self._json(reply.http_error, {"error": {"message": f"scripted error {reply.http_error}"}})
                return
            self._sse(reply, record, body)
        finally:
            record.done.set()

    def _sse(self, reply: LocalReply, record: RequestRecord, body: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cid = "chatcmpl-" + uuid.uuid4().hex[:12]
        base = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": self.server_obj.model}

        def event(doc: dict) -> bytes:
            return b"data: " + json.dumps(doc).encode("utf-8") + b"\n\n"
        try:
            self._send(event({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}), record)
            pieces = reply.body_pieces()
            for i, piece in enumerate(pieces):
                if reply.stream_error_after is not None and i >= reply.stream_error_after:
                    self._send(event({"error": {"message": "the model crashed"}}), record)
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self._pause(reply.delay, record)
                self._send(event({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                                       "finish_reason": None}]}), record)
                if record.first_delta_sent_at is None:
                    record.first_delta_sent_at = time.perf_counter()
            final: dict = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            if reply.include_usage:
                final["usage"] = {"prompt_tokens": len(json.dumps(body)) // 4,
                                  "completion_tokens": len(pieces), "total_tokens": 0}
            self._send(event(final), record)
            self._send(b"data: [DONE]\n\n", record)
            self.wfile.write(b"0\r\n\r\n")
            record.finished = True
        except _ClientGone:
            self.close_connection = True
