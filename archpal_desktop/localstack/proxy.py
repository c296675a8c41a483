"""A small HTTP proxy in front of the local S3 that adds latency and injects faults.

Used by the benchmarks (real S3 is tens of milliseconds away: ``delay`` adds that to every
response) and by the fault tests (5xx, throttling, timeouts, dropped connections, and a PUT
that is applied upstream but whose response is lost). Loopback only.

It is one asyncio loop on a thread of its own, reading and writing HTTP/1.1 by hand: on a
2-core machine a proxy that costs a thread and two header parses per request takes CPU from the
client it is there to measure. Clients keep their connections alive; upstream connections are
reused when the upstream allows it (werkzeug, under moto, closes each one).
"""
from __future__ import annotations

import asyncio
import hmac
import random
import socket
import struct
import threading
from collections import Counter
from urllib.parse import urlsplit

from archpal_desktop.core import localauth

FAULTS = ("error500", "throttle", "timeout", "drop", "lost_response", "reset_body", "cut_body")
#: faults that hit a GET's answer halfway through its body: the connection is then reset (RST,
#: as a NAT or a Wi-Fi hand-over does) or closed cleanly
_BODY_FAULTS = ("reset_body", "cut_body")

_THROTTLE_BODY = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                  b'<Message>Please reduce your request rate.</Message></Error>')
_ERROR_BODY = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
               b'<Message>We encountered an internal error. Please try again.</Message></Error>')
#: hop-by-hop headers, and the length this proxy sets itself
_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"expect",
        b"proxy-connection", b"te", b"trailer", b"upgrade"}
_MAX_HEAD = 256 * 1024


def _new_loop(fast: bool) -> asyncio.AbstractEventLoop:
    """asyncio's event loop, or with ``fast`` uvloop's where it is installed (a development
    extra, never bundled): the benchmarks' proxy then takes ~60% of the CPU asyncio's takes."""
    if fast:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class _Closed(Exception):
    """The peer went away (or sent something that is not HTTP): close the connection."""


