"""Browser sign-in end to end (issue 13): a real headless chromium opens the authorize URL the app
produced, fills the sign-in form of the local stand-in for the managed login (in front of moto's
pool), and follows the redirect to the app's loopback listener; the app ends up signed in, its
refresh token in the (test) keyring, with identity-pool credentials that sync a real bucket.
Also: every failure of point 2, revocation at sign-out, and no secret on disk or in a log."""
from __future__ import annotations

import logging
import socket
import threading
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth import AuthSession
from archpal_desktop.core.auth.errors import (
    BrowserCancelledError, BrowserTimeoutError, PortsInUseError, SignInDeniedError,
    SignInDomainError, StateMismatchError,
)
from archpal_desktop.core.errors import AuthExpiredError, OfflineError
from tests.auth.conftest import PASSWORD
from tests.support import memkeyring

EMAIL = "ada@uga.edu"


class Attempt:
    """``finish()`` on a thread, as the window's worker runs it; ``result()`` joins it."""

    def __init__(self, session: AuthSession, timeout: float = 60):
        self.attempt = session.browser_sign_in(timeout)
        self.url = self.attempt.start()
        self.outcome: dict = {}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.outcome["session"] = self.attempt.finish()
        except BaseException as exc:  # handed to the test
            self.outcome["error"] = exc

    def result(self):
        self.thread.join(60)
        assert not self.thread.is_alive(), "the sign-in never ended"
        if "error" in self.outcome:
            raise self.outcome["error"]
        return self.outcome["session"]


def sign_in_in_browser(page, attempt: Attempt, email: str = EMAIL, password: str = PASSWORD):
    page.goto(attempt.url)
    page.submit({"#username": email, "#password": password}, "#sign_in")
    return attempt.result()


def test_signs_in_through_chromium_and_syncs(browser_pool, page, s3, bucket):
    from archpal_desktop.core.cache import Store
    from archpal_desktop.core.sync import sync_once
    from archpal_desktop.localstack.demo import seed_objects

    sub = browser_pool.add_user(EMAIL)
    for key, body in seed_objects(sub).items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    settings = browser_pool.settings(**{cfg.S3_BUCKET_NAME: bucket})
    session = AuthSession(settings)
    attempt = Attempt(session)
    query = parse_qs(urlsplit(attempt.url).query)
    assert query["code_challenge_method"] == ["S256"] and query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == [browser_pool.callback] and query["state"] and query["nonce"]

    assert sign_in_in_browser(page, attempt) is session
    assert "You can go back to ArchPal" in page.text()
    assert session.sub == sub and session.email == EMAIL and session.via == "browser"
    stored = memkeyring.contents()
    assert stored == {("ArchPal Desktop", f"{browser_pool.pool_id}/{sub}"): session._refresh_token}
    access = session.access()
    assert access.source == "identity-pool"
    store = Store.open_for_user(settings.data_dir(), sub)
    try:
        result = sync_once(store, access, settings)
        assert result.ok, result
        assert len(store.list_conversations()) == 3
    finally:
        store.close()
    # a new start: the stored session renews through the token endpoint (rotation)
    again = AuthSession(settings)
    assert again.restore() and again.via == "browser"
    old = again._refresh_token
    again.renew()
    assert again.verified and again._refresh_token != old
    assert memkeyring.contents()[("ArchPal Desktop", f"{browser_pool.pool_id}/{sub}")] == again._refresh_token


def test_two_students_sign_in_one_after_the_other(browser_pool, chromium):
    """Multi-user: the second student's browser session is their own (a fresh tab each, the
    stand-in's own session ended in between by /logout, as the window's sign-out asks)."""
    subs = [browser_pool.add_user(e) for e in ("ada@uga.edu", "bo@uga.edu")]
    settings = browser_pool.settings()
    for email, sub in zip(("ada@uga.edu", "bo@uga.edu"), subs):
        tab = chromium.page()
        try:
            session = AuthSession(settings)
            assert sign_in_in_browser(tab, Attempt(session), email).sub == sub
            logout = session.hosted_logout_url()
            session.sign_out(global_=False)
            assert session.revoked
            tab.goto(logout)
            assert "You are signed out" in tab.text()
        finally:
            tab.close()
    from archpal_desktop.core.auth import known_users
    assert set(known_users(settings)) == set(subs)


# -- point 2: every failure ends in a sentence and a way back ----------------------------------
def test_cancel_ends_the_wait(browser_pool):
    attempt = Attempt(AuthSession(browser_pool.settings()))
    attempt.attempt.cancel()
    with pytest.raises(BrowserCancelledError) as err:
        attempt.result()
    assert str(err.value) == "Sign-in cancelled. Sign in again when you are ready."
    _assert_port_free(browser_pool.port)


def test_timeout_when_the_browser_never_comes_back(browser_pool):
    attempt = Attempt(AuthSession(browser_pool.settings()), timeout=0.2)
    with pytest.raises(BrowserTimeoutError) as err:
        attempt.result()
    assert "did not come back to ArchPal in time" in str(err.value)
    assert "sign in again" in str(err.value)
    _assert_port_free(browser_pool.port)


