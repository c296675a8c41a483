"""AWS credentials for the signed-in user from a Cognito identity pool (docs/ARCHITECTURE.md, "Auth, settings and safety").

GetId + GetCredentialsForIdentity with the verified ID token (both unauthenticated API calls:
a student's laptop holds no AWS keys). The boto3 session gets botocore
``RefreshableCredentials`` through a credential provider placed first in botocore's chain, so
S3 and Bedrock clients renew them (and the ID token behind them) before they expire.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

import boto3
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import CredentialProvider, RefreshableCredentials

from archpal_desktop.core.errors import mapped

log = logging.getLogger(__name__)

#: botocore's defaults are 15 / 10 minutes before expiry; short-lived credentials (a strict
#: role's or a local backend's) get a share of their lifetime instead, so each one is used.
ADVISORY_SECONDS = 15 * 60
MANDATORY_SECONDS = 10 * 60


class _IdentityPoolProvider(CredentialProvider):
    METHOD = "cognito-identity-pool"
    CANONICAL_NAME = "CognitoIdentityPool"

    def __init__(self, fetch: Callable[[], dict]):
        super().__init__()
        self._fetch = fetch

    def load(self):
        first = self._fetch()
        lifetime = first.pop("_lifetime", 3600.0)
        advisory = min(ADVISORY_SECONDS, max(5.0, lifetime / 3))
        mandatory = min(MANDATORY_SECONDS, max(2.0, lifetime / 6))

        def refresh() -> dict:
            meta = self._fetch()
            meta.pop("_lifetime", None)
            return meta

        return RefreshableCredentials.create_from_metadata(
            metadata=first, refresh_using=refresh, method=self.METHOD,
            advisory_timeout=advisory, mandatory_timeout=mandatory)


class IdentityPoolCredentials:
    """Fetches credentials for one user; ``id_token()`` returns a fresh, verified ID token."""

    def __init__(self, *, identity_pool_id: str, user_pool_id: str, region: str,
                 id_token: Callable[[], str]):
        self.identity_pool_id = identity_pool_id
        self.provider_name = f"cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.region = identity_pool_id.split(":", 1)[0] if ":" in identity_pool_id else region
        self._id_token = id_token
        self._identity_id: str | None = None
        self._lock = threading.Lock()
        self._client = boto3.client(
            "cognito-identity", region_name=self.region,
            config=Config(signature_version=UNSIGNED, connect_timeout=3, read_timeout=15,
                          retries={"mode": "standard", "max_attempts": 3}))

    def fetch(self) -> dict:
        """One GetCredentialsForIdentity call -> botocore credential metadata."""
        with self._lock:
            # the library's text may quote the id token: not kept as the cause
            with mapped("cognito", step="access", keep_cause=False):
                logins = {self.provider_name: self._id_token()}
                if self._identity_id is None:
                    self._identity_id = self._client.get_id(
                        IdentityPoolId=self.identity_pool_id, Logins=logins)["IdentityId"]
                creds = self._client.get_credentials_for_identity(
                    IdentityId=self._identity_id, Logins=logins)["Credentials"]

        expiry = creds["Expiration"]
        import datetime as _dt

        lifetime = (expiry - _dt.datetime.now(_dt.timezone.utc)).total_seconds()
        log.debug("identity-pool credentials fetched, valid for %.0f s", lifetime)
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretKey"],
                "token": creds["SessionToken"], "expiry_time": expiry.isoformat(),
                "_lifetime": lifetime}

    def boto3_session(self, region: str | None) -> boto3.Session:
        core = botocore.session.get_session()
        resolver = core.get_component("credential_provider")
        resolver.insert_before("env", _IdentityPoolProvider(self.fetch))
        return boto3.Session(botocore_session=core, region_name=region)