class FaultProxy:
    def __init__(self, upstream: str, *, delay: float = 0.0, seed: int | None = None,
                 timeout_sleep: float = 1.5, fast_loop: bool = False, secret: str | None = None):
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.delay = delay
        self.timeout_sleep = timeout_sleep
        self.rates: dict[str, float] = {}
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self.forwarded_by_method: Counter[str] = Counter()  # e.g. ["PUT"]: writes that reached S3
        self.offline = False  # refuse every request by closing the connection at once
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._port = 0
        self.fast_loop = fast_loop
        self.secret = secret  # required of every client (core.localauth); passed upstream as is

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._port}"

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
                if fault in _BODY_FAULTS and method != "GET":
                    continue
                if rate and self.rng.random() < rate:
                    self.injected[fault] += 1
                    return fault
        return None

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        loop = _new_loop(self.fast_loop)
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", 0, limit=_MAX_HEAD))
            self._port = self._server.sockets[0].getsockname()[1]
            if self.secret:
                localauth.register(self._port, self.secret)
            started.set()
            loop.run_forever()
            # stopped: close what is still open, then the loop
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="archpal-fault-proxy", daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        async def shut() -> None:
            server.close()
            for _, writer in self._idle:
                writer.transport.abort()
            self._idle.clear()
            loop.stop()

        if self.secret:
            localauth.unregister(self._port)
        asyncio.run_coroutine_threadsafe(shut(), loop)
        if self._thread is not None:
            self._thread.join(10)
        self._server = None
        self._loop = None

    # -- one client connection ------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    request = await _read_request(reader, writer)
                except _Closed:
                    return
                if not await self._answer(request, writer):
                    return
        except (ConnectionError, OSError, _Closed):
            pass
        finally:
            writer.transport.abort()

    async def _answer(self, request: tuple, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection is to be closed."""
        method, target, headers, body, keep_alive = request
        if self.offline:
            return False
        if self.secret and not hmac.compare_digest(
                _header(headers, localauth.HEADER.lower().encode()) or b"", self.secret.encode()):
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return False
        fault = self._draw(method.decode("latin-1"))
        if self.delay:
            await asyncio.sleep(self.delay)
        if fault == "timeout":
            await asyncio.sleep(self.timeout_sleep)
            return False
        if fault == "drop":
            return False
        if fault in ("error500", "throttle"):
            status = b"500 Internal Server Error" if fault == "error500" else b"503 Slow Down"
            payload = _ERROR_BODY if fault == "error500" else _THROTTLE_BODY
            writer.write(b"HTTP/1.1 %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n%s"
                         % (status, len(payload), payload))
            await writer.drain()
            return keep_alive
        status_line, out_headers, data = await self._forward(method, target, headers, body)
        with self._lock:
            self.forwarded += 1
            self.forwarded_by_method[method.decode("latin-1")] += 1
        if fault == "lost_response":
            return False  # the write happened upstream; the client never hears about it
        head = [status_line]
        head += [name + b": " + value for name, value in out_headers if name.lower() not in _HOP]
        head.append(b"Content-Length: %d" % len(data))
        if not keep_alive:
            head.append(b"Connection: close")
        payload = b"" if method == b"HEAD" else data
        if fault in _BODY_FAULTS:
            writer.write(b"\r\n".join(head) + b"\r\n\r\n" + payload[: len(payload) // 2])
            await writer.drain()
            sock = writer.get_extra_info("socket")
            if fault == "reset_body" and sock is not None:
                # linger 0: closing sends RST instead of FIN (ConnectionResetError on the client)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + payload)
        await writer.drain()
        return keep_alive

    # -- upstream -------------------------------------------------------------------------------
    async def _forward(self, method: bytes, target: bytes, headers: list, body: bytes):
        """Send the request upstream (a kept-alive connection when there is one, retried once on
        a fresh one if that had gone stale); returns (status line, headers, body)."""
        head = [b"%s %s HTTP/1.1" % (method, target)]
        head += [name + b": " + value for name, value in headers if name.lower() not in _HOP]
        if body or method in (b"PUT", b"POST"):
            head.append(b"Content-Length: %d" % len(body))
        message = b"\r\n".join(head) + b"\r\n\r\n" + body
        for attempt in (0, 1):
            reused = bool(self._idle) and attempt == 0
            if reused:
                up_reader, up_writer = self._idle.pop()
            else:
                up_reader, up_writer = await asyncio.open_connection(
                    self.upstream_host, self.upstream_port, limit=_MAX_HEAD)
            try:
                up_writer.write(message)
                await up_writer.drain()
                status_line, out_headers, data, reusable = await _read_response(up_reader, method)
            except (ConnectionError, OSError, ValueError, _Closed, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError):
                up_writer.transport.abort()
                if reused:
                    continue
                raise
            if reusable:
                self._idle.append((up_reader, up_writer))
            else:
                up_writer.transport.abort()
            return status_line, out_headers, data
        raise _Closed("upstream unavailable")


async def _read_head(reader: asyncio.StreamReader) -> list[bytes]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
        raise _Closed() from exc
    return raw[:-4].split(b"\r\n")


def _parse_headers(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    out = []
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep:
            raise _Closed("malformed header")
        out.append((name.strip(), value.strip()))
    return out


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


async def _read_body(reader: asyncio.StreamReader, headers: list, *, until_eof: bool) -> bytes:
    if (_header(headers, b"transfer-encoding") or b"").lower().endswith(b"chunked"):
        chunks = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = _header(headers, b"content-length")
    if length is not None:
        return await reader.readexactly(int(length))
    return await reader.read() if until_eof else b""


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
    lines = await _read_head(reader)
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        raise _Closed("not an HTTP request")
    method, target, version = parts
    headers = _parse_headers(lines[1:])
    if (_header(headers, b"expect") or b"").lower() == b"100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    try:
        body = await _read_body(reader, headers, until_eof=False)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        raise _Closed() from exc
    connection = (_header(headers, b"connection") or b"").lower()
    keep_alive = connection != b"close" and (version == b"HTTP/1.1" or connection == b"keep-alive")
    return method, target, headers, body, keep_alive


async def _read_response(reader: asyncio.StreamReader, method: bytes):
    while True:
        lines = await _read_head(reader)
        status_line = lines[0]
        if not status_line.startswith(b"HTTP/1.1 1"):  # skip 100 Continue and friends
            break
    headers = _parse_headers(lines[1:])
    code = int(status_line.split(b" ")[1])
    no_body = method == b"HEAD" or code in (204, 304)
    closes = (_header(headers, b"connection") or b"").lower() == b"close"
    data = b"" if no_body else await _read_body(reader, headers, until_eof=True)
    reusable = not closes and (no_body or _header(headers, b"content-length") is not None
                               or _header(headers, b"transfer-encoding") is not None)
    return status_line, headers, data, reusable


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
    proxy = FaultProxy(args.upstream, delay=args.delay, fast_loop=True).start()
    print(proxy.url, flush=True)
    try:
        sys.stdin.read()
    finally:
        proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
