"""``doctor`` (any user) and ``admin doctor``: check the whole path to the bucket, step by step,
and say for each failure what is wrong and what to do, in the setup guide's troubleshooting
words (access denied, bucket missing, invalid credentials, region mismatch).

Checks stop at the first failure that makes later ones meaningless (no bucket name, no network,
no credentials, no bucket): a list of ten red lines for one typo helps nobody.
"""
from __future__ import annotations

import logging
import socket
import uuid
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

import boto3

from archpal_desktop.core import config as cfg
from archpal_desktop.core.admin.bucket import PUBLIC_ACCESS_BLOCK, bucket_region
from archpal_desktop.core.aws import AwsAccess, client_config
from archpal_desktop.core.errors import (ArchPalError, BucketMissingError,
                                         InvalidCredentialsError, NotFoundError, OfflineError,
                                         RegionMismatchError, map_exception)
from archpal_desktop.core.layout import user_prefix

log = logging.getLogger(__name__)

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"

#: The guide's troubleshooting section, per case, worded for the desktop app's settings.
FIXES: dict[str, str] = {
    "access_denied": (
        "Check IAM permissions: ensure your IAM user/role has S3 permissions (s3:GetObject, "
        "s3:PutObject, s3:DeleteObject, s3:ListBucket; 'archpal-desktop admin policy' prints them). "
        "Check bucket policy: ensure the bucket allows your IAM user/role. Verify credentials: "
        "double-check the access key ID and secret, or sign in again."),
    "bucket_missing": (
        "Verify bucket name: check for typos in s3_bucket_name. Check region: ensure s3_region "
        "matches your bucket's region. Verify bucket exists: check the S3 console (an admin can "
        "create it with 'archpal-desktop admin setup-bucket')."),
    "invalid_credentials": (
        "Regenerate access keys: create new access keys in the IAM console. Check secret key: "
        "ensure no extra spaces or quotes in the settings file. Verify key format: access keys "
        "are alphanumeric strings. With an identity pool, sign out and sign in again."),
    "region_mismatch": (
        "Check region: ensure s3_region matches the bucket's region. Find bucket region: S3 "
        "console -> your bucket -> Properties -> AWS Region."),
    "offline": ("Check the network connection, proxy and firewall: this computer must reach "
                "the S3 endpoint (HTTPS, port 443). Work done offline is kept and syncs later."),
}


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""
    code: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAIL


def _fail(name: str, err: ArchPalError, detail: str | None = None) -> Check:
    return Check(name, FAIL, detail or err.message, FIXES.get(err.code, err.hint), err.code)


def _error_code(exc: BaseException) -> str:
    return str(((getattr(exc, "response", None) or {}).get("Error") or {}).get("Code", ""))


def _map(exc: BaseException, key: str | None = None) -> ArchPalError:
    """map_exception, plus HeadBucket's body-less 404/403 which carry only a status code."""
    err = map_exception(exc, key=key)
    if isinstance(err, NotFoundError) and _error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
        return BucketMissingError(key=key)
    return err


