"""A local stand-in for Cognito's managed login (the "hosted UI"), for ``--demo`` and the tests.

moto implements the user-pool API but not the sign-in domain, so this small server plays that
part on 127.0.0.1 in front of moto's own pools, in the same process: it answers the endpoints a
real domain answers (``/oauth2/authorize``, ``/oauth2/token``, ``/oauth2/revoke``, ``/logout``),
checks what Cognito checks (the client exists, the redirect and sign-out URLs are registered on
it exactly, PKCE with S256 and the verifier, one-use codes bound to the client and redirect),
shows a sign-in form for the pool's users (their moto password), and returns tokens minted by
moto's pool, so refresh, GetUser, identity-pool credentials and JWKS checks are moto's.

It also gives moto the ``RevokeToken`` API it lacks (``install_revoke_token``), with the
behaviour AWS documents: the refresh token stops working.

Nothing here is a production path: the app reaches it only through the ``cognito_domain``
setting, exactly as it reaches a university's real domain.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from archpal_desktop.localstack.server import serve_loopback, shutdown_server

log = logging.getLogger(__name__)

CODE_LIFETIME = 300
_COOKIE = "archpal_hosted"


def _backend(region: str):
    # moto's pool backend lives beside the federation code, which needs it too (one way only:
    # hosted_login imports hosted_federation, never the reverse)
    from archpal_desktop.localstack.hosted_federation import cognito_backend
    return cognito_backend(region)


def _find_client(region: str, client_id: str):
    for pool in list(_backend(region).user_pools.values()):
        client = pool.clients.get(client_id)
        if client is not None:
            return pool, client
    return None, None


def install_revoke_token() -> None:
    """moto has no RevokeToken: add it (idempotent) so local sign-out is tested for real."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.responses import CognitoIdpResponse

    if getattr(CognitoIdpResponse, "archpal_revoke", False):
        return

    def revoke_token(self):
        token, client_id = self._get_param("Token"), self._get_param("ClientId")
        for pool in list(self.backend.user_pools.values()):
            entry = pool.refresh_tokens.get(token)
            if entry is not None:
                if entry[0] != client_id:
                    raise NotAuthorizedError("The token was issued to another client.")
                pool.refresh_tokens[token] = None
        return "{}"

    CognitoIdpResponse.revoke_token = revoke_token
    CognitoIdpResponse.archpal_revoke = True


@dataclass
class _Pending:
    region: str
    client_id: str
    redirect_uri: str
    state: str
    challenge: str
    nonce: str
    scope: str


