"""The sign-in dialog driven as a user would: typing, Tab, Enter; asserting on what is shown."""
from __future__ import annotations

import base64

import pytest
from botocore.stub import ANY, Stubber
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QProgressBar

from archpal_desktop.core.auth import AuthSession
from archpal_desktop.ui.auth_dialog import AuthDialog
from archpal_desktop.ui.auth_sign_out import SignOutDialog
from tests.auth.conftest import PASSWORD, totp

pytestmark = pytest.mark.gui


@pytest.fixture
def open_dialog(qtbot, pool):
    def make(session=None, **kw):
        dlg = AuthDialog(pool.settings(), session=session, **kw)
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        dlg.activateWindow()
        return dlg
    return make


def edit(dlg, name) -> QLineEdit:
    return dlg.findChild(QLineEdit, name)


def shown(dlg, name) -> str:
    label = dlg.findChild(QLabel, name)
    return label.text() if label.isVisible() else ""


def type_into(qtbot, widget, text, then=None):
    widget.setFocus()
    qtbot.keyClicks(widget, text)
    if then is not None:
        qtbot.keyClick(widget, then)


def wait_idle(qtbot, dlg):
    qtbot.waitUntil(lambda: not dlg.busy, timeout=15000)


def test_sign_in_with_keyboard_and_busy_state(qtbot, open_dialog, pool, student):
    email, sub = student
    dlg = open_dialog()
    assert dlg.focusWidget() is edit(dlg, "sign_in_email")
    qtbot.keyClicks(dlg.focusWidget(), email)
    qtbot.keyClick(dlg.focusWidget(), Qt.Key_Tab)
    assert dlg.focusWidget() is edit(dlg, "sign_in_password")
    qtbot.keyClicks(dlg.focusWidget(), PASSWORD)
    with qtbot.waitSignal(dlg.signed_in, timeout=15000) as signal:
        qtbot.keyClick(dlg.focusWidget(), Qt.Key_Return)
        # the worker runs; the window stays responsive and shows that it is busy
        assert dlg.busy and dlg.findChild(QProgressBar, "busy").isVisible()
        assert not dlg.pages["sign_in"].isEnabled()
        assert shown(dlg, "status") == "Signing in…"
    session = signal.args[0]
    assert session.sub == sub and session.email == email
    assert dlg.result() == dlg.DialogCode.Accepted
    assert edit(dlg, "sign_in_password").text() == ""  # no password left in a widget


def test_inline_errors_before_cognito(qtbot, open_dialog, student):
    dlg = open_dialog()
    qtbot.keyClick(edit(dlg, "sign_in_email"), Qt.Key_Return)
    assert shown(dlg, "sign_in_email_error") == "Enter your e-mail address."
    type_into(qtbot, edit(dlg, "sign_in_email"), "eve@gmail.com", Qt.Key_Return)
    assert shown(dlg, "sign_in_email_error") == "Use your university e-mail address (@uga.edu, @example.edu)."
    edit(dlg, "sign_in_email").clear()
    type_into(qtbot, edit(dlg, "sign_in_email"), "ada", Qt.Key_Return)
    assert shown(dlg, "sign_in_email_error").startswith("That is not an e-mail address.")
    edit(dlg, "sign_in_email").clear()
    type_into(qtbot, edit(dlg, "sign_in_email"), "ada@uga.edu", Qt.Key_Return)
    assert shown(dlg, "sign_in_email_error") == ""  # typing cleared it
    assert shown(dlg, "sign_in_password_error") == "Enter your password."
    assert not dlg.busy


def test_wrong_password_shown_under_the_password(qtbot, open_dialog, pool):
    session = AuthSession(pool.settings())
    dlg = open_dialog(session)
    # moto accepts any password: Cognito's real answer comes from the Stubber on the real client
    with Stubber(session._client) as stub:
        stub.add_response("initiate_auth", {"ChallengeName": "PASSWORD_VERIFIER", "ChallengeParameters": {
            "SALT": "a1b2", "SRP_B": "f" * 64, "USERNAME": "ada@uga.edu", "USER_ID_FOR_SRP": "ada@uga.edu",
            "SECRET_BLOCK": base64.b64encode(b"x").decode()}}, {"AuthFlow": ANY, "AuthParameters": ANY, "ClientId": ANY})
        stub.add_client_error("respond_to_auth_challenge", "NotAuthorizedException", "Incorrect username or password.")
        type_into(qtbot, edit(dlg, "sign_in_email"), "ada@uga.edu")
        type_into(qtbot, edit(dlg, "sign_in_password"), "nope", Qt.Key_Return)
        wait_idle(qtbot, dlg)
    assert shown(dlg, "sign_in_password_error") == (
        "The e-mail address or password is not right. Check both and try again, or use 'Forgot password?'.")
    assert dlg.isVisible() and dlg.pages["sign_in"].isEnabled()


