"""Admin and diagnostic commands: ``admin ...``, ``doctor`` and ``config show``.

Admin commands use static admin credentials (settings or boto3's default chain: an admin's
``aws configure`` profile); they never need a student sign-in.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from archpal_desktop.core import config as cfg
from archpal_desktop.core.errors import ConfigError
from archpal_desktop.cli.progress import ProgressPrinter
from archpal_desktop.core.termsafe import escape, say

ADMIN_SUB = "archpal-admin"  # a placeholder identity for admin sessions; never used in a key


def register(subparsers, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("doctor", parents=[common],
                              help="check settings, network, credentials and the bucket")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.add_argument("--coach", action="store_true",
                   help="also ask the coach for a reply of a few words (as Settings > Test connection does)")
    p.set_defaults(func=cmd_doctor)

    p = subparsers.add_parser("config", parents=[common], help="show the effective settings")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = csub.add_parser("show", parents=[common],
                        help="every setting, its value (secrets masked) and where it came from")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_config_show)

    admin = subparsers.add_parser("admin", parents=[common], help="tools for IT admins")
    asub = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)

    a = asub.add_parser("setup-bucket", parents=[common],
                        help="create or fix the bucket as the S3 setup guide recommends")
    a.add_argument("name")
    a.add_argument("--region", required=True)
    a.add_argument("--kms-key", metavar="KEY", help="SSE-KMS with this key id/ARN (default: SSE-S3)")
    a.add_argument("--versioning", action="store_true", help="turn on bucket versioning")
    a.set_defaults(func=cmd_setup_bucket)

    a = asub.add_parser("policy", parents=[common], help="print least-privilege IAM JSON")
    a.add_argument("--bucket", help="default: s3_bucket_name")
    a.add_argument("--region", help="default: s3_region")
    a.add_argument("--model", help="default: anthropic_model")
    a.add_argument("--identity-pool-id", help="default: cognito_identity_pool_id")
    a.add_argument("--user-pool-id", help="default: cognito_user_pool_id")
    a.add_argument("--account", default="*", help="AWS account id for the model ARN")
    a.add_argument("--tag", default="sub", help="principal tag that carries the user's sub")
    a.add_argument("--which", choices=("all", "user", "role", "trust", "tags", "relay", "changes"),
                   default="all")
    a.add_argument("--relay", action=argparse.BooleanOptionalAction, default=None,
                   help="the coach relay set-up (default: when coach_relay_url is set)")
    a.add_argument("--changes-table", metavar="TABLE", default=None,
                   help="the change feed's table: students read their own item, and the feed "
                        "function's role (default: sync_changes_table)")
    a.set_defaults(func=cmd_policy)

    from archpal_desktop.cli.auth_cmds import register_admin  # the sign-in team's part
    register_admin(asub, common)

    a = asub.add_parser("change-feed", parents=[common],
                        help="send the bucket's S3 events to the change feed's function (for a "
                             "bucket the site template did not make); other notifications are kept")
    a.add_argument("--bucket", help="default: s3_bucket_name")
    a.add_argument("--function-arn", required=True, metavar="ARN",
                   help="the change feed's Lambda function (archpal_desktop.relay.changes.handler)")
    a.add_argument("--region", help="the bucket's region (default: s3_region)")
    a.add_argument("--dry-run", action="store_true",
                   help="show the configuration that would be put, and change nothing")
    a.set_defaults(func=cmd_change_feed)

    a = asub.add_parser("doctor", parents=[common],
                        help="doctor plus the bucket's encryption, public access block, versioning")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_admin_doctor)

    a = asub.add_parser("usage", parents=[common], help="objects, bytes and estimated monthly cost")
    a.add_argument("--bucket")
    a.add_argument("--storage-price", type=float, default=None, help="USD per GB-month (0.023)")
    a.add_argument("--put-price", type=float, default=None, help="USD per 1,000 PUT/LIST (0.005)")
    a.add_argument("--get-price", type=float, default=None, help="USD per 1,000 GET (0.0004)")
    a.add_argument("--puts", type=int, default=None, help="PUT/LIST requests per month")
    a.add_argument("--gets", type=int, default=None, help="GET requests per month")
    a.add_argument("--listing-only", action="store_true",
                   help="storage figures from the listing alone (no message counts; fast)")
    _scan_options(a)
    from archpal_desktop.core.admin import relay_usage
    relay_usage.add_arguments(a)
    a.set_defaults(func=cmd_usage)

    a = asub.add_parser("export-research", parents=[common],
                        help="anonymised conversations CSV + separate identifiers CSV")
    a.add_argument("--out", required=True, metavar="DIR")
    a.add_argument("--bucket")
    a.add_argument("--course", action="append", default=[], metavar="COURSE",
                   help="only messages of this course_number (e.g. ENGL1102; repeatable)")
    a.add_argument("--college-year", action="append", default=[], metavar="YEAR",
                   help="only students of this college year (e.g. \"First Year\"; repeatable)")
    a.add_argument("--from", dest="date_from", metavar="DATE", help="only messages from this day on")
    a.add_argument("--to", dest="date_to", metavar="DATE", help="only messages up to this day")
    a.add_argument("--since", metavar="DATE",
                   help="only conversations whose file changed since then (incremental export)")
    a.add_argument("--restart", action="store_true",
                   help="discard an unfinished export in DIR instead of resuming it")
    _scan_options(a)
    a.set_defaults(func=cmd_export_research)

    a = asub.add_parser("research-athena", parents=[common],
                        help="the research export through Athena, for buckets too big for one machine")
    a.add_argument("--bucket")
    a.add_argument("--region", help="default: s3_region")
    a.add_argument("--database", default="archpal_research")
    a.add_argument("--table", default="conversations")
    a.add_argument("--results", metavar="S3_URL",
                   help="where Athena writes the CSVs (s3://bucket/prefix/); needed with --run")
    a.add_argument("--workgroup", default="primary")
    how = a.add_mutually_exclusive_group(required=True)
    how.add_argument("--print-sql", action="store_true", help="print the DDL and both queries")
    how.add_argument("--run", action="store_true", help="run them with boto3's Athena client")
    a.set_defaults(func=cmd_research_athena)

    a = asub.add_parser("import-secrets", parents=[common],
                        help="turn a web app secrets.toml into a site file (secrets refused)")
    a.add_argument("path", metavar="SECRETS_TOML")
    a.add_argument("--out", metavar="FILE", help="default: the system site file; '-' prints it")
    a.add_argument("--lock", action="store_true", help="put every imported key under [managed]")
    a.add_argument("--force", action="store_true", help="replace an existing site file")
    a.set_defaults(func=cmd_import_secrets)

    a = asub.add_parser("write-site-file", parents=[common],
                        help="write the site file from installer properties (used by installers)")
    for flag, prop in (("--region", "REGION"), ("--user-pool-id", "USER_POOL_ID"),
                       ("--client-id", "CLIENT_ID"), ("--identity-pool-id", "IDENTITY_POOL_ID"),
                       ("--bucket", "BUCKET"), ("--model", "MODEL"),
                       ("--allowed-domains", "ALLOWED_DOMAINS"), ("--changes-table", "CHANGES_TABLE")):
        a.add_argument(flag, dest=f"prop_{prop}", metavar=prop, default="")
    a.add_argument("--out", metavar="FILE", help="default: the system site file")
    a.add_argument("--no-lock", action="store_true",
                   help="write values users may change (default: under [managed])")
    a.set_defaults(func=cmd_write_site_file)


# -- helpers ---------------------------------------------------------------------------------
def _scan_options(a) -> None:
    a.add_argument("--workers", type=int, default=16, metavar="N",
                   help="objects read at once (default 16)")
    a.add_argument("--quiet", action="store_true", help="no progress line")
    a.add_argument("--json", action="store_true",
                   help="the result as JSON on stdout, progress as JSON lines on stderr")


def _admin_access(ctx):
    from archpal_desktop.core.aws import static_access

    return static_access(ctx.settings, getattr(ctx.args, "user", None) or ADMIN_SUB)


def _admin_s3(ctx, region: str | None = None, *, pool: int = 8, with_credentials: bool = False):
    """The admin's S3 client (and, ``with_credentials``, the credentials the bucket reader signs
    its GETs with, as the sync's Remote does)."""
    from archpal_desktop.core.aws import client_config, use_fast_timestamps

    access = _admin_access(ctx)
    use_fast_timestamps(access.session)
    client = access.session.client("s3", region_name=region or ctx.settings.s3_region(),
                                   config=client_config(pool=max(1, pool)))
    return (client, access.session.get_credentials()) if with_credentials else client


