"""Headless commands of the core: ``sync`` and ``export``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from archpal_desktop.core.termsafe import escape


def register(sub, common) -> None:
    p = sub.add_parser("sync", parents=[common], help="sync the local cache with S3 once")
    p.add_argument("--json", action="store_true", help="print a JSON summary (request counts, changes)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("export", parents=[common],
                       help="write your whole local history in the web app's layout")
    p.add_argument("--all", action="store_true", required=True, help="export everything (required)")
    p.add_argument("--out", metavar="DIR", required=True, help="folder to write into")
    p.set_defaults(func=cmd_export)


def cmd_sync(ctx) -> int:
    from archpal_desktop.core.sync import sync_once

    access = ctx.access()
    store = ctx.open_store(access.sub)
    verbose = not getattr(ctx.args, "json", False)

    def progress(done: int, total: int, phase: str) -> None:
        if verbose and total and sys.stderr.isatty():
            print(f"\r{phase}: {done}/{total}", end="", file=sys.stderr, flush=True)

    result = sync_once(store, access, ctx.settings, progress=progress)
    if getattr(ctx.args, "json", False):
        print(json.dumps(result.to_json(), indent=2))
    else:
        req = result.requests
        print(f"Synced: {len(result.pulled)} conversation(s) updated here, {len(result.pushed)} "
              f"uploaded; {req.get('list', 0)} LIST, {req.get('get', 0)} GET, {req.get('put', 0)} PUT.")
        for err in result.errors:
            print(f"warning: {escape(err)}", file=sys.stderr)  # sync errors quote S3 keys
    return 0


def cmd_export(ctx) -> int:
    from archpal_desktop.core.export import export_all

    store = ctx.open_store()
    counts = export_all(store, Path(ctx.args.out))
    print(f"Exported {counts['conversations']} conversation(s) and {counts['messages']} message(s) "
          f"to {ctx.args.out}")
    return 0
