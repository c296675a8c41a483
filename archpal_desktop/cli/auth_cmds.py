"""``archpal-desktop login`` / ``logout``: a real Cognito session for the headless commands."""
from __future__ import annotations

import argparse
import sys

from archpal_desktop.core import auth
from archpal_desktop.cli.prompt import Terminal, terminal_browser_sign_in, terminal_sign_in


def register(subparsers, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("login", parents=[common],
                              help="sign in with your university account (asks on the terminal)")
    p.add_argument("--email", help="your university e-mail address (asked when omitted)")
    p.add_argument("--browser", action="store_true",
                   help="sign in on the university's sign-in page in a browser (the default "
                        "where the site has a sign-in domain)")
    p.add_argument("--password", action="store_true",
                   help="sign in with your password on the terminal instead")
    p.add_argument("--no-open", action="store_true",
                   help="with --browser: only print the address to open (remote shells)")
    p.set_defaults(func=cmd_login)
    p = subparsers.add_parser("logout", parents=[common],
                              help="sign out of this computer (and everywhere, when online)")
    p.add_argument("--remove-data", action="store_true",
                   help="also delete your conversations cached on this computer")
    p.add_argument("--local", action="store_true",
                   help="only sign out here; keep other devices signed in")
    p.add_argument("--browser", action="store_true",
                   help="also sign out of the university's sign-in page in the browser")
    p.set_defaults(func=cmd_logout)


def register_admin(asub, common: argparse.ArgumentParser) -> None:
    """``admin setup-sign-in``: the app client's part of the browser sign-in (issue 13 p6)."""
    a = asub.add_parser("setup-sign-in", parents=[common],
                        help="print (or --apply) the app client settings the browser sign-in needs")
    a.add_argument("--user-pool-id", help="default: cognito_user_pool_id")
    a.add_argument("--client-id", help="default: cognito_client_id (the web app's public client works)")
    a.add_argument("--apply", action="store_true",
                   help="add them to the app client now (admin credentials; keeps what it has)")
    a.set_defaults(func=cmd_setup_sign_in)


def cmd_setup_sign_in(ctx) -> int:
    from archpal_desktop.core import config as cfg
    from archpal_desktop.core.auth import admin_kit
    from archpal_desktop.core.aws import static_access
    from archpal_desktop.core.errors import ConfigError

    settings, a = ctx.settings, ctx.args
    print(admin_kit.describe(settings))
    if not a.apply:
        print("Run again with --apply to add these to the app client.")
        return 0
    pool_id = a.user_pool_id or settings[cfg.COGNITO_USER_POOL_ID]
    client_id = a.client_id or settings[cfg.COGNITO_CLIENT_ID]
    if not pool_id or not client_id:
        raise ConfigError("No user pool or app client.", "Pass --user-pool-id and --client-id.")
    idp = static_access(settings, "archpal-admin").session.client(
        "cognito-idp", region_name=settings.cognito_region())
    changes = admin_kit.setup_sign_in(idp, pool_id, client_id, settings)
    for change in changes:
        print(f"- {change}")
    print(f"App client {client_id} is ready for the browser sign-in." if changes
          else f"App client {client_id} already had everything.")
    return 0


def cmd_login(ctx) -> int:
    session = auth.AuthSession(ctx.settings)
    args = ctx.args
    browser = args.browser or (session.sign_in_mode() == "browser" and not args.password)
    if browser:
        terminal_browser_sign_in(session, open_browser=not args.no_open, term=Terminal())
    else:
        terminal_sign_in(session, email=args.email, term=Terminal())
    print(f"Signed in as {session.email or session.sub}.")
    if session.notice:
        print(session.notice, file=sys.stderr)
    return 0


def _wait_for_signed_out_page(timeout: float = 120.0) -> None:
    """The browser comes back to this process's loopback page after /logout: keep serving it
    until it has (or Ctrl+C), so the person sees "You are signed out", not a connection error."""
    from archpal_desktop.core.auth.loopback import SignedOutPage

    pages = SignedOutPage.waiting()
    if not pages:
        return
    print("Waiting for the browser to finish signing out (Ctrl+C to stop waiting)...",
          file=sys.stderr, flush=True)
    try:
        pages[0].visited.wait(timeout)
    except KeyboardInterrupt:
        pass
    finally:
        SignedOutPage.close_all()


def cmd_logout(ctx) -> int:
    session = auth.AuthSession(ctx.settings)
    if not session.restore():
        sub = auth.last_user(ctx.settings)
        if ctx.args.remove_data and sub:
            auth.remove_user_data(ctx.settings, sub)
            print("Removed this computer's copy of your conversations.")
        print("Nobody is signed in on this computer.")
        return 0
    who = session.email or session.sub
    logout_url = ""
    if ctx.args.browser and session.via == "browser":
        try:
            logout_url = session.hosted_logout_url()
        except Exception as exc:  # offline: the local sign-out still happens
            print(f"The sign-in page's own session could not be ended: {exc}", file=sys.stderr)
    everywhere = session.sign_out(global_=not ctx.args.local, remove_data=ctx.args.remove_data)
    if ctx.args.local:
        print(f"Signed out {who} on this computer.")
        if session.revoked:
            print("Its session is revoked: it cannot be used again, even if copied.")
        else:
            print("The server could not be reached to revoke the session; it stays valid "
                  "there until it expires.", file=sys.stderr)
    elif everywhere:
        print(f"Signed out {who} everywhere.")
    else:
        print(f"Signed out {who} on this computer; other devices could not be signed out "
              "because the server was unreachable.")
    if logout_url:
        import webbrowser

        print("To sign out of the university's sign-in page too, open:", flush=True)
        print(f"  {logout_url}", flush=True)
        try:
            webbrowser.open(logout_url)
        except Exception:
            pass
        _wait_for_signed_out_page()
    if ctx.args.remove_data:
        print("Removed this computer's copy of your conversations.")
    else:
        print("Your conversations stay cached on this computer (use --remove-data to delete them).")
    return 0
