"""The relay on 127.0.0.1 in front of our local ConverseStream endpoint, with its counters and
the students' profiles in moto's server, and real Cognito ID tokens from moto's user pool."""
from __future__ import annotations

import gzip
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import jwt
import pytest
import requests

from archpal_desktop.core import layout
from archpal_desktop.core.assistant.relay import REPLY_PATH
from archpal_desktop.localstack.bedrock import LocalBedrock
from archpal_desktop.localstack.relay_server import LocalRelay, relay_env
from archpal_desktop.localstack.server import local_aws_env
from archpal_desktop.relay.config import RelayConfig

REGION = "us-east-1"
PASSWORD = "Relay-Test-1!"
SITE_PROMPT = "Students here are in ENGL 1101 at Example University; cite in MLA."
PROFILE = {"first_name": "Ada", "last_name": "Quill", "college_year": "Second Year",
           "major": "History", "course_number": "HIST 2111"}


@pytest.fixture(scope="session")
def relay_bedrock():
    server = LocalBedrock().start()
    yield server
    server.stop()


@dataclass
class Pool:
    pool_id: str
    client_id: str

    def user(self, email: str | None = None) -> tuple[str, str]:
        """A confirmed user: (sub, ID token) through the pool's own sign-in."""
        idp = boto3.client("cognito-idp", region_name=REGION)
        email = email or f"s{uuid.uuid4().hex[:8]}@example.edu"
        created = idp.admin_create_user(UserPoolId=self.pool_id, Username=email, MessageAction="SUPPRESS",
                                        UserAttributes=[{"Name": "email", "Value": email},
                                                        {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=self.pool_id, Username=email, Password=PASSWORD,
                                    Permanent=True)
        sub = {a["Name"]: a["Value"] for a in created["User"]["Attributes"]}["sub"]
        return sub, self.token(email)

    def token(self, email: str) -> str:
        idp = boto3.client("cognito-idp", region_name=REGION)
        out = idp.admin_initiate_auth(UserPoolId=self.pool_id, ClientId=self.client_id,
                                      AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                      AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})
        return out["AuthenticationResult"]["IdToken"]


def make_pool(name: str = "relay") -> Pool:
    idp = boto3.client("cognito-idp", region_name=REGION)
    pool_id = idp.create_user_pool(PoolName=f"{name}-{uuid.uuid4().hex[:6]}", UsernameAttributes=["email"],
                                   AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="archpal-desktop", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
                           "ALLOW_ADMIN_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    return Pool(pool_id, client_id)


@pytest.fixture
def aws_env(moto_server, relay_bedrock, monkeypatch):
    relay_bedrock.reset()
    env = local_aws_env({**moto_server.endpoint_env(), **relay_bedrock.endpoint_env(),
                         **relay_env(moto_server.url)}, REGION)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    relay_bedrock.reset()


@dataclass
class RelaySite:
    relay: LocalRelay
    bedrock: LocalBedrock
    pool: Pool
    bucket: str
    sub: str
    token: str

    @property
    def url(self) -> str:
        return self.relay.url + REPLY_PATH

    def post(self, body, token: str | None = "default", **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        token = self.token if token == "default" else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(self.url, json=body, headers=headers, timeout=30, **kwargs)

    def put_profile(self, sub: str, profile: dict) -> None:
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=self.bucket, Key=layout.info_key(sub), Body=layout.dumps(dict(profile, cognito_user_id=sub)))


@pytest.fixture
def site(aws_env, relay_bedrock):
    pool = make_pool()
    bucket = f"relay-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
    config = RelayConfig(bucket=bucket, user_pool_id=pool.pool_id, client_ids=(pool.client_id,),
                         region=REGION, model="us.anthropic.claude-sonnet-4-20250514-v1:0",
                         temperature=0.3, max_tokens=700, system_prompt=SITE_PROMPT,
                         profile_cache_seconds=0)
    relay = LocalRelay(config).start()
    sub, token = pool.user()
    s = RelaySite(relay, relay_bedrock, pool, bucket, sub, token)
    s.put_profile(sub, PROFILE)
    yield s
    relay.stop()


def events(resp: requests.Response) -> list[dict]:
    return [json.loads(line) for line in resp.iter_lines() if line.strip()]


def moto_signing_key() -> dict:
    """moto signs its pools' tokens with one fixed key shipped in its package: with it a test can
    mint a token that is genuine in every way but one (expired), which no server call produces."""
    import moto.cognitoidp as pkg

    path = Path(pkg.__file__).parent / "resources" / "jwks-private.json.gz"
    with gzip.open(path) as fh:
        return json.load(fh)


def resign(token: str, **changes) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWK(moto_signing_key())
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": header.get("kid")})


def expired(token: str) -> str:
    return resign(token, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
