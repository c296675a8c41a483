"""Rejections moto cannot produce (it accepts any password and any sign-up code, runs no
Lambda triggers and never throttles), driven with botocore's Stubber on the app's real client.
Each case asserts the words the student sees and the field they are shown next to."""
from __future__ import annotations

import base64

import pytest
from botocore.stub import ANY, Stubber

from archpal_desktop.core.auth import AuthSession
from archpal_desktop.core.errors.cognito import TooManyAttemptsError
from archpal_desktop.core.errors import ArchPalError, ServiceUnavailableError


@pytest.fixture
def session(pool):
    return AuthSession(pool.settings())


def _srp_first_step(stub, email="ada@uga.edu"):
    stub.add_response("initiate_auth", {
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": {"SALT": "a1b2c3d4", "SRP_B": "f" * 64, "USERNAME": email,
                                "USER_ID_FOR_SRP": email,
                                "SECRET_BLOCK": base64.b64encode(b"secret-block").decode()},
    }, {"AuthFlow": "USER_SRP_AUTH", "AuthParameters": ANY, "ClientId": ANY})


def _error(stub, op, code, message, status=400):
    stub.add_client_error(op, service_error_code=code, service_message=message, http_status_code=status)


def _raises(fn) -> ArchPalError:
    with pytest.raises(ArchPalError) as err:
        fn()
    return err.value


def test_wrong_password(session):
    # moto's USER_SRP_AUTH accepts any password; real Cognito answers the verifier step like this
    with Stubber(session._client) as stub:
        _srp_first_step(stub)
        _error(stub, "respond_to_auth_challenge", "NotAuthorizedException", "Incorrect username or password.")
        err = _raises(lambda: session.sign_in("ada@uga.edu", "wrong"))
    assert err.field == "password"
    assert str(err) == ("The e-mail address or password is not right. Check both and try again, "
                        "or use 'Forgot password?'.")


def test_too_many_password_attempts(session):
    # Cognito's lock-out after repeated failures; moto has no such counter
    with Stubber(session._client) as stub:
        _srp_first_step(stub)
        _error(stub, "respond_to_auth_challenge", "NotAuthorizedException", "Password attempts exceeded")
        err = _raises(lambda: session.sign_in("ada@uga.edu", "wrong"))
    assert isinstance(err, TooManyAttemptsError)
    assert str(err) == "Too many attempts. Wait a few minutes, then try again."


def test_throttled(session):
    # throttling cannot be provoked on moto
    with Stubber(session._client) as stub:
        _error(stub, "forgot_password", "LimitExceededException", "Attempt limit exceeded, please try after some time.")
        err = _raises(lambda: session.forgot_password("ada@uga.edu"))
    assert isinstance(err, TooManyAttemptsError) and "Too many attempts" in str(err)


def test_bad_sign_up_code(session):
    # moto's ConfirmSignUp accepts any code
    with Stubber(session._client) as stub:
        _error(stub, "confirm_sign_up", "CodeMismatchException", "Invalid verification code provided, please try again.")
        err = _raises(lambda: session.confirm_sign_up("ada@uga.edu", "123456"))
    assert err.field == "code" and str(err) == "That code is not right. Check the code and type it again."


def test_expired_sign_up_code(session):
    with Stubber(session._client) as stub:
        _error(stub, "confirm_sign_up", "ExpiredCodeException", "Invalid code provided, please request a code again.")
        err = _raises(lambda: session.confirm_sign_up("ada@uga.edu", "123456"))
    assert err.field == "code" and str(err).startswith("That code has expired. Ask for a new code")


def test_pre_sign_up_lambda_message_shown_plainly(session):
    # moto runs no Lambda triggers; the pool's PreSignUp function refuses non-university addresses
    with Stubber(session._client) as stub:
        _error(stub, "sign_up", "UserLambdaValidationException",
               "PreSignUp failed with error Only @uga.edu addresses.")
        err = _raises(lambda: session.sign_up("ada@example.edu", "Passw0rd!x"))
    assert err.field == "email" and str(err) == "Only @uga.edu addresses."


def test_weak_password_policy_text(session):
    with Stubber(session._client) as stub:
        _error(stub, "sign_up", "InvalidPasswordException",
               "Password does not conform to policy: Password must have uppercase characters")
        err = _raises(lambda: session.sign_up("ada@uga.edu", "weakpass"))
    assert err.field == "password"
    assert str(err).startswith("This password is too weak: Password must have uppercase characters.")


def test_service_down(session):
    with Stubber(session._client) as stub:
        _error(stub, "sign_up", "InternalErrorException", "boom", status=500)
        err = _raises(lambda: session.sign_up("ada@uga.edu", "Passw0rd!x"))
    assert isinstance(err, ServiceUnavailableError)


def test_expired_reset_code(session):
    # moto only checks reset codes of its own private form, never a 6-digit one
    with Stubber(session._client) as stub:
        _error(stub, "confirm_forgot_password", "ExpiredCodeException",
               "Invalid code provided, please request a code again.")
        err = _raises(lambda: session.confirm_forgot_password("ada@uga.edu", "111111", "New-Pass1!"))
    assert err.field == "code" and "expired" in str(err)
