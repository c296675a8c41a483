"""``admin change-feed`` against moto's S3: our notification is added beside the bucket's other
ones (S3 replaces the whole configuration on each put), a second run changes nothing, and an
entry S3 would reject next to ours is refused with nothing changed."""
from __future__ import annotations

import json

import boto3
import pytest

from archpal_desktop.core.admin import change_feed as feed

FN = "arn:aws:lambda:us-east-1:123456789012:function:archpal-changes"
OTHER_FN = "arn:aws:lambda:us-east-1:123456789012:function:archpal-changes-v2"


def config(s3, bucket) -> dict:
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    got.pop("ResponseMetadata")
    return got


def prefix(value: str) -> dict:
    return {"Key": {"FilterRules": [{"Name": "prefix", "Value": value}]}}


@pytest.fixture
def queue_arn(local_aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", local_aws.url)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="site-logs-audit")["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def ours(s3, bucket) -> list[dict]:
    return [e for e in config(s3, bucket).get("LambdaFunctionConfigurations", [])
            if e["Id"] == feed.FEED_ID]


def test_the_feed_is_added_beside_an_existing_queue_and_a_rerun_changes_nothing(cli, s3, bucket, queue_arn):
    audit = {"Id": "audit-logs", "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:Put"],
             "Filter": prefix("logs/")}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [audit]})
    run = cli("admin", "change-feed", "--bucket", bucket, "--function-arn", FN)
    assert run.code == 0, run.err
    assert f"Added the change feed notification on bucket {bucket}" in run.out
    assert "Kept 1 other notification(s)" in run.out and "audit-logs" in run.out
    got = config(s3, bucket)
    assert got["QueueConfigurations"] == [audit]            # the admin's queue survives
    assert got["LambdaFunctionConfigurations"] == [{
        "Id": "archpal-change-feed", "LambdaFunctionArn": FN,
        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], "Filter": prefix("users/")}]

    again = cli("admin", "change-feed", "--bucket", bucket, "--function-arn", FN)
    assert again.code == 0, again.err
    assert "already in place" in again.out and "Nothing changed" in again.out
    assert config(s3, bucket) == got

    # another function: ours is replaced, not doubled, and the queue still survives
    moved = cli("admin", "change-feed", "--bucket", bucket, "--function-arn", OTHER_FN)
    assert moved.code == 0 and "Replaced" in moved.out and FN in moved.out
    after = config(s3, bucket)
    assert [e["LambdaFunctionArn"] for e in ours(s3, bucket)] == [OTHER_FN]
    assert after["QueueConfigurations"] == [audit]


def test_a_dry_run_shows_the_configuration_and_puts_nothing(cli, s3, bucket, queue_arn):
    audit = {"Id": "audit-logs", "QueueArn": queue_arn, "Events": ["s3:ObjectRemoved:*"],
             "Filter": prefix("logs/")}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [audit]})
    run = cli("admin", "change-feed", "--bucket", bucket, "--function-arn", FN, "--dry-run")
    assert run.code == 0, run.err
    assert "Dry run, nothing changed. Would: Add the change feed" in run.out
    shown = json.loads(run.out[run.out.index("{"):])
    assert shown["QueueConfigurations"] == [audit]
    assert shown["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"] == FN
    assert config(s3, bucket) == {"QueueConfigurations": [audit]}


@pytest.mark.parametrize("events, key_filter", [
    (["s3:ObjectCreated:Put"], prefix("users/")),                # the same event under users/
    (["s3:ObjectRemoved:*"], None),                              # no filter: every key
    (["s3:ObjectCreated:*"], prefix("users/abc/")),              # a prefix inside ours
    (["s3:ObjectCreated:Copy"], prefix("u")),                    # a prefix around ours
    (["s3:ObjectRemoved:Delete"], {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".json"}]}}),
])
def test_an_overlapping_notification_is_refused_and_nothing_changes(cli, s3, bucket, queue_arn, events,
                                                                    key_filter):
    theirs = {"Id": "search-indexer", "QueueArn": queue_arn, "Events": events,
              **({"Filter": key_filter} if key_filter else {})}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [theirs]})
    before = config(s3, bucket)
    run = cli("admin", "change-feed", "--bucket", bucket, "--function-arn", FN)
    assert run.code == 1
    assert "search-indexer" in run.err and "nothing was changed" in run.err
    assert "overlapping" in run.err
    assert config(s3, bucket) == before


