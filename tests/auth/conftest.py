"""Auth fixtures: a fresh moto Cognito user pool + public app client per test, over HTTP."""
from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass

import boto3
import pytest

from archpal_desktop.core import config as cfg

PASSWORD = "Corr3ct-Horse!"


def totp(secret_b32: str, at: float | None = None) -> str:
    """RFC 6238 code (what an authenticator app shows), to answer moto's TOTP checks."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8), casefold=True)
    counter = int((at or time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


@dataclass
class Pool:
    admin: object  # boto3 cognito-idp client with (dummy) admin credentials
    pool_id: str
    client_id: str
    other_client_id: str

    def settings(self, **extra):
        overrides = {cfg.COGNITO_USER_POOL_ID: self.pool_id, cfg.COGNITO_CLIENT_ID: self.client_id,
                     cfg.ALLOWED_EMAIL_DOMAINS: "uga.edu,example.edu"}
        overrides.update(extra)
        return cfg.load_settings(cli_overrides=overrides)

    def add_user(self, email: str, password: str = PASSWORD, confirmed: bool = True) -> str:
        resp = self.admin.sign_up(ClientId=self.client_id, Username=email, Password=password,
                                  UserAttributes=[{"Name": "email", "Value": email}])
        if confirmed:
            self.admin.admin_confirm_sign_up(UserPoolId=self.pool_id, Username=email)
        return resp["UserSub"]

    def add_invited_user(self, email: str) -> str:
        """An admin-created account: first sign-in must choose a new password."""
        resp = self.admin.admin_create_user(UserPoolId=self.pool_id, Username=email,
                                            TemporaryPassword="Temp-Pass1!",
                                            UserAttributes=[{"Name": "email", "Value": email}],
                                            MessageAction="SUPPRESS")
        attrs = {a["Name"]: a["Value"] for a in resp["User"]["Attributes"]}
        return attrs["sub"]

    def sub_of(self, email: str) -> str:
        user = self.admin.admin_get_user(UserPoolId=self.pool_id, Username=email)
        return {a["Name"]: a["Value"] for a in user["UserAttributes"]}["sub"]


def make_pool(mfa: str = "OFF") -> Pool:
    admin = boto3.client("cognito-idp", region_name="us-east-1")
    kwargs = {}
    if mfa != "OFF":
        kwargs["MfaConfiguration"] = mfa
    pool_id = admin.create_user_pool(PoolName="archpal-students", UsernameAttributes=["email"],
                                     AutoVerifiedAttributes=["email"], **kwargs)["UserPool"]["Id"]
    if mfa != "OFF":
        admin.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration=mfa,
                                       SoftwareTokenMfaConfiguration={"Enabled": True})

    def new_client(name):
        return admin.create_user_pool_client(
            UserPoolId=pool_id, ClientName=name, GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]

    return Pool(admin, pool_id, new_client("archpal-desktop"), new_client("some-other-app"))


@pytest.fixture
def pool(local_aws):
    return make_pool()


@pytest.fixture
def mfa_pool(local_aws, monkeypatch):
    # moto checks TOTP codes against its fixed secret only with this switch (in-process server)
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    return make_pool(mfa="ON")


@pytest.fixture
def student(pool):
    email = "ada@uga.edu"
    return email, pool.add_user(email)


# -- browser sign-in (issue 13) ----------------------------------------------------------------
@pytest.fixture(scope="session")
def hosted(moto_server):
    """The local stand-in for the pool's managed sign-in page, in front of moto's pools."""
    from archpal_desktop.localstack.hosted_login import HostedLogin

    server = HostedLogin("us-east-1").start()
    yield server
    server.stop()


@dataclass
class BrowserPool(Pool):
    domain: str = ""
    port: int = 0
    identity_pool_id: str = ""

    def settings(self, **extra):
        base = {cfg.COGNITO_DOMAIN: self.domain, cfg.SIGN_IN_PORTS: str(self.port),
                cfg.COGNITO_IDENTITY_POOL_ID: self.identity_pool_id}
        base.update(extra)
        return super().settings(**base)

    @property
    def callback(self) -> str:
        return f"http://127.0.0.1:{self.port}/archpal/callback"


def make_browser_pool(hosted) -> BrowserPool:
    """A pool whose app client is set up as the admin kit sets it (code grant, PKCE, the
    loopback callback on a free port so parallel test runs never share one)."""
    from archpal_desktop.localstack.hosted_login import browser_client_config
    from archpal_desktop.localstack.server import free_port

    base = make_pool()
    port = free_port()
    client_id = base.admin.create_user_pool_client(
        UserPoolId=base.pool_id, ClientName="archpal-desktop-browser", GenerateSecret=False,
        **browser_client_config([f"http://127.0.0.1:{port}/archpal/callback"],
                                [f"http://127.0.0.1:{port}/archpal/signed-out"]),
    )["UserPoolClient"]["ClientId"]
    identity_pool_id = boto3.client("cognito-identity", region_name="us-east-1").create_identity_pool(
        IdentityPoolName="archpal_browser_test", AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": f"cognito-idp.us-east-1.amazonaws.com/{base.pool_id}",
                                   "ClientId": client_id}])["IdentityPoolId"]
    return BrowserPool(base.admin, base.pool_id, client_id, base.other_client_id, domain=hosted.url,
                       port=port, identity_pool_id=identity_pool_id)


@pytest.fixture
def browser_pool(local_aws, hosted):
    return make_browser_pool(hosted)


@pytest.fixture(scope="module")
def chromium():
    """One headless chromium per test module (tests/auth/chromium.py)."""
    from tests.auth.chromium import Chromium, chromium_path

    if not chromium_path():
        pytest.skip("chromium is not installed: run scripts/bootstrap.sh as root")
    browser = Chromium()
    yield browser
    browser.close()


@pytest.fixture
def page(chromium):
    tab = chromium.page()
    yield tab
    tab.close()


@pytest.fixture(autouse=True)
def moto_revoke_token():
    """moto has no RevokeToken; the local stand-in adds AWS's documented behaviour to it (in
    this process, where the tests' moto server runs), so sign-out's revocation is real here."""
    from archpal_desktop.localstack.hosted_login import install_revoke_token

    install_revoke_token()