def test_sign_up_confirm_then_signed_in(qtbot, open_dialog, pool):
    dlg = open_dialog()
    qtbot.mouseClick(dlg.findChild(object, "sign_in_to_sign_up"), Qt.LeftButton)
    assert dlg.page.name == "sign_up"
    type_into(qtbot, edit(dlg, "sign_up_email"), "grace@uga.edu")
    type_into(qtbot, edit(dlg, "sign_up_password"), PASSWORD)
    type_into(qtbot, edit(dlg, "sign_up_repeat"), PASSWORD + "x", Qt.Key_Return)
    assert shown(dlg, "sign_up_repeat_error") == "The two passwords are not the same."
    edit(dlg, "sign_up_repeat").clear()
    type_into(qtbot, edit(dlg, "sign_up_repeat"), PASSWORD, Qt.Key_Return)
    wait_idle(qtbot, dlg)
    assert dlg.page.name == "confirm" and shown(dlg, "status").startswith("We sent a 6-digit code to")
    type_into(qtbot, edit(dlg, "confirm_code"), "12", Qt.Key_Return)
    wait_idle(qtbot, dlg)
    assert shown(dlg, "confirm_code_error") == "The code has 6 digits. Type the 6 digits you received."
    edit(dlg, "confirm_code").clear()
    with qtbot.waitSignal(dlg.signed_in, timeout=15000) as signal:
        type_into(qtbot, edit(dlg, "confirm_code"), "123456", Qt.Key_Return)
    assert signal.args[0].email == "grace@uga.edu"


def test_pre_sign_up_lambda_text_under_the_email(qtbot, open_dialog, pool):
    session = AuthSession(pool.settings())
    dlg = open_dialog(session)
    dlg.show_page("sign_up")
    # moto runs no Lambda triggers; the site's PreSignUp answer comes from the Stubber
    with Stubber(session._client) as stub:
        stub.add_client_error("sign_up", "UserLambdaValidationException",
                              "PreSignUp failed with error Only @uga.edu addresses.")
        type_into(qtbot, edit(dlg, "sign_up_email"), "ada@example.edu")
        type_into(qtbot, edit(dlg, "sign_up_password"), PASSWORD)
        type_into(qtbot, edit(dlg, "sign_up_repeat"), PASSWORD, Qt.Key_Return)
        wait_idle(qtbot, dlg)
    assert shown(dlg, "sign_up_email_error") == "Only @uga.edu addresses."


def test_not_confirmed_goes_to_the_code_page(qtbot, open_dialog, pool):
    pool.add_user("late@uga.edu", confirmed=False)
    dlg = open_dialog()
    type_into(qtbot, edit(dlg, "sign_in_email"), "late@uga.edu")
    type_into(qtbot, edit(dlg, "sign_in_password"), PASSWORD, Qt.Key_Return)
    wait_idle(qtbot, dlg)
    assert dlg.page.name == "confirm"
    assert shown(dlg, "confirm_error").startswith("This account is not confirmed yet.")


