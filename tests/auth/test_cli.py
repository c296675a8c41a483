"""``archpal-desktop login`` / ``logout`` as separate processes, answers on stdin."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from archpal_desktop.core import config as cfg
from tests.auth.conftest import PASSWORD, make_pool, totp

MOTO_TOTP_SECRET = "asdfasdfasdf"  # moto's fixed authenticator key (moto.cognitoidp.models)


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.auth.filekeyring.SharedTestKeyring")
    monkeypatch.setenv("ARCHPAL_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    return tmp_path / "keyring.json"


def run(pool, *args, stdin=""):
    env = dict(os.environ, ARCHPAL_COGNITO_USER_POOL_ID=pool.pool_id,
               ARCHPAL_COGNITO_CLIENT_ID=pool.client_id, ARCHPAL_ALLOWED_EMAIL_DOMAINS="uga.edu")
    return subprocess.run([sys.executable, "-m", "archpal_desktop", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60, start_new_session=True)


def test_login_then_logout_with_remove_data(pool, student, cli_env):
    email, sub = student
    r = run(pool, "login", stdin=f"{email}\n{PASSWORD}\n")
    assert r.returncode == 0, r.stderr
    assert f"Signed in as {email}." in r.stdout
    assert "University e-mail" in r.stderr and "Password:" in r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    assert sub in cli_env.read_text()  # the session is in the keyring for the next command
    data = cfg.load_settings().data_dir() / "users" / sub
    data.mkdir(parents=True)
    (data / "archpal.sqlite3").write_bytes(b"cache")
    r = run(pool, "logout", "--remove-data")
    assert r.returncode == 0, r.stderr
    assert f"Signed out {email} everywhere." in r.stdout
    assert "Removed this computer's copy" in r.stdout
    assert not data.exists() and sub not in cli_env.read_text()
    r = run(pool, "logout")
    assert "Nobody is signed in on this computer." in r.stdout


def test_login_retries_a_wrong_domain_then_gives_up(pool, student, cli_env):
    r = run(pool, "login", stdin="eve@gmail.com\nada@gmail.com\nbob@yahoo.com\n")
    assert r.returncode == 1
    assert r.stderr.count("Use your university e-mail address (@uga.edu).") == 3
    assert "Password" not in r.stderr  # the address is checked before anything else is asked


def test_login_new_password_step(pool, cli_env):
    pool.add_invited_user("newbie@uga.edu")
    r = run(pool, "login", "--email", "newbie@uga.edu",
            stdin="Temp-Pass1!\nBrand-New1!\nBrand-New1!\n")
    assert r.returncode == 0, r.stderr
    assert "You must choose a new password" in r.stderr and "Signed in as newbie@uga.edu." in r.stdout


def test_login_mfa_setup_and_code(local_aws, monkeypatch, cli_env):
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")  # moto runs in this process
    pool = make_pool(mfa="ON")
    pool.add_user("mfa@uga.edu")
    if time.time() % 30 > 22:  # keep the code inside one 30-second window
        time.sleep(30 - time.time() % 30 + 0.5)
    r = run(pool, "login", stdin=f"mfa@uga.edu\n{PASSWORD}\n{totp(MOTO_TOTP_SECRET)}\n")
    assert r.returncode == 0, r.stderr
    assert f"Add this key to the app: {MOTO_TOTP_SECRET}" in r.stderr
    assert "Signed in as mfa@uga.edu." in r.stdout
    if time.time() % 30 > 22:
        time.sleep(30 - time.time() % 30 + 0.5)
    r = run(pool, "login", stdin=f"mfa@uga.edu\n{PASSWORD}\n000000\n{totp(MOTO_TOTP_SECRET)}\n")
    assert r.returncode == 0, r.stderr
    assert "6-digit code from your authenticator app" in r.stderr
    assert "That code is not right." in r.stderr  # the wrong code first, then the right one


def test_logout_local_only_keeps_other_devices(pool, student, cli_env):
    email, _ = student
    assert run(pool, "login", stdin=f"{email}\n{PASSWORD}\n").returncode == 0
    r = run(pool, "logout", "--local")
    assert f"Signed out {email} on this computer." in r.stdout
    assert "stay cached on this computer" in r.stdout


def test_logout_local_revokes_this_computers_session_only(pool, student, cli_env):
    """Issue 18 point 10: the refresh token stayed valid at Cognito for up to 30 days."""
    import json

    import boto3

    from archpal_desktop.core.auth import AuthSession

    email, sub = student
    other_device = AuthSession(pool.settings())
    other_device.sign_in(email, PASSWORD)
    assert run(pool, "login", "--password", stdin=f"{email}\n{PASSWORD}\n").returncode == 0
    stored = json.loads(cli_env.read_text())
    refresh = next(v for k, v in stored.items() if k.endswith(f"{pool.pool_id}/{sub}"))
    r = run(pool, "logout", "--local")
    assert r.returncode == 0, r.stderr
    assert "Its session is revoked" in r.stdout
    client = boto3.client("cognito-idp", region_name="us-east-1")
    with pytest.raises(client.exceptions.NotAuthorizedException):
        client.initiate_auth(ClientId=pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                             AuthParameters={"REFRESH_TOKEN": refresh})
    other_device.renew()  # the other device stays signed in
    assert other_device.verified
