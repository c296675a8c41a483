"""``archpal-desktop --demo login --browser --no-open`` as a person in a remote shell uses it: it
prints an authorize address (PKCE S256, state, a loopback redirect_uri) and completes when that
address is followed in a real browser and the demo's sign-in form is submitted."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

from archpal_desktop.localstack.demo import DEMO_EMAIL, DEMO_PASSWORD
from archpal_desktop.localstack.server import free_port


def test_demo_login_browser_no_open(page, tmp_path):
    port = free_port()
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="tests.auth.filekeyring.SharedTestKeyring",
               ARCHPAL_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
               ARCHPAL_SIGN_IN_PORTS=str(port), BROWSER="false")
    proc = subprocess.Popen([sys.executable, "-m", "archpal_desktop", "--demo", "login", "--browser",
                             "--no-open"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        url = ""
        for line in proc.stdout:  # blocks on the process's own output, no polling
            found = re.search(r"https?://\S+/oauth2/authorize\?\S+", line)
            if found:
                url = found.group(0)
                break
        assert url, proc.stderr.read()
        query = parse_qs(urlsplit(url).query)
        assert query["code_challenge_method"] == ["S256"] and query["state"][0]
        assert re.fullmatch(r"http://(127\.0\.0\.1|localhost):\d+/\S*", query["redirect_uri"][0])
        page.goto(url)
        page.submit({"#username": DEMO_EMAIL, "#password": DEMO_PASSWORD}, "#sign_in")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert f"Signed in as {DEMO_EMAIL}." in out
    assert "You can go back to ArchPal" in page.text()
    assert DEMO_PASSWORD not in out


def test_logout_browser_ends_the_sign_in_pages_session(browser_pool, page, tmp_path, monkeypatch):
    """``logout --browser`` after a browser sign-in: the session is revoked, and the managed
    login's own session ends in the browser, which lands on "You are signed out"."""
    from archpal_desktop.core.auth import AuthSession
    from tests.auth.test_browser_sign_in import Attempt, sign_in_in_browser

    browser_pool.add_user("ada@uga.edu")
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="tests.auth.filekeyring.SharedTestKeyring",
               ARCHPAL_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"), BROWSER="false",
               ARCHPAL_COGNITO_USER_POOL_ID=browser_pool.pool_id,
               ARCHPAL_COGNITO_CLIENT_ID=browser_pool.client_id,
               ARCHPAL_COGNITO_DOMAIN=browser_pool.domain,
               ARCHPAL_SIGN_IN_PORTS=str(browser_pool.port))
    import keyring.core

    # this process signs in with the keyring the command will read (the OS keychain's stand-in)
    for key in ("PYTHON_KEYRING_BACKEND", "ARCHPAL_TEST_KEYRING_FILE"):
        monkeypatch.setenv(key, env[key])
    keyring.core._keyring_backend = None
    session = sign_in_in_browser(page, Attempt(AuthSession(browser_pool.settings())))
    assert session.via == "browser"
    proc = subprocess.Popen([sys.executable, "-m", "archpal_desktop", "logout", "--local",
                             "--browser"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        seen, url = [], ""
        for line in proc.stdout:
            seen.append(line)
            if "/logout?" in line:
                url = line.strip()
                break
        assert url, proc.stderr.read()
        page.goto(url)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = "".join(seen) + out
    assert proc.returncode == 0, err
    assert "You are signed out" in page.text()
    assert "Its session is revoked" in out