@pytest.mark.parametrize("events, key_filter", [
    (["s3:ObjectCreated:*"], prefix("logs/")),                   # another prefix
    (["s3:ObjectTagging:*", "s3:ObjectRestore:*"], None),         # other event types
    (["s3:ObjectCreated:Put"], prefix("user-exports/")),         # looks close, does not overlap
])
def test_notifications_that_do_not_overlap_are_kept(cli, s3, bucket, queue_arn, events, key_filter):
    theirs = {"Id": "theirs", "QueueArn": queue_arn, "Events": events,
              **({"Filter": key_filter} if key_filter else {})}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [theirs]})
    run = cli("admin", "change-feed", "--bucket", bucket, "--function-arn", FN)
    assert run.code == 0, run.err
    assert config(s3, bucket)["QueueConfigurations"] == [theirs] and len(ours(s3, bucket)) == 1


def test_a_bucket_without_notifications_and_bad_arguments(cli, s3, bucket):
    run = cli("admin", "change-feed", "--bucket", bucket, "--function-arn", FN)
    assert run.code == 0 and "no other notifications" in run.out
    assert len(ours(s3, bucket)) == 1
    bad = cli("admin", "change-feed", "--bucket", bucket, "--function-arn", "archpal-changes")
    assert bad.code == 1 and "not a Lambda function ARN" in bad.err
    missing = cli("admin", "change-feed", "--bucket", "no-such-bucket-archpal", "--function-arn", FN)
    assert missing.code == 1


def test_overlap_rules():
    mine = feed.feed_entry("LambdaFunctionConfigurations", FN)

    def other(events, pre="", suf=""):
        rules = [{"Name": "Prefix", "Value": pre}] if pre else []
        rules += [{"Name": "Suffix", "Value": suf}] if suf else []
        return {"Events": events, **({"Filter": {"Key": {"FilterRules": rules}}} if rules else {})}
    assert feed.overlaps(mine, other(["s3:ObjectCreated:*"]))
    assert feed.overlaps(mine, other(["s3:ObjectCreated:Post"], "users/x/", ".json"))
    assert not feed.overlaps(mine, other(["s3:ObjectCreated:Post"], "logs/"))
    assert not feed.overlaps(mine, other(["s3:LifecycleExpiration:*"]))
    assert not feed.overlaps(mine, other(["s3:ObjectRemovedX"]))


def test_admin_policy_lets_students_read_their_own_counter_and_the_feed_count(cli, moto_server, monkeypatch):
    import uuid

    args = ("admin", "policy", "--bucket", "archpal-user-data-prod", "--region", "us-east-1",
            "--account", "123456789012")
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/archpal-changes"
    plain = json.loads(cli(*args).out)
    assert "changes_role_policy" not in plain and "dynamodb" not in json.dumps(plain["identity_pool_role_policy"])
    monkeypatch.setenv("ARCHPAL_SYNC_CHANGES_TABLE", "archpal-changes")    # the site's setting
    docs = json.loads(cli(*args).out)
    own = [s for s in docs["identity_pool_role_policy"]["Statement"] if s["Sid"] == "ReadOwnChangeCounter"]
    assert own == [{"Sid": "ReadOwnChangeCounter", "Effect": "Allow", "Action": ["dynamodb:GetItem"],
                    "Resource": [table_arn], "Condition": {"ForAllValues:StringEquals": {
                        "dynamodb:LeadingKeys": ["${aws:PrincipalTag/sub}"]}}}]
    role = docs["changes_role_policy"]["Statement"]
    assert role[0] == {"Sid": "CountChanges", "Effect": "Allow", "Action": ["dynamodb:UpdateItem"],
                       "Resource": [table_arn]}
    assert [a for s in role for a in s["Action"] if not a.startswith("logs:")] == ["dynamodb:UpdateItem"]
    assert json.loads(cli(*args, "--which", "changes").out) == docs["changes_role_policy"]
    assert cli(*args, "--changes-table", "", "--which", "changes").code == 1
    # IAM's grammar accepts them (moto's server validates it)
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", moto_server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    iam = boto3.client("iam", region_name="us-east-1")
    tag = uuid.uuid4().hex[:8]
    for name in ("changes_role_policy", "identity_pool_role_policy"):
        iam.create_policy(PolicyName=f"{name}-{tag}", PolicyDocument=json.dumps(docs[name]))
    iam.create_role(RoleName=f"archpal-changes-{tag}",
                    AssumeRolePolicyDocument=json.dumps(docs["changes_trust_policy"]))