def _workers(ctx) -> int:
    n = int(getattr(ctx.args, "workers", 16) or 16)
    if not 1 <= n <= 128:
        raise ConfigError(f"--workers {n} is out of range.", "Give 1 to 128 (16 suits most links).")
    return n


def _bucket(ctx) -> str:
    name = getattr(ctx.args, "bucket", None) or ctx.settings[cfg.S3_BUCKET_NAME]
    if not name:
        raise ConfigError("No bucket name.", "Pass --bucket NAME or set s3_bucket_name.")
    return name


# -- commands --------------------------------------------------------------------------------
def cmd_config_show(ctx) -> int:
    from archpal_desktop.core.admin.site import effective_settings

    rows = effective_settings(ctx.settings)
    if ctx.args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["key"]) for r in rows)
    for r in rows:
        lock = "  [managed]" if r["managed"] else ""
        say(f"{r['key']:<{width}}  {r['value']}  <- {r['source']}{lock}")
    return 0  # the settings' warnings went to stderr when they were loaded (cli/context.py)


def _print_checks(ctx, checks) -> int:
    from archpal_desktop.core.doctor import format_checks

    if getattr(ctx.args, "json", False):
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        say(format_checks(checks))
    return 1 if any(c.failed for c in checks) else 0


def cmd_doctor(ctx) -> int:
    from archpal_desktop.core.doctor import run_doctor

    return _print_checks(ctx, run_doctor(ctx.settings, ctx.access,
                                         coach_answers=getattr(ctx.args, "coach", False)))


