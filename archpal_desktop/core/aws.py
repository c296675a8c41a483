"""Building boto3 sessions and clients for the signed-in user (docs/ARCHITECTURE.md, "Auth, settings and safety").

Credentials come, in order, from a Cognito identity pool (core.auth builds those sessions),
static keys in settings (development / admin), or boto3's default chain. Endpoints are never
settings: boto3 reads ``AWS_ENDPOINT_URL_*`` itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import email.utils
from datetime import datetime

import boto3
import botocore.utils
from botocore.config import Config

from archpal_desktop.core import config as cfg
from archpal_desktop.core.layout import validate_sub



@dataclass
class AwsAccess:
    """Who we are in S3 (the verified ``sub``) and the boto3 session that carries credentials."""

    sub: str
    session: boto3.Session
    source: str = "default"  # "identity-pool", "static", "default"
    #: the Cognito ID token (fresh on each call) when signed in: what the coach relay checks
    id_token: Callable[[], str] | None = None


def static_access(settings: cfg.Settings, sub: str) -> AwsAccess:
    """Static keys from settings when both are set, else boto3's default chain."""
    sub = validate_sub(sub)
    key_id = settings[cfg.AWS_ACCESS_KEY_ID]
    secret = settings[cfg.AWS_SECRET_ACCESS_KEY]
    if key_id and secret:
        session = boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                aws_session_token=settings[cfg.AWS_SESSION_TOKEN] or None,
                                region_name=settings[cfg.AWS_REGION] or None)
        return AwsAccess(sub, session, "static")
    return AwsAccess(sub, boto3.Session(region_name=settings[cfg.AWS_REGION] or None), "default")


def client_config(*, pool: int = 16, connect_timeout: float = 3.0, read_timeout: float = 20.0,
                  max_attempts: int = 5) -> Config:
    return Config(
        max_pool_connections=pool,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "max_attempts": max_attempts},
        tcp_keepalive=True,
        # presigned GETs (core.sync.remote) in SigV4 everywhere: botocore would presign us-east-1 in
        # SigV2, which buckets created since mid-2020 refuse
        signature_version="s3v4",
        # JSON documents of a few KB: TLS already guards them in transit, and checksumming
        # every body costs CPU the first sync of a long history needs
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def _fast_timestamp(value):
    """botocore parses every response timestamp (S3's Last-Modified header on each GET) with
    dateutil, a third of a first sync's CPU. The two shapes AWS sends parse much faster with the
    standard library; anything else goes to botocore's own parser."""
    if isinstance(value, str):
        try:
            if "T" in value and value[:4].isdigit():
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            return email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            pass
    return botocore.utils.parse_timestamp(value)


def use_fast_timestamps(session: boto3.Session) -> None:
    session._session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=_fast_timestamp)


def s3_client(access: AwsAccess, settings: cfg.Settings, **config_kwargs):
    pool = int(config_kwargs.pop("pool", 0) or settings.sync_parallelism)
    use_fast_timestamps(access.session)
    return access.session.client("s3", region_name=settings.s3_region(),
                                 config=client_config(pool=pool, **config_kwargs))


