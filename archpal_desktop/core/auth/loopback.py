"""The loopback listener that receives the sign-in page's redirect (RFC 8252 section 7.3).

It binds 127.0.0.1 only, on the first free port of the site's short list (Cognito matches a
callback URL exactly, port and path included, so the admin registers each of them), answers
exactly one redirect that carries this sign-in's ``state``, and closes right after. A request on
another path, or a stray one (a favicon, a port scanner), gets a 404 and changes nothing; a
redirect that carries a different ``state`` ends the wait with :class:`StateMismatchError`.

The path cannot be a per-sign-in secret (Cognito would refuse a URL it does not list); the
unguessable part is the 128-bit ``state``, checked before anything is used, plus PKCE: a code
intercepted on this computer is worthless without the verifier, which never leaves this process.
"""
from __future__ import annotations

import html
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from archpal_desktop.core.auth.errors import (
    BrowserCancelledError, BrowserTimeoutError, PortsInUseError, SignInDeniedError,
    StateMismatchError,
)

log = logging.getLogger(__name__)

DEFAULT_PORTS = (53682, 53683, 53684)
DEFAULT_PATH = "/archpal/callback"

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ArchPal</title>
<style>body{{font:16px system-ui,sans-serif;margin:4em auto;max-width:32em;padding:0 1em;
color:#1f1f1f;background:#fff}}@media (prefers-color-scheme:dark){{body{{color:#eee;
background:#1e1e1e}}}}h1{{font-size:1.4em}}</style></head>
<body><h1 id="title">{title}</h1><p id="detail">{detail}</p></body></html>"""


@dataclass
class Redirect:
    """What the browser brought back: a code, or the error the sign-in page reported."""

    code: str = ""
    error: str = ""
    error_description: str = ""

    def __repr__(self) -> str:  # never the code
        return f"<Redirect code={'***' if self.code else ''!r} error={self.error!r}>"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # POSIX: SO_REUSEADDR lets a second sign-in bind while the first one's connections sit in
    # TIME_WAIT, and still fails while another program listens. Windows: that option would let
    # two sockets share the port, so it is off and the port is claimed exclusively instead.
    allow_reuse_address = os.name != "nt"

    def server_bind(self) -> None:
        if os.name == "nt":
            self.socket.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_EXCLUSIVEADDRUSE", -5), 1)
        super().server_bind()

    def handle_error(self, request, client_address) -> None:
        log.debug("loopback request from %s failed", client_address, exc_info=True)


class LoopbackListener:
    """One sign-in's redirect target. ``start()`` binds; ``wait()`` returns the code."""

    def __init__(self, state: str, ports: tuple[int, ...] = DEFAULT_PORTS, path: str = DEFAULT_PATH,
                 host: str = "127.0.0.1"):
        self.state = state
        self.ports = tuple(int(p) for p in ports) or DEFAULT_PORTS
        self.path = "/" + path.strip("/")
        self.host = host
        self._server: _Server | None = None
        self._done = threading.Event()
        self._result: Redirect | BaseException | None = None
        self._lock = threading.Lock()

    @property
    def redirect_uri(self) -> str:
        if self._server is None:
            raise RuntimeError("the listener is not started")
        return f"http://{self.host}:{self._server.server_address[1]}{self.path}"

    def start(self) -> "LoopbackListener":
        SignedOutPage.close_all()  # a sign-out page still waiting must not take our port
        handler = self._handler()
        last: OSError | None = None
        for port in self.ports:
            try:
                self._server = _Server((self.host, port), handler)
                break
            except OSError as exc:
                last = exc
        if self._server is None:
            listed = ", ".join(str(p) for p in self.ports)
            raise PortsInUseError(
                f"ArchPal could not receive the sign-in: another program uses port{'s' if len(self.ports) > 1 else ''} "
                f"{listed} on this computer.",
                "Close the other program (or another ArchPal window signing in), then try again.") from last
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                         name="archpal-loopback", daemon=True).start()
        return self

    def _finish(self, result: Redirect | BaseException) -> bool:
        with self._lock:
            if self._done.is_set():
                return False
            self._result = result
            self._done.set()
            return True

    def cancel(self) -> None:
        """Stop waiting (the person pressed Cancel); ``wait`` raises BrowserCancelledError."""
        self._finish(BrowserCancelledError())

    def wait(self, timeout: float) -> str:
        """The authorization code, or an ArchPal error; the listener is closed either way."""
        try:
            if not self._done.wait(timeout):
                self._finish(BrowserTimeoutError())
            result = self._result
        finally:
            self.close()
        if isinstance(result, BaseException):
            raise result
        assert isinstance(result, Redirect)
        if result.error:
            raise SignInDeniedError.from_redirect(result.error, result.error_description)
        return result.code

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            # called by the waiting thread, never by a request handler: shutdown() returns
            # once serve_forever has, and the port is free when close() returns
            server.shutdown()
            server.server_close()

    def _handler(self):
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args) -> None:  # the query holds the code: never logged
                pass

            def _answer(self, status: int, title: str, detail: str) -> None:
                body = _PAGE.format(title=html.escape(title), detail=html.escape(detail)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != listener.path:
                    self._answer(404, "Not found", "This address is not part of a sign-in.")
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                # an error without any state (some providers drop it from error redirects,
                # against RFC 6749 4.1.2.1) can only end this attempt, never sign anyone in,
                # so it is reported as what it says; a code always needs our state
                stateless_error = "state" not in query and query.get("error") and not query.get("code")
                if not secrets.compare_digest(str(query.get("state", "")), listener.state) \
                        and not stateless_error:
                    ok = listener._finish(StateMismatchError())
                    self._answer(400, "This sign-in did not come from ArchPal",
                                 "Nothing was signed in. Go back to ArchPal and try again."
                                 if ok else "Go back to ArchPal.")
                    return
                redirect = Redirect(code=query.get("code", ""), error=query.get("error", ""),
                                    error_description=query.get("error_description", ""))
                if not redirect.code and not redirect.error:
                    redirect.error = "invalid_request"
                if not listener._finish(redirect):
                    self._answer(410, "This sign-in is already finished", "Go back to ArchPal.")
                    return
                if redirect.error:
                    self._answer(200, "Sign-in stopped", "You can go back to ArchPal.")
                else:
                    self._answer(200, "You are signed in", "You can go back to ArchPal.")

        return Handler


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


class SignedOutPage:
    """The page the browser lands on after the managed login's ``/logout``: "You are signed out
    of ArchPal". Answers one visit on its path, and closes then or after ``timeout`` seconds."""

    _open: set["SignedOutPage"] = set()
    _open_lock = threading.Lock()

    def __init__(self, port: int, path: str, timeout: float = 120.0, host: str = "127.0.0.1"):
        self.port, self.path, self.timeout, self.host = port, "/" + path.strip("/"), timeout, host
        self._server: _Server | None = None
        self.visited = threading.Event()
        self._closed = threading.Event()   # no socket of ours holds the port
        self._closed.set()

    @classmethod
    def waiting(cls) -> list["SignedOutPage"]:
        with cls._open_lock:
            return list(cls._open)

    @classmethod
    def close_all(cls) -> None:
        with cls._open_lock:
            pages = list(cls._open)
        for page in pages:
            page.close()

    def close(self) -> None:
        """Stop serving (the port is free when this returns, also when another thread, the
        page's own closing one, is closing it at the same moment); not from a request handler.
        The page stays in ``_open`` until its socket is closed, so close_all() waits for it."""
        with self._open_lock:
            server, self._server = self._server, None
        if server is None:
            self._closed.wait(5.0)
            return
        server.shutdown()
        server.server_close()
        with self._open_lock:
            self._open.discard(self)
        self._closed.set()

    def start(self) -> "SignedOutPage":
        page = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args) -> None:
                pass

            def do_GET(self) -> None:
                ours = urlsplit(self.path).path == page.path
                title, detail = (("You are signed out", "You can close this page.") if ours
                                 else ("Not found", ""))
                body = _PAGE.format(title=title, detail=detail).encode()
                self.send_response(200 if ours else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if ours:
                    page.visited.set()

        try:
            self._server = _Server((self.host, self.port), Handler)
        except OSError:
            log.info("the signed-out page's port is busy; the browser shows its own page")
            return self
        self._closed.clear()
        with self._open_lock:
            self._open.add(self)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                         name="archpal-signed-out", daemon=True).start()
        threading.Thread(target=self._close_later, name="archpal-signed-out-close",
                         daemon=True).start()
        return self

    def _close_later(self) -> None:
        self.visited.wait(self.timeout)
        self.close()