def cmd_admin_doctor(ctx) -> int:
    from archpal_desktop.core.doctor import run_doctor

    probe = getattr(ctx.args, "user", None)
    return _print_checks(ctx, run_doctor(ctx.settings, lambda: _admin_access(ctx), admin=True,
                                         probe_sub=probe))


def cmd_setup_bucket(ctx) -> int:
    from archpal_desktop.core.admin.bucket import setup_bucket

    a = ctx.args
    result = setup_bucket(_admin_s3(ctx, a.region), a.name, a.region, kms_key=a.kms_key,
                          versioning=a.versioning)
    for step in result.steps:
        say(f"- {step}")
    say(f"Bucket {result.bucket} is ready in {result.region}. Put s3_bucket_name = "
          f"\"{result.bucket}\" and s3_region = \"{result.region}\" in the site file.")
    return 0


def cmd_policy(ctx) -> int:
    from archpal_desktop.core.admin import policy

    a, s = ctx.args, ctx.settings
    region = a.region or s.s3_region()
    docs = policy.site_policies(bucket=_bucket(ctx), model=a.model or s[cfg.ANTHROPIC_MODEL],
                                region=region,
                                identity_pool_id=a.identity_pool_id or s[cfg.COGNITO_IDENTITY_POOL_ID],
                                user_pool_id=a.user_pool_id or s[cfg.COGNITO_USER_POOL_ID],
                                account=a.account, tag=a.tag,
                                relay=bool(s.coach_relay_url) if a.relay is None else a.relay,
                                relay_table=s.coach_relay_table,
                                changes_table=s.sync_changes_table if a.changes_table is None
                                else a.changes_table)
    pick = {"user": "user_policy", "role": "identity_pool_role_policy",
            "trust": "identity_pool_trust_policy", "tags": "principal_tag_map",
            "relay": "relay_role_policy", "changes": "changes_role_policy"}
    if a.which != "all":
        if pick[a.which] not in docs and a.which == "relay":
            raise ConfigError("The coach relay set-up is off.", "Pass --relay or set coach_relay_url.")
        if pick[a.which] not in docs and a.which == "changes":
            raise ConfigError("No change feed table.", "Pass --changes-table or set sync_changes_table.")
        if pick[a.which] not in docs:
            raise ConfigError("No user pool id for the principal tag map.",
                              "Pass --user-pool-id or set cognito_user_pool_id.")
        docs = docs[pick[a.which]]
    print(json.dumps(docs, indent=2))
    return 0


def cmd_usage(ctx) -> int:
    from archpal_desktop.core.admin import usage as u

    a = ctx.args
    workers = _workers(ctx)
    client, creds = _admin_s3(ctx, pool=workers, with_credentials=True)
    printer = ProgressPrinter(a)
    try:
        data = u.collect_usage(client, _bucket(ctx), credentials=creds, workers=workers,
                               read_messages=not a.listing_only,
                               on_progress=None if a.quiet else printer)
    finally:
        printer.end_line()
    prices = {k: v for k, v in (("storage_price", a.storage_price), ("put_price", a.put_price),
                                ("get_price", a.get_price)) if v is not None}
    cost = u.estimate_cost(data, puts=a.puts, gets=a.gets, **prices)
    from archpal_desktop.core.admin import relay_usage   # the coach relay's tokens and cost
    relay = relay_usage.report(a, ctx.settings.coach_relay_table, _admin_access(ctx).session,
                               ctx.settings[cfg.AWS_REGION])
    if a.json:
        print(json.dumps({**u.usage_json(data, cost), **({"relay": relay} if relay else {})},
                         indent=2))
    else:
        say(u.format_usage(data, cost) + (relay_usage.format_relay(relay) if relay else ""))
        for problem in data.problems:
            printer.problem(problem)
    return 0


