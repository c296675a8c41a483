"""The relay as a small HTTP application (standard library only), the same code on 127.0.0.1
and in Lambda (where the Lambda Web Adapter forwards the Function URL's requests to it).

``POST /v1/reply`` with ``Authorization: Bearer <Cognito ID token>`` and ``{"turns": [...]}``:
200 and one JSON line per event (``application/x-ndjson``, chunked, each line sent as soon as
the model produces it), or before any event a JSON ``{"error": {...}}`` with 400, 401, 413, 429
(``Retry-After`` too), 502 or 503. ``GET /healthz`` says whether the relay is up (doctor).

The client hanging up is watched for while the model streams (a read on the socket returning
nothing), so a stopped reply stops the model call at once rather than at the next write.
"""
from __future__ import annotations

import json
import logging
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from archpal_desktop.core.assistant.events import Cancelled, CancelToken, Event, Finished, StreamError
from archpal_desktop.core.assistant.relay import CONTENT_TYPE, REPLY_PATH, event_to_wire
from archpal_desktop.relay.service import Refusal, RelayService, unavailable

log = logging.getLogger("archpal.relay")


class _Gone(Exception):
    pass


def _line(event: Event) -> bytes:
    return (json.dumps(event_to_wire(event)) + "\n").encode("utf-8")


def watch_disconnect(conn: socket.socket, cancel: CancelToken, done: threading.Event) -> threading.Thread:
    """Cancel when the peer closes its side (EOF) before ``done`` is set."""
    def run() -> None:
        while not done.is_set():
            try:
                readable, _, _ = select.select([conn], [], [], 0.05)
                if readable and not conn.recv(1, socket.MSG_PEEK):
                    cancel.cancel()
                    return
            except (OSError, ValueError):   # the socket was closed under us: the peer is gone
                if not done.is_set():
                    cancel.cancel()
                return
    thread = threading.Thread(target=run, name="relay-disconnect-watch", daemon=True)
    thread.start()
    return thread


class RelayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # each event leaves at once (first-delta latency)
    service: RelayService
    server_version = "ArchPalRelay/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        log.debug("relay http: " + format, *args)

    def _json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _refuse(self, refusal: Refusal) -> None:
        self.service.log_refusal(refusal)
        headers = {}
        if "retry_after" in refusal.extra:
            headers["Retry-After"] = str(refusal.extra["retry_after"])
        if refusal.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="archpal"'
        self._json(refusal.status, refusal.body(), headers)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.split("?")[0] == "/healthz":
            self._json(200, {"ok": True, "service": "archpal-coach-relay"})
        else:
            self._json(404, {"error": {"code": "not_found", "message": "No such path."}})

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        if self.path.split("?")[0] != REPLY_PATH:
            self._json(404, {"error": {"code": "not_found", "message": "No such path."}})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        try:
            if length < 0:
                raise Refusal(400, "bad_request", "The request has no valid Content-Length.")
            # the token first: an anonymous caller learns nothing, not even the size limit
            sub = self.service.authenticate(self.headers.get("Authorization"))
            try:
                self.service.check_length(length)
            except Refusal as refusal:
                refusal.sub = sub
                self._drain(length)
                raise
            raw = self.rfile.read(length) if length else b""
            prepared = self.service.prepare(self.headers.get("Authorization"), raw)
        except Refusal as refusal:
            if refusal.status == 401:
                self.close_connection = True
            self._refuse(refusal)
            return
        self._reply(prepared)

    def _drain(self, length: int) -> None:
        """Read (and drop) an oversized body so the client sees the 413, not a reset while it is
        still sending; past a few times the limit, hang up instead."""
        self.close_connection = True
        if length > 8 * self.service.config.max_body_bytes:
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                return
            length -= len(chunk)

    def _reply(self, prepared) -> None:
        cancel = CancelToken()
        done = threading.Event()
        watch_disconnect(self.connection, cancel, done)
        events = self.service.reply(prepared, cancel)
        try:
            first = next(events, None)
            if isinstance(first, StreamError) and not first.started:
                events.close()   # the reservation is given back before the client hears of it
                self._refuse(unavailable(first.error))
                return
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            event, terminal = first, None
            while event is not None:
                if isinstance(event, (Finished, StreamError)):
                    terminal = event   # sent once the quota is settled and the request logged
                elif not isinstance(event, Cancelled):
                    self._chunk(_line(event), cancel)
                event = next(events, None)
            # the generator has ended: a client that hangs up on the final event finds the
            # counters and the log already written
            if terminal is not None:
                self._chunk(_line(terminal), cancel)
            self.wfile.write(b"0\r\n\r\n")
        except _Gone:
            self.close_connection = True
        finally:
            done.set()
            events.close()   # runs the service's settle-and-log if the stream was cut short

    def _chunk(self, data: bytes, cancel: CancelToken) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except OSError as exc:
            cancel.cancel()
            raise _Gone() from exc


class RelayHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        import sys

        if isinstance(sys.exc_info()[1], OSError):
            log.debug("relay client %s went away", client_address)
            return
        super().handle_error(request, client_address)


def make_server(service: RelayService, host: str = "127.0.0.1", port: int = 0) -> RelayHTTPServer:
    handler = type("BoundRelayHandler", (RelayHandler,), {"service": service})
    return RelayHTTPServer((host, port), handler)
