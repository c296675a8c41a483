"""setup-bucket against moto's server: the guide's settings, read back with the S3 API."""
from __future__ import annotations

import uuid

import boto3

from archpal_desktop.core.admin.bucket import read_settings

GUIDE = {
    "ownership": ["BucketOwnerEnforced"],
    "public_access_block": {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                            "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    "encryption": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BucketKeyEnabled": False}],
    "versioning": None,
}


def name() -> str:
    return f"archpal-setup-{uuid.uuid4().hex[:10]}"


def normalise(st: dict) -> dict:
    # moto reports BucketKeyEnabled=False on SSE-S3 rules; AWS omits it. Same meaning.
    for rule in st["encryption"] or []:
        rule.setdefault("BucketKeyEnabled", False)
    return st


def test_setup_bucket_us_east_1_exact_settings_and_idempotent(cli, local_aws):
    bucket = name()
    first = cli("admin", "setup-bucket", bucket, "--region", "us-east-1")
    assert first.code == 0, first.err
    assert f"created bucket {bucket} in us-east-1" in first.out
    s3 = boto3.client("s3", region_name="us-east-1")
    assert normalise(read_settings(s3, bucket)) == GUIDE
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None

    again = cli("admin", "setup-bucket", bucket, "--region", "us-east-1")
    assert again.code == 0, again.err
    assert "already exists" in again.out
    assert normalise(read_settings(s3, bucket)) == GUIDE


def test_setup_bucket_other_region_kms_versioning(cli, local_aws):
    bucket = name()
    run = cli("admin", "setup-bucket", bucket, "--region", "eu-west-1", "--kms-key",
              "alias/archpal", "--versioning")
    assert run.code == 0, run.err
    s3 = boto3.client("s3", region_name="eu-west-1")
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-west-1"
    st = read_settings(s3, bucket)
    assert st["encryption"] == [{"ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/archpal"}, "BucketKeyEnabled": True}]
    assert st["versioning"] == "Enabled"
    assert st["ownership"] == GUIDE["ownership"]
    assert st["public_access_block"] == GUIDE["public_access_block"]
    # a re-run without --versioning must not suspend it (that would silently drop history)
    assert cli("admin", "setup-bucket", bucket, "--region", "eu-west-1").code == 0
    st2 = read_settings(s3, bucket)
    assert st2["versioning"] == "Enabled"
    assert normalise(st2)["encryption"] == GUIDE["encryption"]


def test_setup_bucket_fixes_a_loose_existing_bucket(cli, s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert cli("admin", "setup-bucket", bucket, "--region", "us-east-1").code == 0
    assert normalise(read_settings(s3, bucket)) == GUIDE


def test_setup_bucket_region_mismatch_and_bad_name(cli, local_aws):
    bucket = name()
    eu = boto3.client("s3", region_name="eu-central-1")
    eu.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    run = cli("admin", "setup-bucket", bucket, "--region", "eu-west-1")
    assert run.code == 1
    assert "already exists in eu-central-1" in run.err and "--region eu-central-1" in run.err
    bad = cli("admin", "setup-bucket", "Bad_Name", "--region", "us-east-1")
    assert bad.code == 1 and "not a valid bucket name" in bad.err
