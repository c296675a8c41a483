"""``admin setup-bucket``: the bucket exactly as the S3 setup guide recommends, safely re-runnable.

Guide, step 1: ACLs disabled (object ownership "bucket owner enforced"), all four public access
blocks on, default encryption (SSE-S3, or SSE-KMS for stronger control), versioning optional.
Every step is a PUT of the full desired configuration, so running it again on an existing
bucket converges to the same state instead of failing.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from archpal_desktop.core.admin.policy import partition
from archpal_desktop.core.errors import ArchPalError, BucketMissingError, ConfigError, map_exception

log = logging.getLogger(__name__)

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
OWNERSHIP = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


TLS_SID = "DenyInsecureTransport"
ABORT_MPU_RULE_ID = "archpal-abort-incomplete-multipart-uploads"
ABORT_MPU_DAYS = 7


def tls_statement(name: str, region: str) -> dict:
    arn = f"arn:{partition(region)}:s3:::{name}"
    return {"Sid": TLS_SID, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def abort_mpu_rule() -> dict:
    return {"ID": ABORT_MPU_RULE_ID, "Status": "Enabled", "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MPU_DAYS}}


def _code(exc: Exception) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


def _merged_policy(s3, name: str, region: str) -> dict:
    """The bucket's policy with our TLS statement added or replaced; the admin's own statements
    are kept (PutBucketPolicy replaces the whole document)."""
    try:
        doc = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    except Exception as exc:
        if _code(exc) != "NoSuchBucketPolicy":
            raise
        doc = {"Version": "2012-10-17", "Statement": []}
    statements = doc.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    doc["Statement"] = [st for st in statements if st.get("Sid") != TLS_SID] + \
        [tls_statement(name, region)]
    return doc


def _merged_lifecycle(s3, name: str) -> dict:
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=name).get("Rules", [])
    except Exception as exc:
        if _code(exc) != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    return {"Rules": [r for r in rules if r.get("ID") != ABORT_MPU_RULE_ID] + [abort_mpu_rule()]}


def encryption_rules(kms_key: str | None) -> dict:
    if kms_key:
        # a bucket key cuts KMS request costs by ~99% for many small objects like ours
        rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                       "KMSMasterKeyID": kms_key},
                "BucketKeyEnabled": True}
    else:
        rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    return {"Rules": [rule]}


def create_bucket_kwargs(name: str, region: str) -> dict[str, Any]:
    """us-east-1 is the one region that must *not* be sent as a LocationConstraint."""
    kwargs: dict[str, Any] = {"Bucket": name}
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    return kwargs


def bucket_region(s3, name: str) -> str:
    """The bucket's region from GetBucketLocation (None/'' mean us-east-1, 'EU' eu-west-1)."""
    loc = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
    if not loc:
        return "us-east-1"
    return "eu-west-1" if loc == "EU" else loc


def _exists(s3, name: str) -> bool:
    try:
        s3.head_bucket(Bucket=name)
        return True
    except Exception as exc:
        resp = getattr(exc, "response", None) or {}
        status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            return False
        if status == 301:  # ours or not, it lives in another region; GetBucketLocation says which
            return True
        if status == 403:
            raise ConfigError(f"The bucket {name} exists but this account cannot access it "
                              "(Access Denied).", "If it belongs to another AWS account, choose "
                              "another name; otherwise check the admin's IAM permissions.") from exc
        raise


@dataclass
class SetupResult:
    bucket: str
    region: str
    created: bool
    steps: list[str] = field(default_factory=list)


def _plain_http(s3) -> bool:
    return str(getattr(getattr(s3, "meta", None), "endpoint_url", "") or "").startswith("http://")


