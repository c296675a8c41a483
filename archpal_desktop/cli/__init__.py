"""The ``archpal-desktop`` entry point: the window by default, plus headless sub-commands.

Command modules register themselves through :data:`COMMAND_MODULES`; each has
``register(subparsers)`` adding parsers whose ``func(ctx) -> int`` runs the command.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from archpal_desktop import __version__
from archpal_desktop.core.errors import ArchPalError, map_exception
from archpal_desktop.core.termsafe import escape, say  # S3 text in errors: shown, never obeyed

COMMAND_MODULES = (
    "archpal_desktop.cli.core_cmds",
    "archpal_desktop.cli.auth_cmds",
    "archpal_desktop.cli.chat_cmds",
    "archpal_desktop.cli.admin_cmds",
)


def global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """Options every command takes, before or after the command name."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", metavar="FILE", default=default,
                        help="the user settings file to use instead of the default one")
    parser.add_argument("--data-dir", metavar="DIR", default=default,
                        help="folder for the local cache (default: the platform's data folder)")
    parser.add_argument("--user", metavar="SUB", default=default,
                        help="act as this Cognito sub with static/default AWS credentials "
                             "(admin and development setups with no Cognito session)")
    parser.add_argument("--demo", action="store_true", default=default if suppress else False,
                        help="run against the embedded local backend (no AWS needed)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=default if suppress else False, help="log more to stderr")


#: the sub-commands, by module; the window's start never imports a command module it won't run
COMMANDS = {"sync": 0, "export": 0, "login": 1, "logout": 1, "chat": 2, "admin": 3, "doctor": 3,
            "config": 3}


def _wanted_modules(argv: list[str]) -> list[str]:
    if any(a in ("-h", "--help") for a in argv):
        return list(COMMAND_MODULES)
    for arg in argv:
        if arg in COMMANDS:
            return [COMMAND_MODULES[COMMANDS[arg]]]
    return []


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archpal-desktop",
        description="ArchPal Desktop: your writing coach, offline-first. With no command, opens the window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="sign in, chat, sync on the embedded local backend and exit 0 if all works")
    global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    global_options(common, suppress=True)
    modules = COMMAND_MODULES if argv is None else _wanted_modules(argv)
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    # before anything is created: folders, the log file, the cache, exports are never readable or
    # writable by other local users, whatever umask the session started with (issue 18)
    os.umask(0o077)
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    from archpal_desktop.cli.context import Context

    ctx = Context(args)
    try:
        ctx.setup_logging()
        if args.self_test:
            from archpal_desktop.cli.selftest import run_self_test
            return run_self_test(ctx)
        if not args.command:
            return ctx.run_gui()
        return int(args.func(ctx) or 0)
    except KeyboardInterrupt:
        print("archpal-desktop: interrupted", file=sys.stderr)
        return 130
    except ArchPalError as exc:
        say(f"archpal-desktop: {escape(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # one line for the user, the trace in the log
        import logging
        logging.getLogger("archpal_desktop").exception("command failed")
        say(f"archpal-desktop: {escape(map_exception(exc))}", file=sys.stderr)
        return 1
    finally:
        ctx.close()
