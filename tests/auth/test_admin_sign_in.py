"""The admin kit's sign-in parts (issue 13 point 6): the template's app client, ``admin
setup-sign-in`` on the web app's existing client (moto), and ``doctor``'s sign-in checks."""
from __future__ import annotations

import json

import boto3
import yaml

from archpal_desktop.cli import main
from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth import browser
from tests.admin.test_packaging import CFN, CfnLoader, cfn_lint

WEB_CALLBACK = "https://archpal.example.edu/"


def test_the_template_registers_the_loopback_callbacks():
    client = yaml.load(CFN.read_text(), Loader=CfnLoader)["Resources"]["DesktopAppClient"]["Properties"]
    defaults = cfg.load_settings()
    assert client["CallbackURLs"] == browser.callback_urls(defaults)
    assert client["LogoutURLs"] == browser.sign_out_urls(defaults)
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"]
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert client["RefreshTokenRotation"]["Feature"] == "ENABLED"
    assert client["GenerateSecret"] is False and client["EnableTokenRevocation"] is True
    assert cfn_lint(CFN).returncode == 0


def _env(monkeypatch, pool_id, client_id, **extra):
    monkeypatch.setenv("ARCHPAL_COGNITO_USER_POOL_ID", pool_id)
    monkeypatch.setenv("ARCHPAL_COGNITO_CLIENT_ID", client_id)
    for key, value in extra.items():
        monkeypatch.setenv(f"ARCHPAL_{key.upper()}", value)


def test_setup_sign_in_adds_to_the_web_apps_client(local_aws, hosted, monkeypatch, capsys):
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = idp.create_user_pool(PoolName="web", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="archpal-web", GenerateSecret=False,
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"], CallbackURLs=[WEB_CALLBACK],
        SupportedIdentityProviders=["COGNITO"], ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"],
    )["UserPoolClient"]["ClientId"]
    _env(monkeypatch, pool_id, client_id, cognito_domain=hosted.url, sign_in_ports="53790")
    assert main(["admin", "setup-sign-in"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:53790/archpal/callback" in out and "--apply" in out
    assert main(["admin", "setup-sign-in", "--apply"]) == 0
    out = capsys.readouterr().out
    assert "CallbackURLs: added http://127.0.0.1:53790/archpal/callback" in out
    got = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert got["CallbackURLs"] == [WEB_CALLBACK, "http://127.0.0.1:53790/archpal/callback"]
    assert set(got["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert set(got["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert got["ClientName"] == "archpal-web"   # what the web app set is kept
    # doctor now finds the callback registered
    assert main(["doctor", "--json"]) in (0, 1)
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert checks["sign-in discovery"]["status"] == "ok"
    assert checks["sign-in callback"]["status"] == "ok"


def test_doctor_names_the_callback_url_to_add(browser_pool, monkeypatch, capsys):
    _env(monkeypatch, browser_pool.pool_id, browser_pool.client_id,
         cognito_domain=browser_pool.domain, sign_in_ports="53791")
    main(["doctor"])
    out = capsys.readouterr().out
    assert "[ ok ] sign-in discovery" in out and "[ ok ] sign-in domain" in out
    assert "[FAIL] sign-in callback: The sign-in page refuses the callback URL " \
           "http://127.0.0.1:53791/archpal/callback: it is not registered." in out
    assert "fix: Add http://127.0.0.1:53791/archpal/callback to the app client's allowed " \
           "callback URLs" in out


def test_doctor_says_a_domain_is_mistyped(browser_pool, monkeypatch, capsys):
    _env(monkeypatch, browser_pool.pool_id, browser_pool.client_id,
         cognito_domain="archpal-typo.invalid")
    main(["doctor"])
    out = capsys.readouterr().out
    assert "[FAIL] sign-in domain: The sign-in page at archpal-typo.invalid could not be reached" in out


def test_doctor_skips_sign_in_checks_for_password_sites(pool, monkeypatch, capsys):
    _env(monkeypatch, pool.pool_id, pool.client_id)
    main(["doctor"])
    assert "sign-in" not in capsys.readouterr().out
