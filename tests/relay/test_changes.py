"""The change feed's Lambda (relay/changes.py) against DynamoDB in moto's server: S3 events
straight from S3 and wrapped by SQS become one counter item per student; what is not a
student's object, S3's test event and malformed records change nothing else."""
from __future__ import annotations

import json
import logging
import time
import uuid

import boto3
import pytest

from archpal_desktop.localstack.relay_server import relay_env
from archpal_desktop.localstack.server import local_aws_env
from archpal_desktop.relay import changes

REGION = "us-east-1"
ADA = "3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c"
BEN = "us-east-1:0a1b2c3d-4e5f-6789-abcd-ef0123456789"   # the shapes layout.validate_sub allows


@pytest.fixture
def db(moto_server, monkeypatch):
    for name, value in local_aws_env({**moto_server.endpoint_env(), **relay_env(moto_server.url)},
                                     REGION).items():
        monkeypatch.setenv(name, value)
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def table(db, monkeypatch):
    name = changes.create_changes_table(db, f"changes-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv(changes.TABLE_ENV, name)
    monkeypatch.setattr(changes, "_client", None)   # the handler makes its own, from the env
    return name


def s3_record(key: str, name: str = "ObjectCreated:Put") -> dict:
    return {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
            "eventName": name, "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "b"},
                                      "object": {"key": key, "size": 10}}}


def s3_event(*records: dict) -> dict:
    return {"Records": list(records)}


def sqs_event(*bodies) -> dict:
    return {"Records": [{"eventSource": "aws:sqs", "messageId": str(uuid.uuid4()),
                         "body": b if isinstance(b, str) else json.dumps(b)} for b in bodies]}


def items(db, table) -> dict[str, dict]:
    out = {}
    for it in db.scan(TableName=table)["Items"]:
        out[it["sub"]["S"]] = {k: int(v["N"]) for k, v in it.items() if k != "sub"}
    return out


def conversation(sub: str) -> str:
    return f"users/{sub}/conversations/{uuid.uuid4()}.json"


def test_the_handler_counts_a_direct_s3_event_per_student(db, table):
    before = int(time.time())
    event = s3_event(s3_record(conversation(ADA)), s3_record(f"users/{ADA}/conversations.json"),
                     s3_record(f"users/{ADA}/info.json"),
                     s3_record(conversation(BEN), "ObjectRemoved:Delete"),
                     s3_record(f"users/{BEN}/info.json", "ObjectRemoved:DeleteMarkerCreated"))
    assert changes.handler(event, None) == {"updated": 2}
    got = items(db, table)
    assert set(got) == {ADA, BEN}
    assert (got[ADA]["seq"], got[ADA]["profile_seq"]) == (3, 1)
    assert (got[BEN]["seq"], got[BEN]["profile_seq"]) == (2, 1)
    assert before <= got[ADA]["changed_at"] <= int(time.time())
    # another batch adds to the counters; a batch without a profile change leaves profile_seq
    assert changes.handler(s3_event(s3_record(conversation(ADA)), s3_record(conversation(ADA))),
                           None) == {"updated": 1}
    got = items(db, table)
    assert (got[ADA]["seq"], got[ADA]["profile_seq"]) == (5, 1)
    assert got[BEN]["seq"] == 2


def test_one_update_per_student_per_batch_with_the_contracts_expression(db, table):
    calls = []

    class Recording:
        def update_item(self, **kwargs):
            calls.append(kwargs)
            return db.update_item(**kwargs)

    event = s3_event(*[s3_record(conversation(ADA)) for _ in range(4)], s3_record(f"users/{ADA}/info.json"))
    assert changes.record_changes(Recording(), table, event, now=1_800_000_000.7) == 1
    (call,) = calls
    assert call["Key"] == {"sub": {"S": ADA}}
    assert call["UpdateExpression"] == "ADD seq :n, profile_seq :p SET changed_at = :t"
    assert call["ExpressionAttributeValues"] == {":n": {"N": "5"}, ":p": {"N": "1"},
                                                 ":t": {"N": "1800000000"}}
    assert items(db, table)[ADA] == {"seq": 5, "profile_seq": 1, "changed_at": 1_800_000_000}


def test_sqs_wrapped_events_count_and_s3s_test_event_is_ignored(db, table, caplog):
    caplog.set_level(logging.INFO, logger="archpal.relay.changes")
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-09-01T14:09:00.000Z",
                  "Bucket": "b"}
    event = sqs_event(test_event, s3_event(s3_record(conversation(ADA))),
                      s3_event(s3_record(f"users/{ADA}/info.json"), s3_record(conversation(BEN))))
    assert changes.handler(event, None) == {"updated": 2}
    got = items(db, table)
    assert (got[ADA]["seq"], got[ADA]["profile_seq"]) == (2, 1)
    assert (got[BEN]["seq"], got[BEN]["profile_seq"]) == (1, 0)
    # a batch of test events alone writes nothing
    assert changes.handler(sqs_event(test_event), None) == {"updated": 0}
    assert changes.handler(test_event, None) == {"updated": 0}
    assert items(db, table) == got
    assert not caplog.records       # expected, not malformed: nothing to warn about