class Doctor:
    """Runs the checks; ``clients`` builds boto3 clients (tests may hand in stubbed ones)."""

    def __init__(self, settings: cfg.Settings, get_access: Callable[[], AwsAccess], *,
                 admin: bool = False, probe_sub: str | None = None, coach_answers: bool = False,
                 clients: Callable[[AwsAccess, str, str], Any] | None = None):
        self.settings = settings
        self.coach_answers = coach_answers   # also ask the coach for three words (one small reply)
        self.get_access = get_access
        self.admin = admin
        self.probe_sub = probe_sub
        self.region = settings.s3_region()
        self.bucket = settings[cfg.S3_BUCKET_NAME]
        self._clients = clients or self._real_client
        self.checks: list[Check] = []

    @staticmethod
    def _real_client(access: AwsAccess, service: str, region: str):
        # few retries: a doctor should answer in seconds, not back off for a minute
        return access.session.client(service, region_name=region,
                                     config=client_config(pool=2, max_attempts=2,
                                                          connect_timeout=3, read_timeout=10))

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    # -- the checks, in order ---------------------------------------------------------------
    def run(self) -> list[Check]:
        self.check_sign_in()
        if not self.check_settings():
            return self.checks
        if not self.check_reachable():
            return self.checks
        access = self.check_credentials()
        if access is None:
            return self.checks
        s3 = self._clients(access, "s3", self.region)
        if not self.check_bucket(s3):
            return self.checks
        self.check_probe(s3, access)
        self.check_change_feed(access)
        self.check_coach(access)
        if self.coach_answers:
            self.check_coach_answers()
        if self.admin:
            self.check_bucket_settings(s3)
        return self.checks

    def check_sign_in(self) -> None:
        """The browser sign-in's discovery, domain and callback URL (core/auth/admin_kit.py);
        independent of the bucket, so they are reported whatever the later checks find."""
        from archpal_desktop.core.auth.admin_kit import sign_in_checks

        for c in sign_in_checks(self.settings):
            self.add(Check(c["name"], c["status"], c["detail"], c.get("fix", ""), c.get("code", "")))

    def check_settings(self) -> bool:
        s = self.settings
        if not self.bucket:
            self.add(Check("settings", FAIL, "s3_bucket_name is not set.",
                           "Set s3_bucket_name in the site file (see docs/ADMIN.md) or run "
                           "'archpal-desktop admin import-secrets'.", "config"))
            return False
        notes = [f"bucket {self.bucket} ({s.source(cfg.S3_BUCKET_NAME)})",
                 f"region {self.region} ({s.source(cfg.S3_REGION)})"]
        status, fix = OK, ""
        if not self.admin:
            has_pool = bool(s[cfg.COGNITO_USER_POOL_ID] and s[cfg.COGNITO_CLIENT_ID])
            has_keys = bool(s[cfg.AWS_ACCESS_KEY_ID] and s[cfg.AWS_SECRET_ACCESS_KEY])
            if has_pool:
                notes.append("sign-in through Cognito" + (" with an identity pool"
                                                          if s[cfg.COGNITO_IDENTITY_POOL_ID] else ""))
            elif has_keys:
                notes.append("static AWS keys (development setup)")
            else:
                notes.append("no Cognito pool or keys: boto3's default credentials")
                status = WARN
                fix = ("Set cognito_user_pool_id, cognito_client_id and cognito_identity_pool_id "
                       "in the site file for student installs.")
        self.add(Check("settings", status, "; ".join(notes), fix))
        return True

    def check_reachable(self) -> bool:
        # endpoint resolution needs no credentials; AWS_ENDPOINT_URL_S3 is honoured by boto3
        probe = boto3.Session().client("s3", region_name=self.region)
        url = probe.meta.endpoint_url
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=5):
                pass
        except OSError as exc:
            self.add(Check("reachability", FAIL, f"{url} could not be reached ({exc}).",
                           FIXES["offline"], "offline"))
            return False
        self.add(Check("reachability", OK, f"{url} answers"))
        return True

    def check_credentials(self) -> AwsAccess | None:
        try:
            access = self.get_access()
        except Exception as exc:  # sign-in / session problems are a credentials failure here
            err = map_exception(exc)
            self.add(Check("credentials", FAIL, err.message, err.hint, err.code))
            return None
        if access.session.get_credentials() is None:
            err = InvalidCredentialsError("No AWS credentials were found.")
            self.add(_fail("credentials", err))
            return None
        try:
            ident = self._clients(access, "sts", self.region).get_caller_identity()
        except Exception as exc:
            err = _map(exc)
            if isinstance(err, (InvalidCredentialsError, OfflineError)) or err.code == "auth_expired":
                self.add(_fail("credentials", err))
                return None
            # STS can be firewalled where S3 is not; the bucket checks below still tell the truth
            self.add(Check("credentials", WARN, f"could not confirm the identity with STS: {err.message}"))
            return access
        self.add(Check("credentials", OK, f"{access.source} credentials for {ident.get('Arn', '?')}"))
        return access

    def check_bucket(self, s3) -> bool:
        try:
            resp = s3.head_bucket(Bucket=self.bucket)
            actual = (resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                      .get("x-amz-bucket-region")) or resp.get("BucketRegion")
        except Exception as exc:
            err = _map(exc, key=self.bucket)
            headers = ((getattr(exc, "response", None) or {}).get("ResponseMetadata", {})
                       .get("HTTPHeaders", {}))
            if isinstance(err, RegionMismatchError) and headers.get("x-amz-bucket-region"):
                return self._region_mismatch(headers["x-amz-bucket-region"])
            detail = {"bucket_missing": f"Bucket does not exist (404 Not Found): {self.bucket}.",
                      "access_denied": f"Access Denied (403 Forbidden) on the bucket {self.bucket}."
                      }.get(err.code)
            self.add(_fail("bucket", err, detail))
            return False
        if self.admin:
            try:
                actual = bucket_region(s3, self.bucket)
            except Exception as exc:
                self.add(Check("bucket location", WARN,
                               f"GetBucketLocation failed: {_map(exc).message}"))
        if actual and actual != self.region:
            return self._region_mismatch(actual)
        self.add(Check("bucket", OK, f"{self.bucket} exists in {actual or self.region}"))
        return True

    def _region_mismatch(self, actual: str) -> bool:
        self.add(Check("bucket", FAIL,
                       f"Region mismatch: the bucket {self.bucket} is in {actual}, but s3_region is "
                       f"{self.region}.", FIXES["region_mismatch"] + f" Here: s3_region = \"{actual}\".",
                       "region_mismatch"))
        return False

    def check_probe(self, s3, access: AwsAccess) -> None:
        sub = self.probe_sub or (None if self.admin else access.sub)
        prefix = user_prefix(sub) if sub else ""
        key = f"{prefix}archpal-desktop/doctor-probe-{uuid.uuid4().hex}.txt"
        body = b"ArchPal Desktop doctor probe; safe to delete.\n"
        steps = [
            ("write", lambda: s3.put_object(Bucket=self.bucket, Key=key, Body=body)),
            ("read", lambda: self._read_back(s3, key, body)),
            ("list", lambda: self._listed(s3, prefix or key, key)),
            ("delete", lambda: s3.delete_object(Bucket=self.bucket, Key=key)),
        ]
        where = f"your own folder {prefix}" if prefix else "the bucket"
        for name, step in steps:
            try:
                step()
            except Exception as exc:
                err = _map(exc, key=key)
                self.add(_fail(f"{name} probe", err, f"{name.capitalize()} in {where} failed: "
                                                     f"{err.message}"))
                if name != "delete":
                    try:  # do not leave the probe behind when only a later step failed
                        s3.delete_object(Bucket=self.bucket, Key=key)
                    except Exception:
                        log.debug("probe cleanup failed", exc_info=True)
                return
            self.add(Check(f"{name} probe", OK, f"{name} in {where}"))

    def _read_back(self, s3, key: str, body: bytes) -> None:
        got = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        if got != body:
            raise ArchPalError("The probe read back different bytes than were written.",
                               "Something between this computer and S3 changes data (a proxy?).")

    def _listed(self, s3, prefix: str, key: str) -> None:
        resp = s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix if prefix.endswith("/") else key)
        if not any(o["Key"] == key for o in resp.get("Contents", [])):
            raise ArchPalError("The probe object was written but is not listed.")

    def check_bucket_settings(self, s3) -> None:
        from archpal_desktop.core.admin.bucket import read_settings

        try:
            st = read_settings(s3, self.bucket)
        except ArchPalError as err:
            self.add(_fail("bucket settings", err))
            return
        setup = ("Run 'archpal-desktop admin setup-bucket " + self.bucket
                 + f" --region {self.region}' to apply the guide's settings.")
        rules = st["encryption"] or []
        algos = [r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules]
        if any(a in ("AES256", "aws:kms", "aws:kms:dsse") for a in algos):
            self.add(Check("encryption", OK, "default encryption: " + ", ".join(
                {"AES256": "SSE-S3"}.get(a, "SSE-KMS") for a in algos if a)))
        else:
            self.add(Check("encryption", FAIL, "no default encryption is configured.", setup))
        pab = st["public_access_block"] or {}
        off = [k for k in PUBLIC_ACCESS_BLOCK if not pab.get(k)]
        if off:
            self.add(Check("public access block", FAIL, "not blocked: " + ", ".join(off) + ".", setup))
        else:
            self.add(Check("public access block", OK, "all public access blocked"))
        if st["ownership"] == ["BucketOwnerEnforced"]:
            self.add(Check("object ownership", OK, "ACLs disabled (bucket owner enforced)"))
        else:
            self.add(Check("object ownership", WARN, f"ACLs are enabled ({st['ownership']}).", setup))
        if st["versioning"] == "Enabled":
            self.add(Check("versioning", OK, "enabled"))
        else:
            self.add(Check("versioning", INFO, f"{(st['versioning'] or 'not enabled').lower()} "
                           "(optional; recommended for data recovery)",
                           setup.replace("' to", " --versioning' to")))


    def check_change_feed(self, access: AwsAccess) -> None:
        """The site's change feed (core/sync/changes.py): this student's item reads."""
        from archpal_desktop.core.sync.changes import ChangeFeed, FeedUnavailable

        table = self.settings.sync_changes_table
        if not table:
            self.add(Check("change feed", INFO, "none configured: each poll HEADs the conversation "
                           "index (about $0.02 per student-month with the window in front 8 h a "
                           "day)", "Deploy the change feed (docs/ADMIN.md, 'Change feed') and set "
                           "sync_changes_table in the site file."))
            return
        sub = self.probe_sub or (None if self.admin else access.sub)
        if sub is None:
            self.add(Check("change feed", INFO, f"{table}: not read (pass --user SUB to read "
                           "a student's item)"))
            return
        feed = ChangeFeed(self._clients(access, "dynamodb", self.settings.aws_region), table, sub)
        try:
            marker = feed.read()
        except FeedUnavailable as exc:
            self.add(Check("change feed", WARN, f"{table}: this student's item cannot be read "
                           f"({exc}); polls fall back to the HEAD of the index",
                           "Check the table name and region, and that the students' role may "
                           "dynamodb:GetItem its own item (the site template's ChangesTable)."))
            return
        self.add(Check("change feed", OK, f"{table}: this student's item reads "
                       f"({marker.seq} change(s) counted)"))

    def check_coach(self, access: AwsAccess) -> None:
        from archpal_desktop.core.assistant.relay import doctor_check   # both set-ups

        name, status, detail, fix = doctor_check(self.settings.coach_relay_url, access, self.admin)
        self.add(Check(name, status, detail, fix))

    def check_coach_answers(self) -> None:
        """A real reply of a few words, through the way the app talks to the coach (the relay, or
        Bedrock directly): the one check that the model itself answers."""
        from archpal_desktop.core.assistant import StreamError, build_providers, stream_reply
        from archpal_desktop.core.assistant.prompt import build_request
        from archpal_desktop.core.assistant.relay import token_from_access

        try:
            providers = build_providers(self.settings, lambda: self.get_access().session,
                                        token_from_access(self.get_access))
            req = build_request([("user", "Say hello in three words.")], max_tokens=16)
            for ev in stream_reply(providers, req):
                if isinstance(ev, StreamError):
                    err = map_exception(ev.error)
                    self.add(Check("coach answers", FAIL, err.message, err.hint, err.code))
                    return
                self.add(Check("coach answers", OK, "the coach answered"))
                return
            self.add(Check("coach answers", FAIL, "no answer came back", FIXES["offline"]))
        except Exception as exc:  # reported as the check's words
            err = map_exception(exc)
            self.add(Check("coach answers", FAIL, err.message, err.hint, err.code))


def run_doctor(settings: cfg.Settings, get_access: Callable[[], AwsAccess], **kwargs: Any
               ) -> list[Check]:
    return Doctor(settings, get_access, **kwargs).run()


def format_checks(checks: list[Check]) -> str:
    marks = {OK: " ok ", WARN: "warn", FAIL: "FAIL", INFO: "info"}
    lines = []
    for c in checks:
        lines.append(f"[{marks[c.status]}] {c.name}: {c.detail}")
        if c.fix and c.status != OK:
            lines.append(f"       fix: {c.fix}")
    failed = sum(c.failed for c in checks)
    lines.append("All checks passed." if not failed else f"{failed} check(s) failed.")
    return "\n".join(lines)


