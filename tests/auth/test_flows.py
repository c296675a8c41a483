"""Every Cognito flow through AuthSession against moto's Cognito over HTTP."""
from __future__ import annotations

import jwt
import pytest

from archpal_desktop.core import auth
from archpal_desktop.core.auth import AuthInputError, AuthSession, Challenge
from archpal_desktop.core.errors import AuthExpiredError, ConfigError
from tests.auth.conftest import PASSWORD, totp
from tests.support import memkeyring


def test_sign_in_verifies_tokens_and_remembers_only_the_refresh_token(pool, student):
    email, sub = student
    s = AuthSession(pool.settings())
    assert s.sign_in("  Ada@UGA.edu ", PASSWORD) is s
    assert s.sub == sub and s.verified and s.signed_in
    assert s.email == "ada@uga.edu"  # moto's ID token puts the sub in "email"; GetUser gives the address
    assert s.id_claims["sub"] == sub and s.id_claims["aud"] == pool.client_id
    stored = memkeyring.contents()
    assert list(stored) == [("ArchPal Desktop", f"{pool.pool_id}/{sub}")]
    assert stored[("ArchPal Desktop", f"{pool.pool_id}/{sub}")] == s._refresh_token
    assert auth.last_user(pool.settings()) == sub
    assert "eyJ" not in repr(s) and s._refresh_token not in repr(s)


def test_offline_restore_then_renew(pool, student):
    email, sub = student
    AuthSession(pool.settings()).sign_in(email, PASSWORD)
    fresh = AuthSession(pool.settings())  # a new run of the app
    assert fresh.restore() is True
    assert fresh.sub == sub and fresh.email == email and not fresh.verified  # no network used
    fresh.ensure_fresh()
    assert fresh.verified and fresh.id_claims["sub"] == sub


def test_tokens_renew_before_they_expire(pool, student):
    email, _ = student
    s = AuthSession(pool.settings())
    s.sign_in(email, PASSWORD)
    first = s._id_token
    s.ensure_fresh()
    assert s._id_token == first  # an hour left: nothing to do
    s.renew_margin = 3600 + 120  # as if the token were about to expire
    s.ensure_fresh()
    assert s._id_token != first and s.verified


def test_access_for_stored_session_static_chain(pool, student):
    email, sub = student
    with pytest.raises(AuthExpiredError):
        auth.access_for_stored_session(pool.settings())
    AuthSession(pool.settings()).sign_in(email, PASSWORD)
    access = auth.access_for_stored_session(pool.settings())
    assert access.sub == sub and access.source in ("static", "default")


def test_identity_pool_credentials_refresh_themselves(pool, student, local_aws, monkeypatch):
    import boto3

    email, sub = student
    ip = boto3.client("cognito-identity", region_name="us-east-1").create_identity_pool(
        IdentityPoolName="archpal", AllowUnauthenticatedIdentities=False)["IdentityPoolId"]
    settings = pool.settings(**{"cognito_identity_pool_id": ip})
    AuthSession(settings).sign_in(email, PASSWORD)
    # a student's laptop holds no AWS keys: the credentials must come from the identity pool
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    access = auth.access_for_stored_session(settings)
    assert access.source == "identity-pool" and access.sub == sub
    creds = access.session.get_credentials()
    frozen = creds.get_frozen_credentials()
    assert frozen.access_key == "TESTACCESSKEY12345"  # what moto's GetCredentialsForIdentity hands out
    assert creds.method == "cognito-identity-pool" and creds.refresh_needed() is False
    # moto's credentials live 90 s; botocore renews them once inside the advisory window
    creds._expiry_time = creds._expiry_time.replace(year=2000)
    assert creds.refresh_needed()
    creds.get_frozen_credentials()
    assert not creds.refresh_needed()
    # and the S3 client built on it signs requests with them
    s3 = access.session.client("s3", region_name="us-east-1")
    s3.list_buckets()


def test_revoked_session_asks_to_sign_in_and_keeps_data(pool, student):
    email, sub = student
    s = AuthSession(pool.settings())
    s.sign_in(email, PASSWORD)
    # moto keys its sessions by the internal username (the sub) in e-mail pools
    pool.admin.admin_user_global_sign_out(UserPoolId=pool.pool_id, Username=sub)
    again = AuthSession(pool.settings())
    assert again.restore()
    with pytest.raises(AuthExpiredError) as err:
        again.access()
    assert "Sign in again" in str(err.value)
    assert memkeyring.contents() == {}  # the dead token is gone
    assert auth.known_users(pool.settings())[sub]["email"] == email  # who they were is kept


def test_new_password_challenge(pool):
    sub = pool.add_invited_user("newbie@uga.edu")
    s = AuthSession(pool.settings())
    step = s.sign_in("newbie@uga.edu", "Temp-Pass1!")
    assert isinstance(step, Challenge) and step.name == "NEW_PASSWORD_REQUIRED"
    with pytest.raises(AuthInputError) as err:
        s.answer_challenge(step, "")
    assert err.value.field == "new_password"
    assert s.answer_challenge(step, "Brand-New-Pass1!") is s
    assert s.sub == sub


def test_mfa_setup_then_mfa_code_on_next_sign_in(mfa_pool):
    sub = mfa_pool.add_user("mfa@uga.edu")
    s = AuthSession(mfa_pool.settings())
    step = s.sign_in("mfa@uga.edu", PASSWORD)
    assert step.name == "MFA_SETUP" and step.secret_code
    assert step.otpauth_uri.startswith("otpauth://totp/ArchPal:mfa%40uga.edu?secret=")
    # a wrong code is refused by moto's real TOTP check
    wrong = "000000" if totp(step.secret_code) != "000000" else "111111"
    with pytest.raises(auth.CodeError) as err:
        s.answer_challenge(step, wrong)
    assert err.value.field == "code" and "not right" in str(err.value)
    with pytest.raises(auth.CodeError):
        s.answer_challenge(step, "12ab")  # checked before Cognito is called
    assert s.answer_challenge(step, totp(step.secret_code)) is s and s.sub == sub
    s2 = AuthSession(mfa_pool.settings())
    step2 = s2.sign_in("mfa@uga.edu", PASSWORD)
    assert step2.name == "SOFTWARE_TOKEN_MFA"
    assert s2.answer_challenge(step2, totp(step.secret_code)) is s2 and s2.sub == sub


