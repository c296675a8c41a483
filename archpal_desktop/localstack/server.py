"""moto's server on loopback, inside this process (or a child process for benchmarks)."""
from __future__ import annotations

import logging
import os
import socket
import threading
from http.server import ThreadingHTTPServer

import requests

from archpal_desktop.core import localauth

log = logging.getLogger(__name__)

#: Dummy credentials for the local backend. moto accepts anything; these are not secrets.
LOCAL_ACCESS_KEY = "testing"
LOCAL_SECRET_KEY = "testing"

ENDPOINT_VARS = (
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
    "AWS_ENDPOINT_URL_COGNITO_IDENTITY",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_DYNAMODB",   # the coach relay's counters and the change feed
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """moto's threaded server bound to 127.0.0.1 on a free port.

    With a ``secret`` (the demo), every request must carry it (:mod:`archpal_desktop.core.localauth`)
    and moto's management API (``/moto-api/``: a dump of every object, the demo password
    included, and a reset) is not served at all."""

    def __init__(self, port: int = 0, secret: str | None = None):
        self.port = port or free_port()
        self.secret = secret
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "MotoServer":
        from moto.server import ThreadedMotoServer

        quiet_moto()
        if self.secret:
            localauth.register(self.port, self.secret)
            self._server = _GuardedMotoServer(self.secret, ip_address="127.0.0.1", port=self.port,
                                              verbose=False)
        else:
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.secret:
            localauth.unregister(self.port)

    def reset(self) -> None:
        """Forget every bucket, pool and object (moto's own reset; in this process when the
        management API is off)."""
        if self.secret:
            from moto.moto_api._internal.models import moto_api_backend

            moto_api_backend.reset()
            return
        requests.post(f"{self.url}/moto-api/reset", timeout=10)

    def endpoint_env(self) -> dict[str, str]:
        env = {name: self.url for name in ENDPOINT_VARS}
        return env


def guard_wsgi(app, secret: str):
    """A WSGI app that answers 403 without the secret header and 404 for moto's management API."""
    import hmac

    environ_key = "HTTP_" + localauth.HEADER.upper().replace("-", "_")

    def guarded(environ, start_response):
        given = environ.get(environ_key, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            start_response("403 Forbidden", [("Content-Type", "text/plain"), ("Content-Length", "9")])
            return [b"Forbidden"]
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
            return [b"Not Found"]
        return app(environ, start_response)
    return guarded


def _guarded_moto_server_class():
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                               create_backend_app)
    from werkzeug.serving import make_server

    class Guarded(ThreadedMotoServer):
        def __init__(self, secret: str, **kwargs):
            super().__init__(**kwargs)
            self._secret = secret

        def _server_entry(self) -> None:  # as moto's own, with the guard around the app
            app = guard_wsgi(DomainDispatcherApplication(create_backend_app), self._secret)
            self._server = make_server(self._ip_address, self._port, app, True,
                                       request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()
    return Guarded


def _GuardedMotoServer(secret: str, **kwargs):  # noqa: N802 - a class made on first use
    return _guarded_moto_server_class()(secret, **kwargs)


def quiet_moto() -> None:
    """Trim costs moto's server pays on every request, which on a 2-core machine take CPU from
    the client being tested (real S3 spends none of the laptop's), without changing an answer:

    - werkzeug formats and writes an access-log line per request: kept to warnings;
    - moto lists its own package folder (``os.listdir`` and ~250 ``isdir`` calls, under a lock)
      to route each request: the folder cannot change while the server runs, so it is listed once;
    - then it tries its services' URL patterns one by one against the host it inferred: the
      answer for a host never changes either, so it is remembered.
    """
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.WARNING)
    listing = getattr(backends.list_of_moto_modules, "archpal_listed", None)
    if listing is None:
        listing = tuple(backends.list_of_moto_modules())

        def list_of_moto_modules():
            return listing

        list_of_moto_modules.archpal_listed = listing
        backends.list_of_moto_modules = list_of_moto_modules
    if not getattr(DomainDispatcherApplication.get_backend_for_host, "archpal_memo", False):
        find = DomainDispatcherApplication.get_backend_for_host
        found: dict = {}

        def get_backend_for_host(self, host):
            if host not in found:
                found[host] = find(self, host)
            return found[host]

        get_backend_for_host.archpal_memo = True
        DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


def main(argv: list[str] | None = None) -> int:
    """``python -m archpal_desktop.localstack.server --port N``: moto's own server
    (``moto.server.main``) in this process, with :func:`quiet_moto` applied. The benchmarks run
    it as a child process."""
    import argparse

    parser = argparse.ArgumentParser(prog="archpal-moto")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # no browser ever talks to this server: skip the CORS headers moto adds to every answer
    # (read by moto when it is imported, hence before the import)
    os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "true")
    from moto.server import main as moto_main

    quiet_moto()
    moto_main(["-H", args.host, "-p", str(args.port)])
    return 0


class QuietServer(ThreadingHTTPServer):
    """A client hanging up mid-request (stopped stream, killed test process) is routine here:
    log it, do not print a traceback."""

    def handle_error(self, request, client_address) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            log.debug("client %s went away: %r", client_address, exc)
            return
        super().handle_error(request, client_address)


def serve_loopback(handler, name: str, port: int = 0,
                   server_cls: type[ThreadingHTTPServer] = QuietServer) -> ThreadingHTTPServer:
    """Serve ``handler`` on 127.0.0.1 from a daemon thread (our local endpoints and proxy)."""
    httpd = server_cls(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name=name,
                     daemon=True).start()
    return httpd


def shutdown_server(httpd: ThreadingHTTPServer | None) -> None:
    if httpd is not None:
        httpd.shutdown()
        httpd.server_close()


def local_aws_env(endpoints: dict[str, str], region: str = "us-east-1") -> dict[str, str]:
    """Environment that points boto3 at the local backend with dummy credentials."""
    env = dict(endpoints)
    env.update({
        "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
        "AWS_DEFAULT_REGION": region,
        # keep the developer's ~/.aws out of local runs
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


_env_lock = threading.Lock()


def apply_environ(values: dict[str, str]) -> dict[str, str | None]:
    """Set ``values`` in os.environ; returns what they replaced, for :func:`restore_environ`."""
    with _env_lock:
        saved = {k: os.environ.get(k) for k in values}
        os.environ.update(values)
    return saved


def restore_environ(saved: dict[str, str | None]) -> None:
    with _env_lock:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


if __name__ == "__main__":
    raise SystemExit(main())