def cmd_change_feed(ctx) -> int:
    from archpal_desktop.core.admin import change_feed as feed

    a = ctx.args
    arn = feed.validate_function_arn(a.function_arn)
    plan = feed.put_feed(_admin_s3(ctx, a.region), _bucket(ctx), "LambdaFunctionConfigurations", arn,
                         dry_run=a.dry_run)
    say(feed.format_plan(plan, arn, dry_run=a.dry_run))
    return 0


def _research_filters(a):
    from archpal_desktop.core.admin.research import Filters, parse_date

    return Filters(courses=tuple(a.course), college_years=tuple(a.college_year),
                   date_from=parse_date(a.date_from) if a.date_from else None,
                   date_to=parse_date(a.date_to, end_of_day=True) if a.date_to else None,
                   since=parse_date(a.since) if a.since else None)


def cmd_export_research(ctx) -> int:
    from archpal_desktop.core.admin.research import export_research

    a = ctx.args
    filters = _research_filters(a)
    workers = _workers(ctx)
    client, creds = _admin_s3(ctx, pool=workers, with_credentials=True)
    printer = ProgressPrinter(a)
    try:
        result, data, ids = export_research(client, _bucket(ctx), Path(a.out), credentials=creds,
                                            filters=filters, workers=workers, restart=a.restart,
                                            on_progress=None if a.quiet else printer,
                                            on_problem=printer.problem)
    finally:
        printer.end_line()
    if a.json:
        print(json.dumps({"rows": result.rows, "conversations": result.conversations,
                          "users": result.users, "identifiers": result.identifiers,
                          "resumed": result.resumed, "data": str(data), "identifiers_file": str(ids),
                          "problems": result.problems, "problem_count": result.problem_count},
                         indent=2))
        return 0
    resumed = " (an unfinished export was resumed)" if result.resumed else ""
    say(f"Exported {result.rows} rows from {result.conversations} conversations of "
        f"{result.users} users{resumed}.")
    say(f"  data:        {escape(data)}")
    say(f"  identifiers: {escape(ids)}  (personal data: keep it apart from the data file)")
    if result.resumed and result.problem_count:
        # the earlier run's problems were printed then; the whole list is repeated here
        say(f"{result.problem_count} problem(s) in all:", file=sys.stderr)
        for problem in result.problems:
            say(f"problem: {escape(problem)}", file=sys.stderr)
    return 0


def cmd_research_athena(ctx) -> int:
    from archpal_desktop.core.admin import athena

    a = ctx.args
    bucket = _bucket(ctx)
    plan = athena.plan(bucket, database=a.database, table=a.table)
    if a.print_sql:
        say(athena.format_plan(plan))
        return 0
    if not a.results:
        raise ConfigError("--run needs --results s3://BUCKET/PREFIX/ (where Athena writes the CSVs).",
                          "Use a bucket of the admin's, not the students' bucket.")
    access = _admin_access(ctx)
    client = access.session.client("athena", region_name=a.region or ctx.settings.s3_region())
    for name, location in athena.run(client, plan, a.results, workgroup=a.workgroup):
        say(f"{name}: {escape(location)}")
    return 0


def _write_or_print(site, out: str | None, force: bool) -> int:
    from archpal_desktop.core import paths
    from archpal_desktop.core.admin.site import write_site

    for w in site.warnings():
        say(f"warning: {w}", file=sys.stderr)
    if out == "-":
        sys.stdout.write(site.to_toml())
        return 0
    target = Path(out) if out else paths.system_config_file()
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists.", "Pass --force to replace it, or --out - to "
                          "print the result.")
    write_site(site, target)
    say(f"Wrote {target} ({len(site.values)} settings, {len(site.managed)} managed).")
    return 0


def cmd_import_secrets(ctx) -> int:
    from archpal_desktop.core.admin.site import import_secrets

    site = import_secrets(Path(ctx.args.path), lock=ctx.args.lock)
    return _write_or_print(site, ctx.args.out, ctx.args.force)


def cmd_write_site_file(ctx) -> int:
    """Installers call this with their public properties; it merges into an existing site file
    so an upgrade with no properties keeps the admin's values."""
    from archpal_desktop.core import paths
    from archpal_desktop.core.admin.site import INSTALLER_PROPERTIES, read_site, site_from_properties, write_site

    props = {name: getattr(ctx.args, f"prop_{name}") for name in INSTALLER_PROPERTIES}
    target = Path(ctx.args.out) if ctx.args.out else paths.system_config_file()
    if not any((v or "").strip() for v in props.values()):
        say(f"No site values given; {target} left as it is.")
        return 0
    existing = read_site(target)
    site = site_from_properties(props, lock=not ctx.args.no_lock, existing=existing)
    for w in site.warnings():
        say(f"warning: {w}", file=sys.stderr)
    site.refused.clear()
    write_site(site, target)
    say(f"Wrote {target} ({len(site.values)} settings, {len(site.managed)} managed).")
    return 0
