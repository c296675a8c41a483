"""The change feed on the local backend, end to end in moto's server: a write as the web app
makes it reaches the student's counter item through S3's notification, the queue and the same
``record_changes`` as in Lambda, within about a second; a profile write moves ``profile_seq``,
a delete moves ``seq``; the bucket's other notifications are kept."""
from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest

from archpal_desktop.core import layout
from archpal_desktop.localstack.change_feed import LocalChangeFeed
from archpal_desktop.localstack.relay_server import relay_env
from archpal_desktop.localstack.server import local_aws_env
from tests.support.webapp import WebAppWriter

REGION = "us-east-1"
#: a write must reach the item within about a second (it takes milliseconds)
WITHIN_S = 1.5


@pytest.fixture
def aws(moto_server, monkeypatch):
    env = local_aws_env({**moto_server.endpoint_env(), **relay_env(moto_server.url),
                         "AWS_ENDPOINT_URL_SQS": moto_server.url}, REGION)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return moto_server


@pytest.fixture
def site(aws):
    s3 = boto3.client("s3", region_name=REGION)
    bucket = f"feed-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    feed = LocalChangeFeed(aws.url, bucket, region=REGION).start()
    yield s3, bucket, feed
    feed.stop()


def item(feed: LocalChangeFeed, sub: str) -> dict[str, int]:
    db = boto3.client("dynamodb", region_name=REGION)
    got = db.get_item(TableName=feed.table, Key={"sub": {"S": sub}}).get("Item") or {}
    return {k: int(v["N"]) for k, v in got.items() if k != "sub"}


def wait_for(feed, sub, **expected) -> tuple[dict[str, int], float]:
    start = time.monotonic()
    while True:
        got = item(feed, sub)
        if all(got.get(k) == v for k, v in expected.items()):
            return got, time.monotonic() - start
        assert time.monotonic() - start < WITHIN_S, f"the counter is {got}, expected {expected}"
        time.sleep(0.01)


def test_a_web_app_write_moves_the_students_seq_within_a_second(site):
    s3, bucket, feed = site
    sub = str(uuid.uuid4())
    assert item(feed, sub) == {}
    before = int(time.time())
    web = WebAppWriter(s3, bucket, sub)
    cid = web.new_conversation("Where do I start with my thesis?")
    # the web app's four PUTs: the file, the index, the file with the message, the index again
    got, took = wait_for(feed, sub, seq=4)
    assert got["profile_seq"] == 0 and before <= got["changed_at"] <= int(time.time())
    assert took < WITHIN_S
    web.append(cid, "assistant", "What is your view on it?")
    wait_for(feed, sub, seq=6, profile_seq=0)
    # another student's write is another item
    other = str(uuid.uuid4())
    WebAppWriter(s3, bucket, other).new_conversation("Hello")
    wait_for(feed, other, seq=4)
    assert item(feed, sub)["seq"] == 6


def test_a_profile_write_moves_profile_seq_and_a_delete_moves_seq(site):
    s3, bucket, feed = site
    sub = str(uuid.uuid4())
    s3.put_object(Bucket=bucket, Key=layout.info_key(sub), Body=layout.dumps({"first_name": "Ada"}))
    wait_for(feed, sub, seq=1, profile_seq=1)
    key = layout.conversation_key(sub, str(uuid.uuid4()))
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    wait_for(feed, sub, seq=2, profile_seq=1)
    s3.delete_object(Bucket=bucket, Key=key)
    wait_for(feed, sub, seq=3, profile_seq=1)
    s3.delete_object(Bucket=bucket, Key=layout.info_key(sub))
    wait_for(feed, sub, seq=4, profile_seq=2)


def test_keys_outside_the_students_folders_move_nothing(site):
    s3, bucket, feed = site
    sub = str(uuid.uuid4())
    for key in ("README.txt", f"exports/users/{sub}/info.json", "users/not a sub/info.json"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    # a write that does count, after them: once it is in, the others have been handled
    s3.put_object(Bucket=bucket, Key=f"users/{sub}/notes with spaces+plus.txt", Body=b"x")
    wait_for(feed, sub, seq=1)
    db = boto3.client("dynamodb", region_name=REGION)
    assert [i["sub"]["S"] for i in db.scan(TableName=feed.table)["Items"]] == [sub]


def test_the_buckets_other_notifications_are_kept_and_stop_is_quick(aws):
    s3 = boto3.client("s3", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    bucket = f"feed-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName=f"audit-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    audit = {"Id": "audit", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "logs/"}]}}}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [audit]})
    feed = LocalChangeFeed(aws.url, bucket, region=REGION).start()
    try:
        entries = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
        assert audit in entries and {e["Id"] for e in entries} == {"audit", "archpal-change-feed"}
        sub = str(uuid.uuid4())
        s3.put_object(Bucket=bucket, Key=layout.index_key(sub), Body=b"[]")
        wait_for(feed, sub, seq=1)
    finally:
        start = time.monotonic()
        feed.stop()
        assert time.monotonic() - start < 0.9     # the running long poll does not hold it up
    # stopped: a write is no longer counted
    s3.put_object(Bucket=bucket, Key=layout.index_key(sub), Body=b"[]")
    time.sleep(0.3)
    assert item(feed, sub)["seq"] == 1


def test_a_batch_that_fails_is_delivered_again_and_a_handled_one_is_not(site, monkeypatch):
    s3, bucket, feed = site
    import archpal_desktop.localstack.change_feed as module

    real = module.record_changes
    failures = []
    sub = str(uuid.uuid4())

    def flaky(db, table, event, now=None):
        if not failures and sub in json.dumps(event):
            failures.append(event)
            raise RuntimeError("DynamoDB is throttling")
        return real(db, table, event, now)

    monkeypatch.setattr(module, "record_changes", flaky)
    s3.put_object(Bucket=bucket, Key=layout.index_key(sub), Body=b"[]")
    # back after the queue's visibility timeout (2 s), counted once
    start = time.monotonic()
    while item(feed, sub).get("seq") != 1:
        assert time.monotonic() - start < module.VISIBILITY_SECONDS + 3
        time.sleep(0.05)
    assert failures
    # handled messages are deleted: nothing comes back after another visibility timeout
    time.sleep(module.VISIBILITY_SECONDS + 0.5)
    assert item(feed, sub)["seq"] == 1


def test_the_demo_runs_the_feed_behind_its_secret_and_names_the_table(tmp_path):
    from archpal_desktop.core import config as cfg
    from archpal_desktop.localstack.demo import start_demo

    demo = start_demo(tmp_path / "demo-data", announce=False)
    try:
        assert demo.changes is not None
        assert demo.settings_overrides()[cfg.SYNC_CHANGES_TABLE] == demo.changes.table
        # the demo's moto refuses requests without this run's secret: the feed's clients carry it
        s3 = boto3.client("s3", region_name=REGION)
        WebAppWriter(s3, demo.bucket, demo.sub).new_conversation("Is this synced?")
        wait_for(demo.changes, demo.sub, seq=4, profile_seq=0)
        thread = demo.changes._thread
    finally:
        demo.close()
    assert thread is not None and not thread.is_alive()