def test_access_denied_on_the_sign_in_page(browser_pool, page):
    browser_pool.add_user(EMAIL)
    attempt = Attempt(AuthSession(browser_pool.settings()))
    page.goto(attempt.url)
    page.submit({}, "#cancel")
    with pytest.raises(SignInDeniedError) as err:
        attempt.result()
    assert "refused or stopped on the sign-in page" in str(err.value)
    assert "You can go back to ArchPal" in page.text()


def test_a_redirect_with_another_state_is_refused(browser_pool, page):
    attempt = Attempt(AuthSession(browser_pool.settings()))
    # a stray request on another path changes nothing
    assert requests.get(f"http://127.0.0.1:{browser_pool.port}/favicon.ico").status_code == 404
    page.goto(f"{browser_pool.callback}?code=stolen&state=not-this-one")
    assert "did not come from ArchPal" in page.text()
    with pytest.raises(StateMismatchError) as err:
        attempt.result()
    assert "does not belong to this sign-in" in str(err.value)


def test_ports_in_use(browser_pool):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", browser_pool.port))
        taken.listen()
        with pytest.raises(PortsInUseError) as err:
            AuthSession(browser_pool.settings()).browser_sign_in().start()
    assert f"another program uses port {browser_pool.port}" in str(err.value)


def test_a_mistyped_domain(browser_pool):
    settings = browser_pool.settings(**{cfg.COGNITO_DOMAIN: "archpal-typo.invalid"})
    with pytest.raises(SignInDomainError) as err:
        AuthSession(settings).browser_sign_in().start()
    assert "archpal-typo.invalid could not be reached" in str(err.value)
    assert "mistyped" in str(err.value) and "cognito_domain" in str(err.value)
    _assert_port_free(browser_pool.port)


def test_offline_start(browser_pool, monkeypatch):
    from archpal_desktop.localstack.server import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(OfflineError) as err:
        AuthSession(browser_pool.settings()).browser_sign_in().start()
    assert "offline" in str(err.value)


def test_a_code_cannot_be_replayed_and_pkce_is_checked(browser_pool, page):
    """The stand-in holds the app to what Cognito checks: the verifier and one-use codes."""
    browser_pool.add_user(EMAIL)
    session = AuthSession(browser_pool.settings())
    attempt = Attempt(session)
    flow = attempt.attempt.flow
    real = flow.exchange
    seen = {}

    def exchange(code):
        seen["code"] = code
        return real(code)

    flow.exchange = exchange
    sign_in_in_browser(page, attempt)
    with pytest.raises(SignInDeniedError):
        flow.exchange(seen["code"])  # the same code again
    token = requests.post(f"{browser_pool.domain}/oauth2/token", data={
        "grant_type": "authorization_code", "code": "x", "client_id": browser_pool.client_id,
        "redirect_uri": browser_pool.callback, "code_verifier": "wrong"})
    assert token.status_code == 400


# -- point 3 and issue 18 point 10: sign-out revokes -------------------------------------------
def test_sign_out_revokes_the_refresh_token(browser_pool, page):
    sub = browser_pool.add_user(EMAIL)
    session = sign_in_in_browser(page, Attempt(AuthSession(browser_pool.settings())))
    refresh = session._refresh_token
    assert session.sign_out(global_=False) and session.revoked
    assert memkeyring.contents() == {}
    from archpal_desktop.core.auth import oidc

    with pytest.raises(SignInDeniedError):
        oidc.refresh(session.provider(), browser_pool.client_id, refresh)
    again = AuthSession(browser_pool.settings())
    assert not again.restore()
    assert sub not in (again.sub or "")


def test_local_sign_out_of_a_password_session_revokes_it(pool, student):
    """Issue 18 point 10: ``logout --local`` left the refresh token valid for 30 days."""
    from archpal_desktop.localstack.hosted_login import install_revoke_token

    install_revoke_token()  # moto lacks RevokeToken: the stand-in adds AWS's behaviour
    session = AuthSession(pool.settings())
    session.sign_in(student[0], PASSWORD)
    refresh = session._refresh_token
    session.sign_out(global_=False)
    assert session.revoked
    client = boto3.client("cognito-idp", region_name="us-east-1")
    with pytest.raises(client.exceptions.NotAuthorizedException):
        client.initiate_auth(ClientId=pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                             AuthParameters={"REFRESH_TOKEN": refresh})


def test_a_revoked_browser_session_asks_to_sign_in_again(browser_pool, page):
    browser_pool.add_user(EMAIL)
    session = sign_in_in_browser(page, Attempt(AuthSession(browser_pool.settings())))
    from archpal_desktop.core.auth import oidc

    oidc.revoke(session.provider(), browser_pool.client_id, session._refresh_token)
    with pytest.raises(AuthExpiredError):
        session.renew()
    assert memkeyring.contents() == {}