def test_forgot_password_flow_with_a_bad_code_first(qtbot, open_dialog, pool, student):
    session = AuthSession(pool.settings())
    dlg = open_dialog(session)
    type_into(qtbot, edit(dlg, "sign_in_email"), student[0])
    qtbot.mouseClick(dlg.findChild(object, "sign_in_to_forgot"), Qt.LeftButton)
    assert edit(dlg, "forgot_email").text() == student[0]  # carried over
    qtbot.keyClick(edit(dlg, "forgot_email"), Qt.Key_Return)
    wait_idle(qtbot, dlg)
    assert dlg.page.name == "reset" and shown(dlg, "status") == f"We sent a code to {student[0]}."
    type_into(qtbot, edit(dlg, "reset_code"), "111111")
    type_into(qtbot, edit(dlg, "reset_new_password"), "Another-Pass2!")
    type_into(qtbot, edit(dlg, "reset_repeat"), "Another-Pass2!")
    # moto checks only its own code form; an expired 6-digit code is Cognito's answer via Stubber
    with Stubber(session._client) as stub:
        stub.add_client_error("confirm_forgot_password", "ExpiredCodeException", "Invalid code provided")
        qtbot.keyClick(edit(dlg, "reset_repeat"), Qt.Key_Return)
        wait_idle(qtbot, dlg)
    assert shown(dlg, "reset_code_error").startswith("That code has expired.")
    qtbot.keyClick(edit(dlg, "reset_repeat"), Qt.Key_Return)  # with moto again: accepted
    wait_idle(qtbot, dlg)
    assert dlg.page.name == "sign_in"
    assert shown(dlg, "status") == "Your password was changed. Sign in with the new one."


def test_new_password_step(qtbot, open_dialog, pool):
    sub = pool.add_invited_user("newbie@uga.edu")
    dlg = open_dialog()
    type_into(qtbot, edit(dlg, "sign_in_email"), "newbie@uga.edu")
    type_into(qtbot, edit(dlg, "sign_in_password"), "Temp-Pass1!", Qt.Key_Return)
    wait_idle(qtbot, dlg)
    assert dlg.page.name == "new_password"
    qtbot.keyClick(edit(dlg, "new_password_new_password"), Qt.Key_Return)
    assert shown(dlg, "new_password_new_password_error") == "Enter a password."
    type_into(qtbot, edit(dlg, "new_password_new_password"), "Brand-New1!")
    with qtbot.waitSignal(dlg.signed_in, timeout=15000) as signal:
        type_into(qtbot, edit(dlg, "new_password_repeat"), "Brand-New1!", Qt.Key_Return)
    assert signal.args[0].sub == sub


def test_mfa_setup_shows_the_key_and_checks_the_code(qtbot, mfa_pool):
    mfa_pool.add_user("mfa@uga.edu")
    dlg = AuthDialog(mfa_pool.settings())
    qtbot.addWidget(dlg)
    dlg.show()
    type_into(qtbot, edit(dlg, "sign_in_email"), "mfa@uga.edu")
    type_into(qtbot, edit(dlg, "sign_in_password"), PASSWORD, Qt.Key_Return)
    wait_idle(qtbot, dlg)
    assert dlg.page.name == "mfa"
    secret = dlg.challenge.secret_code
    assert secret in shown(dlg, "mfa_intro") and "authenticator app" in shown(dlg, "mfa_intro")
    wrong = "000000" if totp(secret) != "000000" else "111111"
    type_into(qtbot, edit(dlg, "mfa_code"), wrong, Qt.Key_Return)
    wait_idle(qtbot, dlg)
    assert shown(dlg, "mfa_code_error") == "That code is not right. Check the code and type it again."
    edit(dlg, "mfa_code").clear()
    with qtbot.waitSignal(dlg.signed_in, timeout=15000):
        type_into(qtbot, edit(dlg, "mfa_code"), totp(secret), Qt.Key_Return)


def test_insecure_keyring_notice_is_visible(qtbot, open_dialog, pool, monkeypatch):
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    keyring.core._keyring_backend = None
    dlg = open_dialog(AuthSession(pool.settings()))
    assert "kept for this session only" in shown(dlg, "notice")


def test_sign_out_dialog_offers_removing_local_data(qtbot):
    dlg = SignOutDialog("ada@uga.edu", pending_uploads=2)
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.remove_data.isChecked() and not dlg.warning.isVisible()
    dlg.remove_data.setFocus()
    qtbot.keyClick(dlg.remove_data, Qt.Key_Space)
    assert dlg.remove_data.isChecked()
    assert dlg.warning.isVisible() and dlg.warning.text().startswith("2 change(s) have not been uploaded")
    qtbot.mouseClick(dlg.ok, Qt.LeftButton)
    assert dlg.result() == dlg.DialogCode.Accepted