def test_keys_are_url_decoded_and_only_students_objects_count(db, table):
    event = s3_event(
        s3_record(f"users%2F{ADA}%2Finfo.json"),                  # moto encodes the slashes too
        s3_record(f"users/{ADA}/attachments/My+essay+draft.pdf"),   # '+' is a space
        s3_record("users/someone+else/info.json"),     # 'someone else' is no sub any student has
        s3_record("users/../info.json"), s3_record("users//info.json"), s3_record(f"users/{ADA}/"),
        s3_record(f"users/{ADA}"), s3_record("users/"), s3_record("logs/2026/access.log"),
        s3_record(f"archive/users/{BEN}/info.json"), s3_record(f"USERS/{BEN}/info.json"))
    assert changes.handler(event, None) == {"updated": 1}
    assert {k: (v["seq"], v["profile_seq"]) for k, v in items(db, table).items()} == {ADA: (2, 1)}


def test_only_objects_written_or_removed_count(db, table):
    event = s3_event(s3_record(conversation(ADA), "ObjectTagging:Put"),
                     s3_record(conversation(ADA), "ObjectAcl:Put"),
                     s3_record(conversation(ADA), "ObjectRestore:Completed"),
                     s3_record(conversation(ADA), "ObjectCreated:CompleteMultipartUpload"),
                     s3_record(conversation(ADA), "s3:ObjectCreated:Copy"))
    assert changes.handler(event, None) == {"updated": 1}
    assert items(db, table)[ADA]["seq"] == 2


def test_a_malformed_record_is_logged_and_skipped_and_the_good_ones_count(db, table, caplog):
    caplog.set_level(logging.WARNING, logger="archpal.relay.changes")
    good = s3_record(f"users/{ADA}/info.json")
    event = {"Records": [
        "not a record", {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"},   # no s3
        {"eventSource": "aws:s3", "s3": {"object": {"key": conversation(ADA)}}},        # no name
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"object": {"key": 7}}},
        {"eventSource": "aws:sqs", "messageId": "m-1", "body": "{not json"},
        {"eventSource": "aws:sqs", "messageId": "m-2", "body": json.dumps({"Records": "x"})},
        {"eventSource": "aws:sqs", "messageId": "m-3", "body": json.dumps(["a", "list"])},
        {"eventSource": "aws:sqs", "messageId": "m-4"},                                  # no body
        good,
        {"eventSource": "aws:sqs", "messageId": "m-5", "body": json.dumps(s3_event(
            {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": None},
            s3_record(conversation(BEN))))},
    ]}
    assert changes.handler(event, None) == {"updated": 2}
    got = items(db, table)
    assert (got[ADA]["seq"], got[ADA]["profile_seq"]) == (1, 1) and got[BEN]["seq"] == 1
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 9, skipped
    assert any("m-1" in m and "not JSON" in m for m in skipped)
    # nothing of a student's data is in the log: keys are not logged at all
    assert not [m for m in skipped if ADA in m or BEN in m]


def test_an_event_without_records_writes_nothing(db, table):
    for event in ({}, {"Records": []}, [], "text", None):
        assert changes.handler(event, None) == {"updated": 0}
    assert items(db, table) == {}


def test_a_counter_that_fails_fails_the_batch_after_the_others_are_written(db, table):
    class FailsForBen:
        def update_item(self, **kwargs):
            if kwargs["Key"]["sub"]["S"] == BEN:
                raise RuntimeError("throttled")
            return db.update_item(**kwargs)

    event = s3_event(s3_record(conversation(BEN)), s3_record(conversation(ADA)))
    with pytest.raises(changes.ChangeFeedError) as info:
        changes.record_changes(FailsForBen(), table, event)
    assert info.value.failed == [BEN]
    assert set(items(db, table)) == {ADA}     # Ada's change was counted all the same


def test_the_handler_needs_its_table_and_makes_one_client(db, table, monkeypatch):
    made = []
    real = boto3.client
    monkeypatch.setattr(boto3, "client", lambda *a, **k: made.append(a) or real(*a, **k))
    for _ in range(3):
        changes.handler(s3_event(s3_record(conversation(ADA))), None)
    assert made == [("dynamodb",)] and items(db, table)[ADA]["seq"] == 3
    monkeypatch.delenv(changes.TABLE_ENV)
    with pytest.raises(RuntimeError, match=changes.TABLE_ENV):
        changes.handler(s3_event(s3_record(conversation(ADA))), None)


def test_create_changes_table_is_idempotent_and_keyed_by_sub(db):
    name = f"changes-{uuid.uuid4().hex[:8]}"
    assert changes.create_changes_table(db, name) == name
    assert changes.create_changes_table(db, name) == name
    desc = db.describe_table(TableName=name)["Table"]
    assert desc["KeySchema"] == [{"AttributeName": "sub", "KeyType": "HASH"}]
    assert desc["AttributeDefinitions"] == [{"AttributeName": "sub", "AttributeType": "S"}]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
