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
from archpal_desktop.core.tokens import TokenError
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
