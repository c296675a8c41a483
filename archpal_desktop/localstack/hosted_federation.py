"""Federation for the local managed-login stand-in: an upstream OpenID Connect provider (the
university's identity provider) behind the pool's sign-in page, as Cognito federates to one.

``authorize?identity_provider=<name>`` sends the browser straight to the upstream provider; its
answer comes back to ``/oauth2/idpresponse``, where the stand-in exchanges the code (authlib,
confidential client), checks the upstream ID token, and links the person to the pool's user with
the same e-mail address (creating one when there is none, as Cognito creates a federated user),
then issues its own code to the app. The app sees only the pool's tokens, exactly as with Cognito.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from archpal_desktop.core.auth import oidc


@dataclass
class Upstream:
    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False, default="")
    _flows: dict[str, tuple[Any, oidc.BrowserFlow]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def begin(self, pending: Any, callback: str) -> tuple[int, dict[str, str], str]:
        provider = oidc.provider_from(oidc.discover(self.issuer))
        flow = oidc.BrowserFlow(provider, self.client_id, client_secret=self.client_secret)
        # the stand-in is the redirect target, not a loopback listener of its own
        from authlib.integrations.requests_client import OAuth2Session

        flow._client = OAuth2Session(self.client_id, self.client_secret, scope=oidc.SCOPES,
                                     redirect_uri=callback, code_challenge_method="S256",
                                     token_endpoint_auth_method="client_secret_post")
        key = secrets.token_urlsafe(16)
        url, _ = flow._client.create_authorization_url(
            provider.authorization_endpoint, state=key, code_verifier=flow.verifier,
            nonce=flow.nonce)
        with self._lock:
            self._flows[key] = (pending, flow)
        return 302, {"Location": url}, ""

    def finish(self, q: dict[str, str]) -> tuple[Any, dict[str, Any]] | None:
        """(the app's pending request, the upstream's verified claims), or None."""
        with self._lock:
            entry = self._flows.pop(q.get("state", ""), None)
        if entry is None or not q.get("code"):
            return None
        pending, flow = entry
        token = flow.exchange(q["code"])
        claims = oidc.verify_id_token(token["id_token"], provider=flow.provider,
                                      client_id=self.client_id, nonce=flow.nonce)
        return pending, claims


def cognito_backend(region: str):
    """moto's Cognito user-pool backend for ``region`` (the server runs in this process)."""
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    return cognitoidp_backends[DEFAULT_ACCOUNT_ID][region]


def federated_user(pool, name: str, claims: dict[str, Any]):
    """The pool's user for this federated person: linked by e-mail, else created."""
    email = str(claims.get("email") or "").strip().lower()
    user = pool._get_user(email) if email else None
    if user is not None:
        return user
    username = email or f"{name}_{claims['sub']}"
    attrs = [{"Name": "email", "Value": email}] if email else []
    return cognito_backend(pool.region).admin_create_user(pool.id, username, "SUPPRESS", "", attrs)
