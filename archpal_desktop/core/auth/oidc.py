"""A provider-neutral OpenID Connect browser sign-in for a native app (RFC 8252 + RFC 7636).

authlib builds the authorization request (PKCE S256 from a fresh verifier, ``state``, ``nonce``)
and performs the code exchange and revocation (RFC 7009); this module adds what a desktop app
needs around them: discovery, the loopback listener, errors in words, and ID-token checks.
Nothing here knows Cognito (core/auth/browser.py does), so the same code signs in against any
standard provider; the tests run it against an independent one.

No code, token, verifier or nonce is ever logged or written: reprs hide them and the loopback
handler does not log requests.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

import jwt
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from archpal_desktop.core import localauth
from archpal_desktop.core.auth.errors import SignInDeniedError, SignInDomainError
from archpal_desktop.core.auth.loopback import DEFAULT_PATH, DEFAULT_PORTS, LoopbackListener
from archpal_desktop.core.errors import OfflineError

log = logging.getLogger(__name__)

SCOPES = "openid email profile"
#: how long the app waits for the browser before saying so (a person reading, typing, MFA)
DEFAULT_TIMEOUT = 300.0
HTTP_TIMEOUT = 10


@dataclass
class Provider:
    """The endpoints of one provider, from its discovery document (and the site's domain)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str = ""
    end_session_endpoint: str = ""


def get_json(url: str, *, what: str) -> dict[str, Any]:
    """GET a JSON document; the network's failures become OfflineError, a wrong answer
    SignInDomainError naming ``what``."""
    try:
        resp = requests.get(url, timeout=HTTP_TIMEOUT, headers=localauth.headers_for(url))
    except requests.RequestException as exc:
        raise OfflineError() from exc
    if resp.status_code != 200:
        raise SignInDomainError(f"{what} could not be read (HTTP {resp.status_code} from {url}).",
                                "Check cognito_user_pool_id, cognito_region and cognito_domain, "
                                "or ask your IT administrator.")
    try:
        doc = resp.json()
    except ValueError:
        raise SignInDomainError(f"{what} at {url} is not valid JSON.") from None
    if not isinstance(doc, dict):
        raise SignInDomainError(f"{what} at {url} is malformed.")
    return doc


def discover(issuer_url: str) -> dict[str, Any]:
    """The provider's OpenID configuration (``<issuer>/.well-known/openid-configuration``)."""
    return get_json(issuer_url.rstrip("/") + "/.well-known/openid-configuration",
                    what="The sign-in service's configuration")


def provider_from(doc: dict[str, Any]) -> Provider:
    try:
        return Provider(issuer=str(doc["issuer"]),
                        authorization_endpoint=str(doc["authorization_endpoint"]),
                        token_endpoint=str(doc["token_endpoint"]), jwks_uri=str(doc["jwks_uri"]),
                        revocation_endpoint=str(doc.get("revocation_endpoint") or ""),
                        end_session_endpoint=str(doc.get("end_session_endpoint") or ""))
    except KeyError as exc:
        raise SignInDomainError(f"The sign-in service's configuration lists no {exc.args[0]}.",
                                "Ask your IT administrator to set up the sign-in domain.") from None


def _map_oauth(exc: BaseException) -> BaseException:
    if isinstance(exc, requests.RequestException):
        return OfflineError()
    if isinstance(exc, OAuthError):
        return SignInDeniedError.from_redirect(exc.error or "invalid_grant", exc.description or "")
    return exc


@dataclass
class BrowserFlow:
    """One authorization-code + PKCE sign-in: ``start()`` -> the URL to open; ``wait_code()``;
    ``exchange(code)`` -> the token response. Secrets are fields hidden from repr."""

    provider: Provider
    client_id: str
    ports: tuple[int, ...] = DEFAULT_PORTS
    path: str = DEFAULT_PATH
    scope: str = SCOPES
    extra: dict[str, str] = field(default_factory=dict)  # e.g. identity_provider
    #: only for a provider that refuses public clients at its token endpoint (the tests'
    #: independent provider does); ArchPal's Cognito app client is public and has none
    client_secret: str = field(default="", repr=False)
    state: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(64), repr=False)
    url: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        self.listener = LoopbackListener(self.state, self.ports, self.path)
        self._client: OAuth2Session | None = None

    @property
    def redirect_uri(self) -> str:
        return self.listener.redirect_uri

    def start(self) -> str:
        self.listener.start()
        self._client = OAuth2Session(self.client_id, self.client_secret or None, scope=self.scope,
                                     redirect_uri=self.listener.redirect_uri,
                                     code_challenge_method="S256",
                                     token_endpoint_auth_method=("client_secret_post"
                                                                 if self.client_secret else "none"))
        extra = {k: v for k, v in self.extra.items() if v}
        self.url, _ = self._client.create_authorization_url(
            self.provider.authorization_endpoint, state=self.state, code_verifier=self.verifier,
            nonce=self.nonce, **extra)
        return self.url

    def cancel(self) -> None:
        self.listener.cancel()

    def wait_code(self, timeout: float = DEFAULT_TIMEOUT) -> str:
        return self.listener.wait(timeout)

    def exchange(self, code: str) -> dict[str, Any]:
        assert self._client is not None, "start() first"
        try:
            token = self._client.fetch_token(self.provider.token_endpoint, grant_type="authorization_code",
                                             code=code, code_verifier=self.verifier,
                                             timeout=HTTP_TIMEOUT)
        except Exception as exc:
            raise _map_oauth(exc) from None
        return dict(token)