@dataclass
class _Code:
    pending: _Pending
    username: str
    email: str
    expires: float


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><h1>Sign in (local stand-in for the university sign-in page)</h1>
<p id="error" style="color:#b3261e">{error}</p>
<form method="post" action="/login" id="login">
<input type="hidden" name="request" value="{request}">
<label>E-mail <input name="username" id="username" type="email" value="{username}"></label>
<label>Password <input name="password" id="password" type="password"></label>
<button type="submit" name="action" value="sign_in" id="sign_in">Sign in</button>
<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>
</form></body></html>"""


class HostedLogin:
    """The stand-in server; ``url`` is what ``cognito_domain`` is set to."""

    def __init__(self, region: str = "us-east-1"):
        self.region = region
        self._httpd = None
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, _Code] = {}
        self._sessions: dict[str, tuple[str, str]] = {}  # cookie -> (client pool id, username)
        self._lock = threading.Lock()
        self.revoked: list[str] = []  # jti-free record for tests: count of revocations
        self.upstreams: dict = {}  # identity_provider name -> hosted_federation.Upstream

    def add_identity_provider(self, name: str, issuer: str, client_id: str,
                              client_secret: str = "") -> None:
        """Federate to an upstream OpenID provider under ``name`` (localstack/hosted_federation)."""
        from archpal_desktop.localstack.hosted_federation import Upstream

        self.upstreams[name] = Upstream(name, issuer, client_id, client_secret)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> "HostedLogin":
        install_revoke_token()
        self._httpd = serve_loopback(self._handler(), "archpal-hosted-login")
        return self

    def stop(self) -> None:
        shutdown_server(self._httpd)
        self._httpd = None

    # -- what the endpoints do -------------------------------------------------------------
    def _authorize(self, q: dict[str, str], cookie: str) -> tuple[int, dict[str, str], str]:
        pool, client = _find_client(self.region, q.get("client_id", ""))
        if client is None:
            return 400, {}, "<h1>An error was encountered</h1><p>invalid_client</p>"
        conf = client.extended_config
        if q.get("redirect_uri") not in (conf.get("CallbackURLs") or []):
            return 400, {}, "<h1>An error was encountered</h1><p>redirect_mismatch</p>"
        if "code" not in (conf.get("AllowedOAuthFlows") or []):
            return self._error_redirect(q, "unauthorized_client")
        if q.get("response_type") != "code":
            return self._error_redirect(q, "unsupported_response_type")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return self._error_redirect(q, "invalid_request", "PKCE with S256 is required")
        scopes = set(q.get("scope", "").split())
        if "openid" not in scopes or not scopes <= set(conf.get("AllowedOAuthScopes") or []):
            return self._error_redirect(q, "invalid_scope")
        pending = _Pending(self.region, client.id, q["redirect_uri"], q.get("state", ""),
                           q["code_challenge"], q.get("nonce", ""), q.get("scope", ""))
        upstream = self.upstreams.get(q.get("identity_provider", ""))
        if upstream is not None:
            if upstream.name not in (conf.get("SupportedIdentityProviders") or []):
                return self._error_redirect(q, "invalid_request", "identity provider not enabled")
            return upstream.begin(pending, f"{self.url}/oauth2/idpresponse")
        with self._lock:
            known = self._sessions.get(cookie)
        if known and known[0] == pool.id:   # the managed login remembers who signed in
            user = pool.users.get(known[1])
            if user is not None:
                return self._issue(pending, user)
        rid = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[rid] = pending
        return 200, {}, _FORM.format(request=rid, error="", username="")

    @staticmethod
    def _error_redirect(q: dict[str, str], error: str, description: str = ""):
        query = {"error": error, "state": q.get("state", "")}
        if description:
            query["error_description"] = description
        return 302, {"Location": f"{q['redirect_uri']}?{urlencode(query)}"}, ""

    def _login(self, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
        with self._lock:
            pending = self._pending.get(form.get("request", ""))
        if pending is None:
            return 400, {}, "<h1>This sign-in has expired</h1>"
        if form.get("action") == "cancel":
            with self._lock:
                self._pending.pop(form["request"], None)
            query = urlencode({"error": "access_denied", "state": pending.state})
            return 302, {"Location": f"{pending.redirect_uri}?{query}"}, ""
        pool, _ = _find_client(self.region, pending.client_id)
        user = pool._get_user(form.get("username", "").strip().lower()) if pool else None
        if user is None or not user.enabled or user.password != form.get("password", ""):
            return 200, {}, _FORM.format(request=html.escape(form.get("request", "")),
                                         error="Incorrect username or password.",
                                         username=html.escape(form.get("username", "")))
        with self._lock:
            self._pending.pop(form["request"], None)
        status, headers, body = self._issue(pending, user)
        cookie = secrets.token_urlsafe(16)
        with self._lock:
            self._sessions[cookie] = (pool.id, user.username)
        headers["Set-Cookie"] = f"{_COOKIE}={cookie}; HttpOnly; Path=/; SameSite=Lax"
        return status, headers, body

    def _idp_response(self, q: dict[str, str]) -> tuple[int, dict[str, str], str]:
        from archpal_desktop.localstack.hosted_federation import federated_user

        for upstream in self.upstreams.values():
            found = upstream.finish(q)
            if found is not None:
                pending, claims = found
                pool, _ = _find_client(self.region, pending.client_id)
                return self._issue(pending, federated_user(pool, upstream.name, claims))
        return 400, {}, "<h1>An error was encountered</h1><p>invalid_state</p>"

    def _issue(self, pending: _Pending, user) -> tuple[int, dict[str, str], str]:
        code = secrets.token_urlsafe(24)
        email = user.attribute_lookup.get("email") or user.username
        with self._lock:
            self._codes[code] = _Code(pending, user.username, email, time.time() + CODE_LIFETIME)
        query = urlencode({"code": code, "state": pending.state})
        return 302, {"Location": f"{pending.redirect_uri}?{query}"}, ""

    def _tokens(self, pool, client_id: str, username: str, email: str, refresh: str,
                origin_jti: str, nonce: str = "") -> dict[str, Any]:
        access, expires = pool.create_access_token(client_id, username, origin_jti)
        extra = {"email": email, "email_verified": True, "origin_jti": origin_jti}
        if nonce:
            extra["nonce"] = nonce
        id_token, _ = pool.create_jwt(client_id, username, "id", extra_data=extra)
        pool.id_tokens[id_token] = (client_id, username)
        return {"id_token": id_token, "access_token": access, "refresh_token": refresh,
                "token_type": "Bearer", "expires_in": expires}

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type")
        pool, client = _find_client(self.region, form.get("client_id", ""))
        if client is None:
            return 400, {"error": "invalid_client"}
        if grant == "authorization_code":
            with self._lock:
                entry = self._codes.pop(form.get("code", ""), None)  # one use
            if (entry is None or entry.expires < time.time()
                    or entry.pending.client_id != client.id
                    or entry.pending.redirect_uri != form.get("redirect_uri")):
                return 400, {"error": "invalid_grant"}
            if _s256(form.get("code_verifier", "")) != entry.pending.challenge:
                return 400, {"error": "invalid_grant"}
            refresh, origin_jti = pool.create_refresh_token(client.id, entry.username)
            return 200, self._tokens(pool, client.id, entry.username, entry.email, refresh,
                                     origin_jti, entry.pending.nonce)
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            held = pool.refresh_tokens.get(old)
            if held is None or held[0] != client.id:
                return 400, {"error": "invalid_grant"}
            _, username, origin_jti = held
            # refresh-token rotation, as the admin kit sets on the app client
            pool.refresh_tokens[old] = None
            refresh, origin_jti = pool.create_refresh_token(client.id, username)
            user = pool.users.get(username)
            email = (user.attribute_lookup.get("email") if user else "") or username
            return 200, self._tokens(pool, client.id, username, email, refresh, origin_jti)
        return 400, {"error": "unsupported_grant_type"}

    def _revoke(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        pool, client = _find_client(self.region, form.get("client_id", ""))
        if client is None:
            return 400, {"error": "invalid_client"}
        token = form.get("token", "")
        held = pool.refresh_tokens.get(token)
        if held is not None and held[0] != client.id:
            return 400, {"error": "unauthorized_client"}
        if held is not None:
            pool.refresh_tokens[token] = None
            self.revoked.append(client.id)
        return 200, {}

    def _logout(self, q: dict[str, str], cookie: str) -> tuple[int, dict[str, str], str]:
        _, client = _find_client(self.region, q.get("client_id", ""))
        if client is None or q.get("logout_uri") not in (client.extended_config.get("LogoutURLs") or []):
            return 400, {}, "<h1>An error was encountered</h1><p>logout_uri not registered</p>"
        with self._lock:
            self._sessions.pop(cookie, None)
        return 302, {"Location": q["logout_uri"],
                     "Set-Cookie": f"{_COOKIE}=; Max-Age=0; Path=/"}, ""

    # -- HTTP ------------------------------------------------------------------------------
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args) -> None:  # queries hold codes: never logged
                pass

            def _cookie(self) -> str:
                for part in (self.headers.get("Cookie") or "").split(";"):
                    name, _, value = part.strip().partition("=")
                    if name == _COOKIE:
                        return value
                return ""

            def _send(self, status: int, headers: dict[str, str], body: str,
                      ctype: str = "text/html; charset=utf-8") -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def _json(self, status: int, doc: dict) -> None:
                self._send(status, {}, json.dumps(doc), "application/json")

            def _form(self) -> dict[str, str]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                return {k: v[0] for k, v in parse_qs(raw).items()}

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/oauth2/authorize":
                    if not q:
                        self._send(400, {}, "<h1>An error was encountered</h1>")
                        return
                    self._send(*server._authorize(q, self._cookie()))
                elif parts.path == "/oauth2/idpresponse":
                    self._send(*server._idp_response(q))
                elif parts.path == "/logout":
                    self._send(*server._logout(q, self._cookie()))
                else:
                    self._send(404, {}, "<h1>Not found</h1>")

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                form = self._form()
                if path == "/login":
                    self._send(*server._login(form))
                elif path == "/oauth2/token":
                    self._json(*server._token(form))
                elif path == "/oauth2/revoke":
                    status, doc = server._revoke(form)
                    self._json(status, doc)
                else:
                    self._send(404, {}, "<h1>Not found</h1>")

        return Handler


def browser_client_config(callback_urls: list[str], logout_urls: list[str]) -> dict[str, Any]:
    """The app-client settings the admin kit asks for (issue 13 point 6), for moto's pools."""
    return {"AllowedOAuthFlows": ["code"], "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthScopes": ["openid", "email", "profile"],
            "CallbackURLs": callback_urls, "LogoutURLs": logout_urls,
            "SupportedIdentityProviders": ["COGNITO"],
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}
