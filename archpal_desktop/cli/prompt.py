"""Signing in on a terminal (``archpal-desktop login``), with the new-password and MFA steps.

Passwords are read with ``getpass`` on a terminal; when stdin is not a terminal (a script piping
answers in) each answer is one line of stdin, and nothing typed is ever echoed or logged.
"""
from __future__ import annotations

import getpass
import sys
from typing import TextIO

from archpal_desktop.core.errors.cognito import AuthInputError
from archpal_desktop.core.auth.forms import Challenge, check_email
from archpal_desktop.core.auth.session import AuthSession
from archpal_desktop.core.errors import ArchPalError

MAX_TRIES = 3


class Terminal:
    def __init__(self, stdin: TextIO | None = None, stderr: TextIO | None = None):
        self.stdin = stdin or sys.stdin
        self.out = stderr or sys.stderr

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def ask(self, prompt: str, default: str = "") -> str:
        shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
        self.out.write(shown)
        self.out.flush()
        line = self.stdin.readline()
        if not line:
            raise ArchPalError("No answer was given (end of input).", "Run the command again.")
        return line.strip() or default

    def secret(self, prompt: str) -> str:
        if self.stdin.isatty():
            return getpass.getpass(f"{prompt}: ", stream=self.out)
        self.out.write(f"{prompt}: ")
        self.out.flush()
        line = self.stdin.readline()
        if not line:
            raise ArchPalError("No answer was given (end of input).", "Run the command again.")
        return line.rstrip("\r\n")


def _answer(term: Terminal, challenge: Challenge) -> str:
    if challenge.name == "NEW_PASSWORD_REQUIRED":
        term.say("You must choose a new password before your first sign-in.")
        while True:
            first = term.secret("New password")
            if first and first == term.secret("New password again"):
                return first
            term.say("The two passwords are not the same (or empty); try again.")
    if challenge.name == "MFA_SETUP":
        term.say("Your account needs an authenticator app (two-step sign-in).")
        term.say(f"Add this key to the app: {challenge.secret_code}")
        term.say(f"(or open: {challenge.otpauth_uri})")
        return term.ask("6-digit code from the app")
    if challenge.name == "SMS_MFA":
        return term.ask("6-digit code from the text message")
    return term.ask("6-digit code from your authenticator app")


def terminal_sign_in(session: AuthSession, email: str | None = None,
                     term: Terminal | None = None) -> AuthSession:
    """Ask for e-mail and password (and any further step) until signed in or MAX_TRIES fail."""
    term = term or Terminal()
    if session.notice:
        term.say(session.notice)
    default = email or session.email or ""
    for attempt in range(1, MAX_TRIES + 1):
        try:
            address = check_email(session.settings, email or term.ask("University e-mail", default))
            result = session.sign_in(address, term.secret("Password"))
            step_errors = 0
            while isinstance(result, Challenge):
                try:
                    result = session.answer_challenge(result, _answer(term, result))
                except AuthInputError as exc:  # a bad code or weak password: ask that step again
                    step_errors += 1
                    if step_errors >= MAX_TRIES:
                        raise
                    term.say(str(exc))
            return session
        except AuthInputError as exc:
            if attempt == MAX_TRIES:
                raise  # the command prints it once
            term.say(str(exc))
    raise AssertionError("unreachable")


def terminal_browser_sign_in(session: AuthSession, *, open_browser: bool = True,
                             term: Terminal | None = None, timeout: float | None = None) -> None:
    """Browser sign-in from a terminal: print the address (stdout, for a remote shell's user to
    open elsewhere), open it here unless told not to, wait for the redirect. Ctrl+C cancels."""
    term = term or Terminal()
    attempt = session.browser_sign_in(timeout)
    url = attempt.start()
    print("Open this address in a browser to sign in:", flush=True)
    print(f"  {url}", flush=True)
    if open_browser:
        import webbrowser

        try:
            opened = webbrowser.open(url)
        except Exception:  # no browser here: the printed address still works
            opened = False
        if not opened:
            term.say("No browser could be opened here; open the address above yourself.")
    term.say("Waiting for the sign-in to finish in the browser (Ctrl+C to cancel)...")
    try:
        attempt.finish()
    except KeyboardInterrupt:
        attempt.cancel()
        raise


def access_interactively(settings):
    """AWS access for the stored session, asking on the terminal if it is gone."""
    from archpal_desktop.core import auth

    return auth.access_for_stored_session(settings, ask=sign_in_as_the_site_says)


def sign_in_as_the_site_says(session: AuthSession) -> None:
    """The terminal's sign-in: the browser where the site signs in on its own page."""
    if session.sign_in_mode() == "browser":
        terminal_browser_sign_in(session)
    else:
        terminal_sign_in(session)