# -- no code, token, verifier or nonce anywhere --------------------------------------------------
def test_no_secret_reaches_a_log_the_cache_or_a_file(browser_pool, page, tmp_path, caplog, bucket):
    from archpal_desktop.core.logs import setup_logging
    from archpal_desktop.core.cache import Store
    from archpal_desktop.core.sync import sync_once

    setup_logging(verbose=True)
    caplog.set_level(logging.DEBUG)
    browser_pool.add_user(EMAIL)
    settings = browser_pool.settings(**{cfg.S3_BUCKET_NAME: bucket})
    session = AuthSession(settings)
    attempt = Attempt(session)
    flow = attempt.attempt.flow
    sign_in_in_browser(page, attempt)
    code = parse_qs(urlsplit(page.url()).query)["code"][0]
    store = Store.open_for_user(settings.data_dir(), session.sub)
    try:
        sync_once(store, session.access(), settings)
    finally:
        store.close()
    secrets_ = {"code": code, "verifier": flow.verifier, "nonce": flow.nonce, "state": flow.state,
                "refresh": session._refresh_token, "access": session._access_token,
                "id": session._id_token}
    logging.shutdown()
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    for name, value in secrets_.items():
        assert value and value not in logged, name
        assert value not in repr(session) + repr(attempt.attempt) + repr(flow), name
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.name.endswith(".sqlite3") for f in files)
    for f in files:
        data = f.read_bytes()
        for name, value in secrets_.items():
            assert value.encode() not in data, (name, f)


def _assert_port_free(port: int) -> None:
    """The listener is closed right after the attempt ends."""
    from archpal_desktop.core.auth.loopback import port_is_free

    assert port_is_free(port), f"port {port} still open"


def test_the_signed_out_page_gives_its_port_back_to_the_next_sign_in(browser_pool, page):
    """After a sign-out that ends the browser session, the next student's sign-in (a shared lab
    computer) still gets the first port, and the browser saw "You are signed out"."""
    browser_pool.add_user(EMAIL)
    session = sign_in_in_browser(page, Attempt(AuthSession(browser_pool.settings())))
    page.goto(session.hosted_logout_url())
    assert "You are signed out" in page.text()
    session.sign_out(global_=False)
    AuthSession(browser_pool.settings()).hosted_logout_url()  # a page left waiting on the port
    attempt = Attempt(AuthSession(browser_pool.settings()))
    assert f"127.0.0.1%3A{browser_pool.port}%2F" in attempt.url
    attempt.attempt.cancel()
    with pytest.raises(BrowserCancelledError):
        attempt.result()


def test_offline_start_after_a_browser_sign_in(browser_pool, page, monkeypatch):
    """The next start with no network: the session is restored from the keyring at once; the
    renewal says offline and keeps the session for when the network is back."""
    from archpal_desktop.localstack.server import free_port

    sub = browser_pool.add_user(EMAIL)
    sign_in_in_browser(page, Attempt(AuthSession(browser_pool.settings())))
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", dead)
    later = AuthSession(browser_pool.settings(**{cfg.COGNITO_DOMAIN: dead}))
    assert later.restore() and later.sub == sub and later.email == EMAIL and not later.verified
    with pytest.raises(OfflineError):
        later.renew()
    assert ("ArchPal Desktop", f"{browser_pool.pool_id}/{sub}") in memkeyring.contents()


def test_the_web_apps_secrets_bring_the_sign_in_domain():
    from archpal_desktop.core.admin.site import site_from_secrets

    site = site_from_secrets({"cognito_domain": "archpal.auth.us-east-1.amazoncognito.com",
                              "cognito_redirect_uri": "https://archpal.example.edu/"})
    assert 'cognito_domain = "archpal.auth.us-east-1.amazoncognito.com"' in site.to_toml()
    assert "cognito_redirect_uri" not in site.to_toml()   # the web app's own callback


def test_signing_in_again_as_someone_else_is_refused(browser_pool, page):
    """Signing in again from an open window: the sign-in page remembers whoever used it last
    (a lab computer) and goes straight through as them; that other account must not take over
    this person's session and conversations."""
    from archpal_desktop.core.errors import AuthError

    ada = browser_pool.add_user("ada@uga.edu")
    browser_pool.add_user("bo@uga.edu")
    settings = browser_pool.settings()
    ada_session = sign_in_in_browser(page, Attempt(AuthSession(settings)), "ada@uga.edu")
    page.goto(ada_session.hosted_logout_url())           # the page forgets ada ...
    sign_in_in_browser(page, Attempt(AuthSession(settings)), "bo@uga.edu")  # ... and remembers bo
    again = Attempt(ada_session)                          # ada's window: "Sign in again"
    page.goto(again.url)                                  # straight through, as bo
    with pytest.raises(AuthError) as err:
        again.result()
    assert str(err.value).startswith("The sign-in page signed in another account (bo@uga.edu), "
                                     "not ada@uga.edu.")
    assert ada_session.sub == ada and ada_session.email == "ada@uga.edu"
    assert memkeyring.contents()[("ArchPal Desktop", f"{browser_pool.pool_id}/{ada}")] == \
        ada_session._refresh_token
