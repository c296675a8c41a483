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
