"""The per-run secret of the embedded local servers (``--demo``: moto, the ConverseStream and
OpenAI-compatible endpoints, the fault proxy).

Those servers listen on 127.0.0.1, where every local user can connect; each one started with a
secret refuses a request without ``X-ArchPal-Local-Secret: <secret>``. This process's clients
add the header, and only to the loopback ports registered here (a listener another user put on
some other port never sees it): botocore's clients through a ``before-send`` handler that every
botocore session gets (``botocore.handlers.BUILTIN_HANDLERS``, read by each new session), the
app's own requests through :func:`headers_for`.
"""
from __future__ import annotations

import secrets
import threading
from urllib.parse import urlsplit

HEADER = "X-ArchPal-Local-Secret"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_lock = threading.Lock()
_ports: dict[int, str] = {}   # our servers' ports -> their secret
_installed = False


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def register(port: int, secret: str) -> None:
    """Our server with ``secret`` listens on ``port``: this process's clients send it there."""
    with _lock:
        _ports[int(port)] = secret
    install_botocore_handler()


def unregister(port: int) -> None:
    with _lock:
        _ports.pop(int(port), None)


def secret_for(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None
    if host not in _LOOPBACK or port is None:
        return None
    with _lock:
        return _ports.get(port)


def headers_for(url: str) -> dict[str, str]:
    secret = secret_for(url)
    return {HEADER: secret} if secret else {}


def _add_header(request=None, **_kwargs) -> None:
    if request is not None:
        secret = secret_for(getattr(request, "url", ""))
        if secret:
            request.headers[HEADER] = secret


def install_botocore_handler() -> None:
    """Every botocore session created from now on adds the header (sessions made earlier, such
    as boto3's default one, are reset so the next call makes a new one)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    import boto3
    from botocore import handlers

    handlers.BUILTIN_HANDLERS.append(("before-send", _add_header))
    boto3.DEFAULT_SESSION = None