def setup_bucket(s3, name: str, region: str, *, kms_key: str | None = None,
                 versioning: bool = False, tls_only: bool | None = None) -> SetupResult:
    """Create (or adopt) ``name`` in ``region`` and apply the guide's settings.

    ``s3`` must be a client for ``region``. Versioning is only ever turned on here, never
    suspended: an admin re-running without ``--versioning`` must not silently lose history.
    ``tls_only``: add the statement denying requests without TLS (default: unless the
    endpoint itself is plain HTTP, as a local S3 is).
    """
    from archpal_desktop.core.admin.site import _BUCKET_RE

    if not _BUCKET_RE.fullmatch(name or ""):
        raise ConfigError(f"{name!r} is not a valid bucket name.",
                          "Use 3-63 lowercase letters, digits and hyphens (the guide's example: "
                          "archpal-user-data-prod).")
    result = SetupResult(name, region, created=False)
    try:
        # Look first: in us-east-1 CreateBucket on a bucket you own answers 200 (a legacy
        # quirk), so its result alone cannot tell "created" from "already there".
        if _exists(s3, name):
            result.steps.append(f"bucket {name} already exists in your account; updating it")
        else:
            try:
                s3.create_bucket(**create_bucket_kwargs(name, region))
                result.created = True
                result.steps.append(f"created bucket {name} in {region}")
            except Exception as exc:
                code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
                if code == "BucketAlreadyOwnedByYou":  # created meanwhile by another run
                    result.steps.append(f"bucket {name} already exists in your account; updating it")
                elif code == "BucketAlreadyExists":
                    raise ConfigError(f"The bucket name {name} is taken by another AWS account.",
                                      "Bucket names are global: choose another name.") from exc
                else:
                    raise
        actual = bucket_region(s3, name)
        if actual != region:
            raise ConfigError(f"The bucket {name} already exists in {actual}, not {region} "
                              "(region mismatch).", f"Run again with --region {actual}, and set "
                              f"s3_region = \"{actual}\" in the site file.")
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=OWNERSHIP)
        result.steps.append("object ownership: bucket owner enforced (ACLs disabled)")
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
        result.steps.append("block public access: all four settings on")
        s3.put_bucket_encryption(Bucket=name,
                                 ServerSideEncryptionConfiguration=encryption_rules(kms_key))
        result.steps.append("default encryption: " + (f"SSE-KMS with {kms_key}" if kms_key
                                                      else "SSE-S3 (AWS managed keys)"))
        if tls_only is None:
            # a local S3 (moto, MinIO) answers plain HTTP only: the statement would lock out
            # every client of it, this command's next run included
            tls_only = not _plain_http(s3)
        if tls_only:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(_merged_policy(s3, name, region)))
            result.steps.append("bucket policy: requests without TLS denied (aws:SecureTransport)")
        else:
            result.steps.append(f"bucket policy: the TLS-only statement was not applied, because "
                                f"this S3 endpoint ({s3.meta.endpoint_url}) is plain HTTP and it "
                                "would refuse every request")
        s3.put_bucket_lifecycle_configuration(Bucket=name,
                                              LifecycleConfiguration=_merged_lifecycle(s3, name))
        result.steps.append(f"lifecycle: incomplete multipart uploads removed after "
                            f"{ABORT_MPU_DAYS} days")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            result.steps.append("versioning: enabled")
        else:
            state = s3.get_bucket_versioning(Bucket=name).get("Status") or "not enabled"
            result.steps.append(f"versioning: left as it is ({state.lower()}; --versioning turns it on)")
    except ArchPalError:
        raise
    except Exception as exc:
        mapped = map_exception(exc, key=name)
        if type(mapped).__name__ == "NotFoundError":
            raise BucketMissingError(key=name) from exc
        raise mapped from exc
    return result


def read_settings(s3, name: str) -> dict[str, Any]:
    """The bucket's security settings, as the S3 API reports them (None when not configured)."""
    out: dict[str, Any] = {}

    def get(label: str, call, pick):
        try:
            out[label] = pick(call(Bucket=name))
        except Exception as exc:
            code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")
            if code.endswith(("NotFoundError", "NotFound")) or code.startswith("NoSuch"):
                out[label] = None
            else:
                raise map_exception(exc, key=name) from exc

    get("ownership", s3.get_bucket_ownership_controls,
        lambda r: [x["ObjectOwnership"] for x in r["OwnershipControls"]["Rules"]])
    get("public_access_block", s3.get_public_access_block,
        lambda r: r["PublicAccessBlockConfiguration"])
    get("encryption", s3.get_bucket_encryption,
        lambda r: r["ServerSideEncryptionConfiguration"]["Rules"])
    get("versioning", s3.get_bucket_versioning, lambda r: r.get("Status"))
    return out


def read_policy_and_lifecycle(s3, name: str) -> dict[str, Any]:
    """The bucket policy (parsed) and lifecycle rules, None where there are none."""
    out: dict[str, Any] = {}
    for label, call, pick in (
            ("policy", s3.get_bucket_policy, lambda r: json.loads(r["Policy"])),
            ("lifecycle", s3.get_bucket_lifecycle_configuration, lambda r: r.get("Rules", []))):
        try:
            out[label] = pick(call(Bucket=name))
        except Exception as exc:
            if not _code(exc).startswith("NoSuch"):
                raise map_exception(exc, key=name) from exc
            out[label] = None
    return out
