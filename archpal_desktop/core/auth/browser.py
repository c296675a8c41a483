"""Browser sign-in on the user pool's managed login page (issue 13; design section 3).

The pool's issuer (``https://cognito-idp.<region>.amazonaws.com/<pool>``, or wherever boto3's
``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`` points) publishes the OpenID configuration: its
issuer and JWKS. The endpoints a person's browser visits live on the pool's sign-in domain, the
web app's ``cognito_domain`` (``https://`` is added when the site file gives a bare host name);
without a domain setting they come from the discovery document, as Cognito lists them there
once a domain is attached to the pool.

Checks run in an order that makes each failure say the right thing: discovery first (no answer
means this computer is offline), then the domain (no answer while Cognito itself answers means a
mistyped domain), then the loopback ports, and only then is the browser opened.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import requests

from archpal_desktop.core import config as cfg, localauth
from archpal_desktop.core.auth import tokens
from archpal_desktop.core.auth import oidc
from archpal_desktop.core.auth.errors import SignInDomainError
from archpal_desktop.core.auth.loopback import DEFAULT_PATH, DEFAULT_PORTS

if TYPE_CHECKING:
    from archpal_desktop.core.auth.session import AuthSession

log = logging.getLogger(__name__)

MODES = ("browser", "password", "both")
SIGNED_OUT_PATH = "/archpal/signed-out"


def normalize_domain(raw: str) -> str:
    text = str(raw or "").strip().rstrip("/")
    if text and "://" not in text:
        text = "https://" + text
    return text


def sign_in_mode(settings: cfg.Settings) -> str:
    """``sign_in`` as set, else "browser" when the site has a sign-in domain, else "password"."""
    mode = str(settings[cfg.SIGN_IN] or "").strip().lower()
    if mode in MODES:
        return mode
    return "browser" if normalize_domain(settings[cfg.COGNITO_DOMAIN]) else "password"


def ports(settings: cfg.Settings) -> tuple[int, ...]:
    out = []
    for raw in settings[cfg.SIGN_IN_PORTS] or []:
        try:
            port = int(str(raw).strip())
        except ValueError:
            continue
        if 1024 <= port <= 65535:
            out.append(port)
    return tuple(out) or DEFAULT_PORTS


def callback_urls(settings: cfg.Settings) -> list[str]:
    """The URLs the admin registers on the app client (one per port)."""
    return [f"http://127.0.0.1:{p}{DEFAULT_PATH}" for p in ports(settings)]


def sign_out_urls(settings: cfg.Settings) -> list[str]:
    site = str(settings[cfg.SIGN_OUT_URL] or "").strip()
    return [site] if site else [f"http://127.0.0.1:{p}{SIGNED_OUT_PATH}" for p in ports(settings)[:1]]


def cognito_provider(settings: cfg.Settings) -> oidc.Provider:
    region, pool_id = settings.cognito_region(), settings[cfg.COGNITO_USER_POOL_ID]
    doc = oidc.discover(f"{tokens.cognito_endpoint(region)}/{pool_id}")
    if doc.get("issuer") != tokens.issuer(region, pool_id):
        raise SignInDomainError("The user pool's sign-in configuration names a different issuer.",
                                "Check cognito_user_pool_id and cognito_region in the settings.")
    domain = normalize_domain(settings[cfg.COGNITO_DOMAIN])
    if not domain and doc.get("authorization_endpoint"):
        parts = urlsplit(str(doc["authorization_endpoint"]))
        domain = f"{parts.scheme}://{parts.netloc}"
    if not domain:
        raise SignInDomainError("This site has no sign-in page set up.",
                                "Ask your IT administrator to set cognito_domain, or sign in "
                                "with your password.")
    if "jwks_uri" not in doc:
        doc["jwks_uri"] = f"{tokens.cognito_endpoint(region)}/{pool_id}/.well-known/jwks.json"
    return oidc.Provider(issuer=doc["issuer"], authorization_endpoint=f"{domain}/oauth2/authorize",
                         token_endpoint=f"{domain}/oauth2/token", jwks_uri=str(doc["jwks_uri"]),
                         revocation_endpoint=f"{domain}/oauth2/revoke",
                         end_session_endpoint=f"{domain}/logout")


def check_domain(provider: oidc.Provider) -> None:
    """Any HTTP answer from the sign-in domain will do; none (while Cognito answered) is a typo."""
    url = provider.authorization_endpoint
    try:
        requests.get(url, allow_redirects=False, timeout=oidc.HTTP_TIMEOUT,
                     headers=localauth.headers_for(url))
    except requests.RequestException:
        host = urlsplit(url).netloc
        raise SignInDomainError(
            f"The sign-in page at {host} could not be reached, although the sign-in service "
            "answers. The sign-in domain is probably mistyped.",
            "Check cognito_domain in the site settings, or ask your IT administrator.") from None


class BrowserSignIn:
    """One attempt: ``start()`` (network) -> URL to open; ``finish()`` blocks until the
    redirect, then signs ``session`` in; ``cancel()`` from any thread ends ``finish``."""

    def __init__(self, session: "AuthSession", timeout: float = oidc.DEFAULT_TIMEOUT):
        self.session = session
        self.timeout = timeout
        self.flow: oidc.BrowserFlow | None = None
        self._cancelled = False
        # a session that already belongs to someone (signing in again, or a cache opened
        # offline) may only be continued by that same person
        self.expect_sub = session.sub

    def __repr__(self) -> str:
        return f"<BrowserSignIn started={self.flow is not None}>"

    @property
    def url(self) -> str:
        return self.flow.url if self.flow else ""

    def start(self) -> str:
        settings = self.session.settings
        provider = self.session.provider()
        check_domain(provider)
        extra = {"identity_provider": str(settings[cfg.IDENTITY_PROVIDER] or "").strip(),
                 "idp_identifier": str(settings[cfg.IDP_IDENTIFIER] or "").strip()}
        self.flow = oidc.BrowserFlow(provider, self.session.client_id, ports=ports(settings),
                                     extra=extra)
        url = self.flow.start()
        if self._cancelled:
            self.flow.cancel()
        log.info("browser sign-in started (listening on %s)", self.flow.redirect_uri)
        return url

    def cancel(self) -> None:
        self._cancelled = True
        if self.flow is not None:
            self.flow.cancel()

    def close(self) -> None:
        """Give up an attempt nobody will finish (its window closed while it started)."""
        self.cancel()
        if self.flow is not None:
            self.flow.listener.close()

    def finish(self) -> "AuthSession":
        assert self.flow is not None, "start() first"
        code = self.flow.wait_code(self.timeout)
        token = self.flow.exchange(code)
        self.session.adopt_browser_tokens(token, nonce=self.flow.nonce, expect_sub=self.expect_sub)
        return self.session


def as_result(token: dict[str, Any]) -> dict[str, str]:
    """The token endpoint's answer in the shape of Cognito's AuthenticationResult."""
    result = {"IdToken": str(token.get("id_token") or ""),
              "AccessToken": str(token.get("access_token") or "")}
    if token.get("refresh_token"):
        result["RefreshToken"] = str(token["refresh_token"])
    return result


def hosted_logout_url(settings: cfg.Settings, client_id: str, provider: oidc.Provider) -> str:
    """``/logout`` with the registered sign-out URL: ends the managed login's own session
    (otherwise the next sign-in in that browser would go straight through as the same person).
    With no site sign-out URL, the browser comes back to a loopback page saying so."""
    target = sign_out_urls(settings)[0]
    parts = urlsplit(target)
    if parts.hostname == "127.0.0.1" and parts.port:
        from archpal_desktop.core.auth.loopback import SignedOutPage

        SignedOutPage(parts.port, parts.path).start()
    query = urlencode({"client_id": client_id, "logout_uri": target})
    return f"{provider.end_session_endpoint}?{query}"