def refresh(provider: Provider, client_id: str, refresh_token: str) -> dict[str, Any]:
    """New tokens from a refresh token at the token endpoint (rotation: may hold a new one)."""
    client = OAuth2Session(client_id, token_endpoint_auth_method="none")
    try:
        return dict(client.refresh_token(provider.token_endpoint, refresh_token=refresh_token,
                                         timeout=HTTP_TIMEOUT))
    except Exception as exc:
        raise _map_oauth(exc) from None


def revoke(provider: Provider, client_id: str, refresh_token: str) -> None:
    """RFC 7009 revocation of a refresh token; raises OfflineError when unreachable."""
    if not provider.revocation_endpoint:
        raise SignInDomainError("The sign-in service offers no way to revoke a session.")
    client = OAuth2Session(client_id, revocation_endpoint_auth_method="none")
    try:
        resp = client.revoke_token(provider.revocation_endpoint, token=refresh_token,
                                   token_type_hint="refresh_token", timeout=HTTP_TIMEOUT)
    except Exception as exc:
        raise _map_oauth(exc) from None
    if resp.status_code >= 400:
        try:
            err = resp.json()
        except ValueError:
            err = {}
        raise SignInDeniedError.from_redirect(str(err.get("error") or f"HTTP {resp.status_code}"),
                                              str(err.get("error_description") or ""))


def verify_id_token(id_token: str, *, provider: Provider, client_id: str, nonce: str,
                    keys: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Claims of an ID token whose signature (the provider's JWKS), issuer, audience, expiry and
    nonce check out; SignInDeniedError otherwise."""
    from archpal_desktop.core.auth.tokens import LEEWAY, TokenError

    doc = keys() if keys else get_json(provider.jwks_uri, what="The sign-in keys")
    try:
        kid = jwt.get_unverified_header(id_token).get("kid")
    except jwt.PyJWTError:
        raise TokenError() from None
    # a header without "kid" may be checked against each of the provider's keys (OIDC core
    # 10.1: the kid is only required when the set holds several keys); with a kid, only that key
    candidates = [k for k in doc.get("keys", []) if isinstance(k, dict)
                  and (kid is None or k.get("kid") == kid) and k.get("use", "sig") == "sig"]
    claims = None
    for jwk in candidates:
        try:
            claims = jwt.decode(id_token, jwt.PyJWK(jwk), algorithms=["RS256", "ES256"],
                                audience=client_id, issuer=provider.issuer, leeway=LEEWAY,
                                options={"require": ["exp", "iss", "sub", "aud"]})
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            log.info("ID token refused: %s", type(exc).__name__)
            raise TokenError() from None
    if claims is None:
        raise TokenError()
    check_nonce(claims, nonce)
    return claims


def check_nonce(claims: dict[str, Any], nonce: str) -> None:
    from archpal_desktop.core.auth.tokens import TokenError

    if not nonce or not secrets.compare_digest(str(claims.get("nonce") or ""), nonce):
        raise TokenError("The sign-in answer does not belong to this sign-in (nonce).",
                         "Sign in again from ArchPal.")
