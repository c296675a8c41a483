"""Sign-in benchmarks (issue 3) on moto's Cognito in this process, over HTTP on loopback.

``auth.offline_start.ms``: a new run of the app finding the last user and their stored session
(accounts file + keyring), no network: what stands between a student and their cache.
``auth.sign_in.ms``: SRP sign-in (two round trips, the SRP maths) plus verification of both
tokens against the cached JWKS (median of 5).
``auth.verify_token.us``: verifying one ID token (signature, issuer, audience, expiry).
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BUDGETS = {
    "auth.offline_start.ms": ("<=", 50),
    "auth.sign_in.ms": ("<=", 1500),
    "auth.verify_token.us": ("<=", 2000),
}

_state: dict = {}
PASSWORD = "Bench-Pass1!"


def _setup():
    if _state:
        return _state
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import boto3

    from archpal_desktop.core import config as cfg
    from archpal_desktop.core.auth.keystore import KeyStore
    from archpal_desktop.localstack.server import MotoServer, local_aws_env
    from tests.support.memkeyring import MemoryKeyring

    server = MotoServer().start()
    os.environ.update(local_aws_env(server.endpoint_env()))
    admin = boto3.client("cognito-idp", region_name="us-east-1")
    pool = admin.create_user_pool(PoolName="bench", UsernameAttributes=["email"])["UserPool"]["Id"]
    client = admin.create_user_pool_client(UserPoolId=pool, ClientName="desk")["UserPoolClient"]["ClientId"]
    admin.sign_up(ClientId=client, Username="bench@uga.edu", Password=PASSWORD,
                  UserAttributes=[{"Name": "email", "Value": "bench@uga.edu"}])
    admin.admin_confirm_sign_up(UserPoolId=pool, Username="bench@uga.edu")
    data = Path(tempfile.mkdtemp(prefix="archpal-bench-auth-"))
    settings = cfg.load_settings(cli_overrides={cfg.COGNITO_USER_POOL_ID: pool, cfg.COGNITO_CLIENT_ID: client,
                                                cfg.DATA_DIR: str(data)}, env={})
    _state.update(server=server, settings=settings, keystore=KeyStore(backend=MemoryKeyring()))
    return _state


def _session():
    from archpal_desktop.core.auth import AuthSession

    st = _setup()
    return AuthSession(st["settings"], keystore=st["keystore"])


def bench_sign_in():
    times = []
    for _ in range(5):
        s = _session()
        t0 = time.perf_counter()
        s.sign_in("bench@uga.edu", PASSWORD)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), "ms", {"runs_ms": [round(t, 1) for t in times]}


def bench_offline_start():
    _session().sign_in("bench@uga.edu", PASSWORD)
    from archpal_desktop.core import auth

    times = []
    for _ in range(20):
        s = _session()  # built before: the window builds it on a worker while showing the frame
        t0 = time.perf_counter()
        assert auth.last_user(s.settings) and s.restore()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), "ms"


def bench_verify_token():
    from archpal_desktop.core.auth import tokens

    s = _session()
    s.sign_in("bench@uga.edu", PASSWORD)
    token = s._id_token
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        tokens.verify(token, jwks=s.jwks, client_id=s.client_id, token_use="id")
    return (time.perf_counter() - t0) / n * 1e6, "us"


BENCHES = {
    "auth.offline_start.ms": bench_offline_start,
    "auth.sign_in.ms": bench_sign_in,
    "auth.verify_token.us": bench_verify_token,
}
