"""The same browser-flow code against an independent OpenID Connect provider (oidc-provider-mock,
built on authlib's server side by other people), driven by a real headless chromium: the
authorization request, state, nonce, the code exchange and the ID-token checks are standard,
not tuned to our Cognito stand-in."""
from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from archpal_desktop.core.auth import oidc
from archpal_desktop.core.auth.errors import SignInDeniedError
from archpal_desktop.core.auth.tokens import TokenError
from archpal_desktop.localstack.server import free_port

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")
# the provider's own use of authlib's server API (its business, not ours)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib")


@pytest.fixture(scope="module")
def provider_server():
    with oidc_provider_mock.run_server_in_thread(require_client_registration=True,
                                                 require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def client(provider_server):
    """A client registered (RFC 7591) with exactly one loopback redirect URI. The provider's
    token endpoint takes no public client (authlib's server default), so this one has a secret."""
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/archpal/callback"
    resp = requests.post(f"{provider_server}/oauth2/clients",
                         json={"redirect_uris": [redirect],
                               "token_endpoint_auth_method": "client_secret_post"})
    assert resp.status_code == 201, resp.text
    return resp.json()["client_id"], port, resp.json()["client_secret"]


def _flow(provider_server, client):
    client_id, port, secret = client
    provider = oidc.provider_from(oidc.discover(provider_server))
    flow = oidc.BrowserFlow(provider, client_id, ports=(port,), client_secret=secret)
    return provider, flow


def _wait(flow, box):
    try:
        box["code"] = flow.wait_code(60)
    except BaseException as exc:
        box["error"] = exc


def test_sign_in_against_an_independent_provider(provider_server, client, page):
    provider, flow = _flow(provider_server, client)
    url = flow.start()
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] == [flow.nonce]
    box: dict = {}
    waiter = threading.Thread(target=_wait, args=(flow, box))
    waiter.start()
    page.goto(url)
    page.submit({"input[name=sub]": "ada@uga.edu"}, "button[type=submit]")
    waiter.join(60)
    assert "error" not in box, box.get("error")
    assert "You can go back to ArchPal" in page.text()
    token = flow.exchange(box["code"])
    claims = oidc.verify_id_token(token["id_token"], provider=provider, client_id=client[0],
                                  nonce=flow.nonce)
    assert claims["sub"] == "ada@uga.edu" and claims["iss"] == provider.issuer
    # the nonce check is real: another sign-in's nonce is refused
    with pytest.raises(TokenError):
        oidc.verify_id_token(token["id_token"], provider=provider, client_id=client[0],
                             nonce="another-sign-in")
    with pytest.raises(TokenError):   # and so is another audience
        oidc.verify_id_token(token["id_token"], provider=provider, client_id="someone-else",
                             nonce=flow.nonce)
    assert token["refresh_token"]


def test_deny_on_the_independent_provider(provider_server, client, page):
    _, flow = _flow(provider_server, client)
    url = flow.start()
    box: dict = {}
    waiter = threading.Thread(target=_wait, args=(flow, box))
    waiter.start()
    page.goto(url)
    page.submit({}, "button[value=deny]")
    waiter.join(60)
    assert isinstance(box.get("error"), SignInDeniedError)
    assert "refused or stopped on the sign-in page" in str(box["error"])


def test_the_university_idp_behind_the_sign_in_page(provider_server, hosted, local_aws, page):
    """Federated single sign-on end to end: the app asks for ``identity_provider=UGA-SSO``, the
    (stand-in) managed login sends the browser to the independent provider, the student signs in
    there, and the app gets the pool's tokens for the linked pool user."""
    from archpal_desktop.core import config as cfg
    from archpal_desktop.core.auth import AuthSession
    from archpal_desktop.localstack.hosted_login import browser_client_config
    from tests.auth.conftest import make_pool

    resp = requests.post(f"{provider_server}/oauth2/clients", json={
        "redirect_uris": [f"{hosted.url}/oauth2/idpresponse"],
        "token_endpoint_auth_method": "client_secret_post"}).json()
    hosted.add_identity_provider("UGA-SSO", provider_server, resp["client_id"], resp["client_secret"])
    base = make_pool()
    port = free_port()
    config = browser_client_config([f"http://127.0.0.1:{port}/archpal/callback"], [])
    config["SupportedIdentityProviders"] = ["COGNITO", "UGA-SSO"]
    client_id = base.admin.create_user_pool_client(UserPoolId=base.pool_id, ClientName="desk",
                                                   GenerateSecret=False, **config
                                                   )["UserPoolClient"]["ClientId"]
    settings = base.settings(**{cfg.COGNITO_CLIENT_ID: client_id, cfg.COGNITO_DOMAIN: hosted.url,
                                cfg.SIGN_IN_PORTS: str(port), cfg.IDENTITY_PROVIDER: "UGA-SSO"})
    session = AuthSession(settings)
    attempt = session.browser_sign_in(60)
    url = attempt.start()
    assert parse_qs(urlsplit(url).query)["identity_provider"] == ["UGA-SSO"]
    box: dict = {}

    def finish():
        try:
            box["session"] = attempt.finish()
        except BaseException as exc:
            box["error"] = exc

    waiter = threading.Thread(target=finish)
    waiter.start()
    page.goto(url)                                   # straight to the university's page
    assert provider_server.split("//")[1] in page.url()
    page.submit({"input[name=sub]": "ada@uga.edu"}, "button[type=submit]")
    waiter.join(60)
    assert "error" not in box, box.get("error")
    assert "You can go back to ArchPal" in page.text()
    assert session.email == "ada@uga.edu" and session.via == "browser"
    assert session.sub == base.sub_of("ada@uga.edu")  # the pool's own user, linked by e-mail
