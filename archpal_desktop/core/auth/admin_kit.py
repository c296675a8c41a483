"""The admin kit's sign-in parts (issue 13 point 6): what the app client needs for the browser
sign-in, applied to an existing client (``admin setup-sign-in``), and ``doctor``'s checks.

The app client may be the web app's own public client: its settings are read first and only
added to (its callback and sign-out URLs, flows and scopes are kept), because
UpdateUserPoolClient resets every setting it is not given.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests

from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth import browser, oidc
from archpal_desktop.core.errors import ArchPalError, map_exception

SCOPES = ["openid", "email", "profile"]
#: seconds a rotated refresh token stays usable, so a renewal lost on a flaky network can retry
ROTATION_GRACE = 10

#: the UpdateUserPoolClient fields that DescribeUserPoolClient returns and that must be sent back
_KEPT = ("ClientName", "RefreshTokenValidity", "AccessTokenValidity", "IdTokenValidity",
         "TokenValidityUnits", "ReadAttributes", "WriteAttributes", "ExplicitAuthFlows",
         "SupportedIdentityProviders", "CallbackURLs", "LogoutURLs", "DefaultRedirectURI",
         "AllowedOAuthFlows", "AllowedOAuthScopes", "AllowedOAuthFlowsUserPoolClient",
         "AnalyticsConfiguration", "PreventUserExistenceErrors", "EnableTokenRevocation",
         "EnablePropagateAdditionalUserContextData", "AuthSessionValidity",
         "RefreshTokenRotation")


def _union(*lists) -> list[str]:
    return list(dict.fromkeys(x for items in lists for x in (items or [])))


def desired(settings: cfg.Settings) -> dict[str, Any]:
    """What the desktop needs on its app client (the template sets the same)."""
    providers = [p for p in (str(settings[cfg.IDENTITY_PROVIDER] or "").strip(),) if p]
    return {
        "CallbackURLs": browser.callback_urls(settings),
        "LogoutURLs": browser.sign_out_urls(settings),
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": SCOPES,
        "SupportedIdentityProviders": ["COGNITO", *providers],
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
        "EnableTokenRevocation": True,
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": ROTATION_GRACE},
    }


def merged(current: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    """UpdateUserPoolClient parameters: the client as it is, plus what the desktop needs."""
    out = {k: current[k] for k in _KEPT if k in current}
    for key in ("CallbackURLs", "LogoutURLs", "AllowedOAuthFlows", "AllowedOAuthScopes",
                "SupportedIdentityProviders", "ExplicitAuthFlows"):
        out[key] = _union(current.get(key), want[key])
    for key in ("AllowedOAuthFlowsUserPoolClient", "EnableTokenRevocation", "RefreshTokenRotation"):
        out[key] = want[key]
    return out


def setup_sign_in(idp, pool_id: str, client_id: str, settings: cfg.Settings) -> list[str]:
    """Add the desktop's browser sign-in to an existing app client; returns what changed."""
    current = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    if current.get("ClientSecret"):
        raise ArchPalError("This app client has a secret, which a desktop app cannot keep.",
                           "Use the web app's public client, or create a public one (the "
                           "CloudFormation template's DesktopAppClient).")
    params = merged(current, desired(settings))
    changes = [f"{key}: added {', '.join(map(str, sorted(set(params[key]) - set(current.get(key) or []))))}"
               for key in ("CallbackURLs", "LogoutURLs", "AllowedOAuthFlows", "AllowedOAuthScopes",
                           "SupportedIdentityProviders", "ExplicitAuthFlows")
               if set(params[key]) - set(current.get(key) or [])]
    if current.get("RefreshTokenRotation") != params["RefreshTokenRotation"]:
        changes.append("refresh-token rotation: on")
    idp.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, **params)
    return changes


def describe(settings: cfg.Settings) -> str:
    """The app-client settings in words, for an admin doing it in the console."""
    want = desired(settings)
    return "\n".join([
        "App client (the web app's public client, or a new one without a secret):",
        "  Allowed callback URLs:  " + ", ".join(want["CallbackURLs"]),
        "  Allowed sign-out URLs:  " + ", ".join(want["LogoutURLs"]),
        "  OAuth grant types:      Authorization code grant (PKCE is used by the app)",
        "  OpenID Connect scopes:  " + ", ".join(want["AllowedOAuthScopes"]),
        "  Identity providers:     " + ", ".join(want["SupportedIdentityProviders"]),
        "  Refresh-token rotation: on (grace period "
        f"{ROTATION_GRACE} s); token revocation: on",
        "Site file: cognito_domain = \"<your sign-in domain>\" (the web app's value); optionally "
        "identity_provider = \"<the IdP's name in the pool>\" to go straight to the university's "
        "sign-in.",
    ])


# -- doctor -------------------------------------------------------------------------------------
def sign_in_checks(settings: cfg.Settings) -> list[dict[str, str]]:
    """``doctor``'s checks of the browser sign-in: discovery, the domain, the callback URL.
    Empty when the site signs in with passwords only."""
    if not settings[cfg.COGNITO_USER_POOL_ID] or browser.sign_in_mode(settings) == "password":
        return []
    try:
        provider = browser.cognito_provider(settings)
    except ArchPalError as exc:
        return [{"name": "sign-in discovery", "status": "fail", "detail": exc.message,
                 "fix": exc.hint, "code": exc.code}]
    checks = [{"name": "sign-in discovery", "status": "ok",
               "detail": f"the user pool publishes its OpenID configuration ({provider.issuer})"}]
    try:
        browser.check_domain(provider)
    except ArchPalError as exc:
        return checks + [{"name": "sign-in domain", "status": "fail", "detail": exc.message,
                          "fix": exc.hint, "code": exc.code}]
    checks.append({"name": "sign-in domain", "status": "ok",
                   "detail": f"{provider.authorization_endpoint} answers"})
    for url in browser.callback_urls(settings):
        checks.append(_callback_check(provider, settings[cfg.COGNITO_CLIENT_ID], url))
    return checks


def _callback_check(provider: oidc.Provider, client_id: str, url: str) -> dict[str, str]:
    """Ask the authorize endpoint itself (no admin credentials needed): Cognito refuses an
    unregistered redirect with ``redirect_mismatch`` before showing any sign-in page."""
    query = urlencode({"client_id": client_id, "response_type": "code", "scope": "openid",
                       "redirect_uri": url, "state": "doctor", "code_challenge_method": "S256",
                       "code_challenge": "doctor-check-doctor-check-doctor-check-doctor"})
    try:
        resp = requests.get(f"{provider.authorization_endpoint}?{query}", allow_redirects=False,
                            timeout=oidc.HTTP_TIMEOUT)
    except requests.RequestException as exc:
        err = map_exception(exc)
        return {"name": "sign-in callback", "status": "fail", "detail": err.message, "fix": err.hint}
    said = (resp.headers.get("Location") or "") + resp.text[:2000]
    if "redirect_mismatch" in said or "invalid_client" in said or resp.status_code >= 400:
        why = "the app client is unknown" if "invalid_client" in said else "it is not registered"
        return {"name": "sign-in callback", "status": "fail",
                "detail": f"The sign-in page refuses the callback URL {url}: {why}.",
                "fix": f"Add {url} to the app client's allowed callback URLs "
                       "('archpal-desktop admin setup-sign-in' does it)."}
    return {"name": "sign-in callback", "status": "ok", "detail": f"{url} is registered"}
