"""``archpal-desktop login`` / ``logout``: a real Cognito session for the headless commands."""
from __future__ import annotations

import argparse
import sys

from archpal_desktop.core import auth
from archpal_desktop.cli.prompt import Terminal, terminal_sign_in


def register(subparsers, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("login", parents=[common],
                              help="sign in with your university account (asks on the terminal)")
    p.add_argument("--email", help="your university e-mail address (asked when omitted)")
    p.set_defaults(func=cmd_login)
    p = subparsers.add_parser("logout", parents=[common],
                              help="sign out of this computer (and everywhere, when online)")
    p.add_argument("--remove-data", action="store_true",
                   help="also delete your conversations cached on this computer")
    p.add_argument("--local", action="store_true",
                   help="only sign out here; keep other devices signed in")
    p.set_defaults(func=cmd_logout)


def cmd_login(ctx) -> int:
    session = auth.AuthSession(ctx.settings)
    terminal_sign_in(session, email=ctx.args.email, term=Terminal())
    print(f"Signed in as {session.email or session.sub}.")
    if session.notice:
        print(session.notice, file=sys.stderr)
    return 0


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
    everywhere = session.sign_out(global_=not ctx.args.local, remove_data=ctx.args.remove_data)
    if ctx.args.local:
        print(f"Signed out {who} on this computer.")
    elif everywhere:
        print(f"Signed out {who} everywhere.")
    else:
        print(f"Signed out {who} on this computer; other devices could not be signed out "
              "because the server was unreachable.")
    if ctx.args.remove_data:
        print("Removed this computer's copy of your conversations.")
    else:
        print("Your conversations stay cached on this computer (use --remove-data to delete them).")
    return 0
