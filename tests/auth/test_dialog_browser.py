"""The sign-in dialog's browser sign-in, clicked as a student clicks it. ``QDesktopServices`` hands
http URLs to a handler registered the way Qt documents (``setUrlHandler``): here it is the
headless chromium, which then fills the local sign-in page as the student would."""
from __future__ import annotations

import os
import types
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QToolButton

from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth import AuthSession, accounts
from archpal_desktop.ui.auth_dialog import AuthDialog
from archpal_desktop.ui.auth_sign_out import SignOutDialog
from tests.auth.conftest import PASSWORD
from tests.support import memkeyring

pytestmark = pytest.mark.gui
EMAIL = "ada@uga.edu"
#: read at import: the autouse fixture clears ARCHPAL_* variables before each test
SHOTS = os.environ.get("ARCHPAL_SHOTS", "")


class BrowserStandIn(QObject):
    """Where QDesktopServices sends http(s) URLs during a test (instead of xdg-open)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString(QUrl.FullyEncoded))


@pytest.fixture
def system_browser(qapp):
    stand_in = BrowserStandIn()
    for scheme in ("http", "https"):
        QDesktopServices.setUrlHandler(scheme, stand_in, "open")
    yield stand_in
    for scheme in ("http", "https"):
        QDesktopServices.unsetUrlHandler(scheme)


@pytest.fixture
def dialog(qtbot, browser_pool):
    def make(settings=None, session=None):
        settings = settings or browser_pool.settings()
        dlg = AuthDialog(settings, session=session or AuthSession(settings))
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        return dlg
    return make


def button(dlg, name) -> QPushButton:
    return dlg.findChild(QPushButton, name)


def shown(dlg, name) -> str:
    label = dlg.findChild(QLabel, name)
    return label.text() if label is not None and label.isVisible() else ""


def click(qtbot, widget) -> None:
    assert widget.isVisible() and widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.LeftButton)


def start_waiting(qtbot, dlg, system_browser) -> str:
    assert dlg.page.name == "browser" and button(dlg, "browser_submit").isDefault()
    click(qtbot, button(dlg, "browser_submit"))
    qtbot.waitUntil(lambda: dlg.page.name == "waiting" and bool(system_browser.urls), timeout=15000)
    assert button(dlg, "waiting_reopen").isVisible() and button(dlg, "waiting_copy").isVisible()
    return system_browser.urls[-1]


def test_sign_in_with_the_browser_from_the_dialog(qtbot, dialog, browser_pool, system_browser, page):
    sub = browser_pool.add_user(EMAIL)
    dlg = dialog()
    url = start_waiting(qtbot, dlg, system_browser)
    assert "code_challenge_method=S256" in url
    click(qtbot, button(dlg, "waiting_reopen"))          # "Open the page again"
    assert system_browser.urls[-2:] == [url, url]
    click(qtbot, button(dlg, "waiting_copy"))            # "Copy the address"
    assert QGuiApplication.clipboard().text() == url
    assert "Address copied" in shown(dlg, "status")
    with qtbot.waitSignal(dlg.signed_in, timeout=30000) as signal:
        page.goto(url)
        page.submit({"#username": EMAIL, "#password": PASSWORD}, "#sign_in")
    assert signal.args[0].sub == sub and signal.args[0].via == "browser"
    assert dlg.result() == AuthDialog.Accepted
    assert ("ArchPal Desktop", f"{browser_pool.pool_id}/{sub}") in memkeyring.contents()


def test_cancel_while_waiting_comes_back_with_a_sentence(qtbot, dialog, system_browser):
    dlg = dialog()
    start_waiting(qtbot, dlg, system_browser)
    click(qtbot, button(dlg, "waiting_cancel"))
    qtbot.waitUntil(lambda: dlg.page.name == "browser", timeout=15000)
    assert shown(dlg, "browser_error") == "Sign-in cancelled. Sign in again when you are ready."
    assert button(dlg, "browser_submit").text() == "Try again"


def test_closing_the_dialog_while_waiting_ends_the_attempt(qtbot, dialog, system_browser, browser_pool):
    from archpal_desktop.core.auth.loopback import port_is_free

    dlg = dialog()
    start_waiting(qtbot, dlg, system_browser)
    qtbot.keyClick(dlg, Qt.Key_Escape)
    assert not dlg.isVisible()
    qtbot.waitUntil(lambda: not dlg.tasks.busy, timeout=15000)
    assert port_is_free(browser_pool.port)


def test_a_mistyped_domain_is_said_on_the_first_page(qtbot, dialog, browser_pool, system_browser):
    dlg = dialog(browser_pool.settings(**{cfg.COGNITO_DOMAIN: "archpal-typo.invalid"}))
    click(qtbot, button(dlg, "browser_submit"))
    qtbot.waitUntil(lambda: bool(shown(dlg, "browser_error")), timeout=15000)
    assert "probably mistyped" in shown(dlg, "browser_error")
    assert dlg.page.name == "browser" and not system_browser.urls


def test_both_ways_and_the_password_page(qtbot, dialog, browser_pool):
    dlg = dialog(browser_pool.settings(**{cfg.SIGN_IN: "both"}))
    assert dlg.page.name == "sign_in"
    click(qtbot, button(dlg, "sign_in_to_browser"))
    assert dlg.page.name == "browser"
    click(qtbot, button(dlg, "browser_to_password"))
    assert dlg.page.name == "sign_in"
    # no domain: the password form only (sites without a sign-in page)
    plain = dialog(browser_pool.settings(**{cfg.COGNITO_DOMAIN: ""}))
    assert plain.page.name == "sign_in" and "browser" not in plain.pages


def test_show_password_toggle(qtbot, dialog, browser_pool):
    dlg = dialog(browser_pool.settings(**{cfg.SIGN_IN: "password"}))
    field = dlg.findChild(QLineEdit, "sign_in_password")
    toggle = dlg.findChild(QToolButton, "sign_in_password_show")
    qtbot.keyClicks(field, "s3cret")
    assert field.echoMode() == QLineEdit.Password and toggle.text() == "Show"
    click(qtbot, toggle)
    assert field.echoMode() == QLineEdit.Normal and toggle.text() == "Hide"
    click(qtbot, toggle)
    assert field.echoMode() == QLineEdit.Password
    primary = button(dlg, "sign_in_submit")
    assert primary.isDefault() and "palette(highlight)" in primary.styleSheet()


def test_offline_without_a_secure_keyring_opens_the_saved_work(qtbot, qapp, browser_pool,
                                                              monkeypatch, tmp_path):
    """Issue 11, broken 5: the dialog said the work was saved but offered no way in."""
    import keyring.core

    from archpal_desktop.core.cache import Store
    from archpal_desktop.localstack.server import free_port
    from archpal_desktop.ui import app as ui_app
    from archpal_desktop.ui.tasks import TaskManager

    settings = browser_pool.settings()
    sub = browser_pool.add_user(EMAIL)
    accounts.remember(settings.data_dir(), sub, email=EMAIL, pool_id=browser_pool.pool_id)
    store = Store.open_for_user(settings.data_dir(), sub)
    cid = store.create_conversation("My essay").conversation_id
    store.close()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core._keyring_backend = None
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", f"http://127.0.0.1:{free_port()}")
    tasks = TaskManager()
    seen = []

    def drive():
        dlg = QApplication.activeModalWidget()
        if isinstance(dlg, AuthDialog) and not seen:
            seen.append(dlg.findChild(QLabel, "offline_text").text())
            click(qtbot, button(dlg, "open_offline"))

    timer = QTimer()
    timer.timeout.connect(drive)
    timer.start(50)
    try:
        who = ui_app.resolve_user(types.SimpleNamespace(demo=None), settings, tasks)
    finally:
        timer.stop()
    assert who is not None, "the student was locked out"
    got_sub, email, access, session = who
    assert got_sub == sub and email == EMAIL and session.offline_only
    assert f"The conversations of {EMAIL} are saved on this computer" in seen[0]
    store = Store.open_for_user(settings.data_dir(), sub)
    try:
        store.add_message(cid, "user", "written while locked out")  # read and write
        assert store.pending_upload_count() >= 1                      # queued as usual
    finally:
        store.close()
    from archpal_desktop.core.errors import AuthExpiredError
    with pytest.raises(AuthExpiredError):   # sync and the coach wait for a sign-in
        access()
    assert tasks.shutdown()


def test_sign_out_dialog_offers_ending_the_browser_session(qtbot):
    dlg = SignOutDialog("ada@uga.edu", browser=True)
    qtbot.addWidget(dlg)
    dlg.show()
    box = dlg.findChild(type(dlg.end_browser), "end_browser_session")
    assert box.isVisible() and box.isChecked()
    plain = SignOutDialog("ada@uga.edu")
    qtbot.addWidget(plain)
    plain.show()
    assert not plain.end_browser.isVisible()


def test_the_windows_sign_out_revokes_the_session(qtbot, qapp, pool, student, bucket, system_browser):
    """Issue 18 point 10, the window's side: File ▸ Sign out revokes the refresh token."""
    import boto3

    from archpal_desktop.core.cache import Store
    from archpal_desktop.ui.main_window import MainWindow
    from archpal_desktop.ui.state import AppState
    from archpal_desktop.ui.tasks import TaskManager
    from archpal_desktop.ui.theme import ThemeManager

    settings = pool.settings(**{cfg.S3_BUCKET_NAME: bucket})
    session = AuthSession(settings)
    session.sign_in(student[0], PASSWORD)
    refresh = session._refresh_token
    store = Store.open_for_user(settings.data_dir(), session.sub)
    tasks = TaskManager()
    state = AppState(settings=settings, store=store, tasks=tasks, sub=session.sub,
                     email=session.email, access=session.access, auth=session,
                     theme=ThemeManager(qapp, "light"))
    window = MainWindow(state, start_sync=False)
    qtbot.addWidget(window)
    window.show()

    def confirm():
        dlg = QApplication.activeModalWidget()
        if isinstance(dlg, SignOutDialog):
            click(qtbot, dlg.ok)

    timer = QTimer()
    timer.timeout.connect(confirm)
    timer.start(50)
    try:
        action = next(a for a in window.findChildren(type(window.menuBar().actions()[0]))
                      if a.text().replace("&", "") == "Sign out")
        action.trigger()
    finally:
        timer.stop()
    assert session.revoked and memkeyring.contents() == {}
    client = boto3.client("cognito-idp", region_name="us-east-1")
    with pytest.raises(client.exceptions.NotAuthorizedException):
        client.initiate_auth(ClientId=pool.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                             AuthParameters={"REFRESH_TOKEN": refresh})
    qtbot.waitUntil(lambda: not tasks.busy, timeout=15000)
    assert tasks.shutdown()
    store.close()


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_waiting_page_screenshot(qtbot, qapp, dialog, system_browser, mode, tmp_path,
                                browser_pool):
    """The dialog while the browser is open, grabbed (to $ARCHPAL_SHOTS/auth, else a temporary
    folder) for a human look; the buttons a student needs are there and readable."""
    from archpal_desktop.ui.theme import ThemeManager

    theme = ThemeManager(qapp, mode)
    try:
        dlg = dialog()
        folder = Path(SHOTS or tmp_path) / "auth"
        folder.mkdir(parents=True, exist_ok=True)
        assert dlg.grab().save(str(folder / f"sign_in_browser_{mode}.png"))
        start_waiting(qtbot, dlg, system_browser)
        for name in ("waiting_reopen", "waiting_copy", "waiting_cancel"):
            widget = button(dlg, name)
            assert widget.isVisible() and widget.width() >= widget.sizeHint().width()
        assert dlg.grab().save(str(folder / f"sign_in_waiting_{mode}.png"))
        click(qtbot, button(dlg, "waiting_cancel"))
        qtbot.waitUntil(lambda: dlg.page.name == "browser", timeout=15000)
        assert dlg.grab().save(str(folder / f"sign_in_cancelled_{mode}.png"))
        form = dialog(browser_pool.settings(**{cfg.SIGN_IN: "both"}))  # the password form
        assert form.grab().save(str(folder / f"sign_in_password_{mode}.png"))
    finally:
        theme.set_mode("light")


def test_closing_the_dialog_while_the_attempt_starts_leaves_no_listener(qtbot, dialog,
                                                                       system_browser, browser_pool):
    from archpal_desktop.core.auth.loopback import port_is_free

    dlg = dialog()
    click(qtbot, button(dlg, "browser_submit"))
    dlg.reject()   # the window closes before the sign-in page could be opened
    qtbot.waitUntil(lambda: not dlg.tasks.busy, timeout=15000)
    assert port_is_free(browser_pool.port) and not system_browser.urls