def test_sign_up_confirm_resend(pool):
    s = AuthSession(pool.settings())
    result = s.sign_up("grace@example.edu", PASSWORD)
    assert result.confirmed is False
    with pytest.raises(auth.NotConfirmedError) as err:
        s.sign_in("grace@example.edu", PASSWORD)
    assert "not confirmed" in str(err.value)
    # moto has no ResendConfirmationCode: the Stubber on the real client checks what we send
    from botocore.stub import Stubber

    with Stubber(s._client) as stub:
        stub.add_response("resend_confirmation_code",
                          {"CodeDeliveryDetails": {"Destination": "g***@e***", "DeliveryMedium": "EMAIL",
                                                   "AttributeName": "email"}},
                          {"ClientId": pool.client_id, "Username": "grace@example.edu"})
        s.resend_code(" Grace@example.edu")
        stub.assert_no_pending_responses()
    s.confirm_sign_up("grace@example.edu", "123456")
    assert s.sign_in("grace@example.edu", PASSWORD) is s
    assert s.email == "grace@example.edu"


def test_sign_up_twice_is_refused_in_words(pool, student):
    with pytest.raises(AuthInputError) as err:
        AuthSession(pool.settings()).sign_up(student[0], PASSWORD)
    assert err.value.field == "email" and "already exists" in str(err.value)


def test_forgot_password_and_confirm(pool, student):
    email, _ = student
    s = AuthSession(pool.settings())
    s.forgot_password(email)
    s.confirm_forgot_password(email, "654321", "Another-Pass2!")
    assert s.sign_in(email, "Another-Pass2!") is s


def test_change_password(pool, student):
    email, _ = student
    s = AuthSession(pool.settings())
    s.sign_in(email, PASSWORD)
    with pytest.raises(auth.WrongPasswordError) as err:
        s.change_password("not-the-password", "Another-Pass2!")  # moto checks the old one here
    assert err.value.field == "password"
    s.change_password(PASSWORD, "Another-Pass2!")


def test_optional_totp_for_a_signed_in_user(local_aws, monkeypatch):
    from tests.auth.conftest import make_pool

    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    p = make_pool(mfa="OPTIONAL")
    p.add_user("opt@uga.edu")
    s = AuthSession(p.settings())
    assert s.sign_in("opt@uga.edu", PASSWORD) is s
    secret = s.setup_totp()
    s.confirm_totp(totp(secret))
    step = AuthSession(p.settings()).sign_in("opt@uga.edu", PASSWORD)
    assert isinstance(step, Challenge) and step.name == "SOFTWARE_TOKEN_MFA"


def test_global_sign_out_revokes_everywhere(pool, student):
    email, sub = student
    laptop = AuthSession(pool.settings())
    laptop.sign_in(email, PASSWORD)
    other_refresh = AuthSession(pool.settings())
    other_refresh.restore()
    assert laptop.sign_out(global_=True) is True
    assert not laptop.signed_in and auth.last_user(pool.settings()) is None
    with pytest.raises(AuthExpiredError):
        other_refresh.renew()  # the same refresh token, now revoked by Cognito


def test_domains_checked_before_cognito_is_called(pool, monkeypatch):
    s = AuthSession(pool.settings())

    def boom(*a, **k):
        raise AssertionError("Cognito must not be called")

    monkeypatch.setattr(s._client, "_make_api_call", boom)
    for call in (lambda: s.sign_up("eve@gmail.com", PASSWORD), lambda: s.sign_in("eve@gmail.com", "x"),
                 lambda: s.forgot_password("eve@gmail.com")):
        with pytest.raises(AuthInputError) as err:
            call()
        assert err.value.field == "email"
        assert str(err.value) == "Use your university e-mail address (@uga.edu, @example.edu)."
    with pytest.raises(AuthInputError, match="not an e-mail address"):
        s.sign_in("ada", "x")
    with pytest.raises(AuthInputError, match="Enter your password"):
        s.sign_in("ada@uga.edu", "")


def test_missing_settings_say_what_to_set(local_aws):
    from archpal_desktop.core import config as cfg

    with pytest.raises(ConfigError, match="cognito_user_pool_id"):
        AuthSession(cfg.load_settings())


def test_offline_gives_offline_error_and_keeps_the_session(pool, student, monkeypatch):
    from archpal_desktop.core.errors import OfflineError

    email, sub = student
    AuthSession(pool.settings()).sign_in(email, PASSWORD)
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "http://127.0.0.1:9")
    s = AuthSession(pool.settings())
    assert s.restore() and s.sub == sub  # the cache opens at once
    with pytest.raises(OfflineError):
        auth.access_for_stored_session(pool.settings())
    assert memkeyring.contents()  # still signed in for when the network returns


def test_interactive_access_asks_on_the_terminal_when_the_session_is_gone(pool, student, monkeypatch, capsys):
    import io

    email, sub = student
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{email}\n{PASSWORD}\n"))
    from archpal_desktop.cli.prompt import access_interactively
    access = access_interactively(pool.settings())
    assert access.sub == sub
    assert "University e-mail" in capsys.readouterr().err
    assert auth.access_for_stored_session(pool.settings()).sub == sub  # remembered now
