"""A small HTTP proxy in front of the local S3 that adds latency and injects faults.

Used by the benchmarks (real S3 is tens of milliseconds away: ``delay`` adds that to every
response) and by the fault tests (5xx, throttling, timeouts, dropped connections, and a PUT
that is applied upstream but whose response is lost). Loopback only.
"""
from __future__ import annotations

import http.client
import random
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from archpal_desktop.localstack.server import serve_loopback, shutdown_server

FAULTS = ("error500", "throttle", "timeout", "drop", "lost_response")

_THROTTLE_BODY = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                  b'<Message>Please reduce your request rate.</Message></Error>')
_ERROR_BODY = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
               b'<Message>We encountered an internal error. Please try again.</Message></Error>')


class FaultProxy:
    def __init__(self, upstream: str, *, delay: float = 0.0, seed: int | None = None,
                 timeout_sleep: float = 1.5):
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.delay = delay
        self.timeout_sleep = timeout_sleep
        self.rates: dict[str, float] = {}
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self.offline = False  # refuse every request by closing the connection at once
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def set_faults(self, **rates: float) -> None:
        """e.g. ``set_faults(error500=0.05, throttle=0.05, lost_response=0.05)``."""
        unknown = set(rates) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {unknown}")
        with self._lock:
            self.rates = dict(rates)

    def _draw(self, method: str) -> str | None:
        with self._lock:
            for fault in FAULTS:
                rate = self.rates.get(fault, 0.0)
                if fault == "lost_response" and method != "PUT":
                    continue
                if rate and self.rng.random() < rate:
                    self.injected[fault] += 1
                    return fault
        return None

    def start(self) -> "FaultProxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: without this, the client's delayed
            # ACK adds ~40 ms to every response
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.offline:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                fault = proxy._draw(self.command)
                if proxy.delay:
                    time.sleep(proxy.delay)
                if fault == "timeout":
                    time.sleep(proxy.timeout_sleep)
                    self.close_connection = True
                    return
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault in ("error500", "throttle"):
                    payload = _ERROR_BODY if fault == "error500" else _THROTTLE_BODY
                    self.send_response(500 if fault == "error500" else 503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                status, headers, data = proxy._forward(self.command, self.path, self.headers, body)
                if fault == "lost_response":
                    # the write happened upstream; the client never hears about it
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # clients hanging up (killed, timed out, dropped on purpose) are expected

        self._server = serve_loopback(Handler, "archpal-fault-proxy", server_cls=Server)
        return self

    def _forward(self, method: str, path: str, headers, body: bytes):
        """Forward upstream on a kept-alive connection per proxy thread."""
        fwd = {k: v for k, v in headers.items() if k.lower() not in ("connection", "keep-alive")}
        for attempt in (0, 1):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
                self._local.conn = conn
            try:
                conn.request(method, path, body=body or None, headers=fwd)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
                continue
            with self._lock:
                self.forwarded += 1
            return resp.status, resp.getheaders(), data
        raise RuntimeError("unreachable")

    def stop(self) -> None:
        shutdown_server(self._server)
        self._server = None


def main(argv: list[str] | None = None) -> int:
    """``python -m archpal_desktop.localstack.proxy --upstream URL [--delay S]``: run the proxy
    in its own process (benchmarks: so its work does not share the measured client's GIL).
    Prints the proxy's URL on the first line, then serves until stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="archpal-proxy")
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    proxy = FaultProxy(args.upstream, delay=args.delay).start()
    print(proxy.url, flush=True)
    try:
        sys.stdin.read()
    finally:
        proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
