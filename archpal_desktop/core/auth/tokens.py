"""Cognito JWT verification against the pool's JWKS (docs/ARCHITECTURE.md, "Auth, settings and safety").

A token is used only after :func:`verify` has checked its RS256 signature against the pool's
keys, the issuer (``https://cognito-idp.<region>.amazonaws.com/<pool>``), the audience (ID
token ``aud`` / access token ``client_id`` must be our app client), ``exp`` and ``token_use``.

Where the keys come from, in order:

1. ``COGNITO_JWKS`` (the JSON document itself), the variable pycognito reads too; an admin or
   the embedded backend may pin the keys that way.
2. The cached copy under ``<data_dir>/jwks/<pool>.json`` (0600), so a token can be checked
   while Cognito's key endpoint is unreachable. A token signed by a key id the cache does not
   know triggers one re-download (key rotation).
3. ``<cognito-idp endpoint>/<pool>/.well-known/jwks.json``, where the endpoint is the one boto3
   resolves for cognito-idp in the pool's region: the public AWS URL in production (the same as
   the issuer), or whatever ``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`` points at.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import jwt
import requests

from archpal_desktop.core import paths
from archpal_desktop.core.errors import AuthError, OfflineError

log = logging.getLogger(__name__)

#: seconds of clock skew tolerated between this laptop and Cognito
LEEWAY = 60


class TokenError(AuthError):
    code = "token_invalid"
    default_message = "The sign-in answer from the server could not be verified."
    default_hint = "Sign in again. If it keeps happening, tell your IT administrator."


def issuer(region: str, pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def cognito_endpoint(region: str) -> str:
    """The cognito-idp endpoint boto3 would call (honours AWS_ENDPOINT_URL_*)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    client = boto3.client("cognito-idp", region_name=region, config=Config(signature_version=UNSIGNED))
    return client.meta.endpoint_url.rstrip("/")


class JwksCache:
    """The keys of one user pool: from COGNITO_JWKS, the disk cache, or the pool's endpoint."""

    def __init__(self, region: str, pool_id: str, cache_dir: Path | None):
        self.region = region
        self.pool_id = pool_id
        self._file = paths.safe_child(cache_dir, f"{pool_id}.json") if cache_dir else None
        self._cache_dir = cache_dir
        self._keys: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _from_env(self) -> dict[str, Any] | None:
        raw = os.environ.get("COGNITO_JWKS")
        if not raw:
            return None
        try:
            doc = json.loads(raw)
        except ValueError:
            raise TokenError("COGNITO_JWKS is not valid JSON.",
                             "Fix or unset the COGNITO_JWKS environment variable.") from None
        return doc if isinstance(doc, dict) else None

    def _from_disk(self) -> dict[str, Any] | None:
        if not self._file or not self._file.exists():
            return None
        try:
            doc = json.loads(self._file.read_text("utf-8"))
        except (OSError, ValueError):
            log.warning("ignoring an unreadable JWKS cache %s", self._file)
            return None
        return doc if isinstance(doc, dict) and isinstance(doc.get("keys"), list) else None

    def _download(self) -> dict[str, Any]:
        url = f"{cognito_endpoint(self.region)}/{self.pool_id}/.well-known/jwks.json"
        try:
            resp = requests.get(url, timeout=10)
        except requests.RequestException as exc:
            raise OfflineError() from exc
        if resp.status_code != 200:
            raise TokenError(f"The sign-in keys of the user pool could not be loaded "
                             f"(HTTP {resp.status_code}).",
                             "Check cognito_user_pool_id and cognito_region in the settings.")
        try:
            doc = resp.json()
        except ValueError:
            raise TokenError("The user pool's sign-in keys are not valid JSON.") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise TokenError("The user pool's sign-in keys are malformed.")
        if self._file and self._cache_dir is not None:
            paths.ensure_private_dir(self._cache_dir)
            paths.atomic_write(self._file, json.dumps(doc).encode("utf-8"))
        return doc

    def keys(self, *, refresh: bool = False) -> dict[str, Any]:
        env_keys = self._from_env()
        if env_keys is not None:
            return env_keys
        with self._lock:
            if refresh or self._keys is None:
                self._keys = (None if refresh else self._from_disk()) or self._download()
            return self._keys

    def key_for(self, kid: str | None) -> Any:
        for attempt in (False, True):
            doc = self.keys(refresh=attempt)
            for jwk in doc.get("keys", []):
                if isinstance(jwk, dict) and jwk.get("kid") == kid:
                    try:
                        return jwt.PyJWK(jwk).key
                    except jwt.PyJWTError as exc:
                        raise TokenError(f"The user pool's key {kid!r} is unusable ({exc}).") from None
            if self._from_env() is not None:
                break  # pinned keys: nothing to re-download
        raise TokenError("The token was signed by a key the user pool does not list.")


def verify(token: str, *, jwks: JwksCache, client_id: str, token_use: str) -> dict[str, Any]:
    """Verified claims of a Cognito ID or access token, or :class:`TokenError`."""
    if token_use not in ("id", "access"):
        raise ValueError(token_use)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError() from None
    if header.get("alg") != "RS256":
        raise TokenError()
    key = jwks.key_for(header.get("kid"))
    options: dict[str, Any] = {"require": ["exp", "iss", "sub", "token_use"], "verify_iat": False}
    audience = client_id if token_use == "id" else None
    if token_use == "access":
        options["verify_aud"] = False
    try:
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=audience,
                            issuer=issuer(jwks.region, jwks.pool_id), leeway=LEEWAY,
                            options=options)  # type: ignore[arg-type]
    except jwt.ExpiredSignatureError:
        raise TokenError("The sign-in token has expired.", "Sign in again.") from None
    except jwt.InvalidAudienceError:
        raise TokenError("The sign-in token was issued to a different app.",
                         "Check cognito_client_id in the settings.") from None
    except jwt.InvalidIssuerError:
        raise TokenError("The sign-in token comes from a different user pool.",
                         "Check cognito_user_pool_id and cognito_region in the settings.") from None
    except jwt.PyJWTError:
        raise TokenError() from None
    if claims.get("token_use") != token_use:
        raise TokenError()
    if token_use == "access" and claims.get("client_id") != client_id:
        raise TokenError("The sign-in token was issued to a different app.",
                         "Check cognito_client_id in the settings.")
    return claims


def seconds_left(claims: dict[str, Any]) -> float:
    return float(claims.get("exp", 0)) - time.time()
