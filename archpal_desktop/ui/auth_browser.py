"""The sign-in dialog's browser pages (issue 13): "Sign in with your university", and the page
shown while the system browser is on the university's sign-in page, with "Open the page again",
"Copy the address" and "Cancel". Every failure comes back to the first page with its sentence.

The browser is opened through ``QDesktopServices.openUrl``, so a platform (or a test) that routes
http(s) URLs elsewhere with ``QDesktopServices.setUrlHandler`` gets them there.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QProgressBar, QPushButton

from archpal_desktop.core.errors import ArchPalError, map_exception

log = logging.getLogger(__name__)

PRIMARY_STYLE = ("QPushButton { background: palette(highlight); color: palette(highlighted-text); "
                 "border: 1px solid palette(highlight); border-radius: 4px; padding: 6px 14px; "
                 "font-weight: bold; } QPushButton:disabled { background: palette(mid); }")


class BrowserPagesMixin:
    """Mixed into AuthDialog: builds and drives the "browser" and "waiting" pages."""

    def _build_browser_pages(self, mode: str) -> None:
        self._attempt = None
        p = self._page("browser", "Sign in",
                       "Sign in with your university account on its own sign-in page, in your "
                       "browser. ArchPal never sees your password.")
        p.add_primary("Sign in with your university").clicked.connect(self._browser_sign_in)
        if mode == "both":
            p.add_link("Sign in with a password instead", "to_password").clicked.connect(
                lambda: self.show_page("sign_in"))

        w = self._page("waiting", "Finish signing in in your browser",
                       "Your browser shows your university's sign-in page. Sign in there; this "
                       "window goes on by itself when you are done.")
        spinner = QProgressBar()
        spinner.setObjectName("waiting_busy")
        spinner.setRange(0, 0)
        spinner.setTextVisible(False)
        spinner.setMaximumHeight(6)
        spinner.setAccessibleName("Waiting for the browser")
        w.form.addRow(spinner)
        again = QPushButton("Open the page again")
        again.setObjectName("waiting_reopen")
        again.setAutoDefault(False)
        again.clicked.connect(self._open_browser_page)
        copy = QPushButton("Copy the address")
        copy.setObjectName("waiting_copy")
        copy.setAutoDefault(False)
        copy.setToolTip("For a browser with another profile: paste the address there")
        copy.clicked.connect(self._copy_browser_address)
        cancel = QPushButton("Cancel")
        cancel.setObjectName("waiting_cancel")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self._cancel_browser)
        w.buttons.addWidget(again)
        w.buttons.addWidget(copy)
        w.buttons.addStretch(1)
        w.buttons.addWidget(cancel)

    # -- the flow ---------------------------------------------------------------------------
    def _browser_sign_in(self) -> None:
        page = self.pages["browser"]
        page.primary.setText("Sign in with your university")

        def start(session):
            attempt = session.browser_sign_in()
            attempt.start()  # discovery, domain, loopback port: each fails with its sentence
            return attempt

        self._run("Opening your university's sign-in page…", start, self._browser_started)

    def _browser_started(self, attempt) -> None:
        if not self.isVisible():  # closed while the attempt was starting: nobody will finish it
            attempt.close()
            return
        self._attempt = attempt
        self.show_page("waiting")
        self._open_browser_page()
        self.tasks.run_in_background(attempt.finish, self._browser_finished, self._browser_failed)

    def _open_browser_page(self) -> None:
        if self._attempt is not None and not QDesktopServices.openUrl(QUrl(self._attempt.url)):
            self.pages["waiting"].set_error("", "No browser could be opened. Use “Copy the "
                                                "address” and paste it into a browser.")

    def _copy_browser_address(self) -> None:
        if self._attempt is not None:
            QGuiApplication.clipboard().setText(self._attempt.url)
            self.status.setText("Address copied. Paste it into your browser's address bar.")
            self.status.setVisible(True)

    def _cancel_browser(self) -> None:
        if self._attempt is not None:
            self._attempt.cancel()  # finish() raises BrowserCancelledError: back to page one

    def _browser_finished(self, session) -> None:
        self._attempt = None
        self.status.hide()
        self.raise_()
        self.activateWindow()
        self._after_sign_in(session)

    def _browser_failed(self, exc: BaseException) -> None:
        self._attempt = None
        self.show_page("browser")
        page = self.pages["browser"]
        err = exc if isinstance(exc, ArchPalError) else map_exception(exc)
        if not isinstance(exc, ArchPalError):
            log.error("browser sign-in failed", exc_info=(type(exc), exc, exc.__traceback__))
        page.set_error("", str(err))
        page.primary.setText("Try again")
        self.raise_()

    def _end_browser_attempt(self) -> None:
        """The dialog closes: no listener or worker outlives it."""
        if getattr(self, "_attempt", None) is not None:
            self._attempt.cancel()


def end_browser_session(tasks, session) -> None:
    """Open the managed login's /logout in the browser (the URL is built off the UI thread:
    discovery may need the network); a failure only means the browser's session stays."""
    def opened(url: str) -> None:
        QDesktopServices.openUrl(QUrl(url))

    def failed(exc: BaseException) -> None:
        log.info("the sign-in page's session could not be ended: %s", map_exception(exc).code)

    tasks.run_in_background(session.hosted_logout_url, opened, failed)
