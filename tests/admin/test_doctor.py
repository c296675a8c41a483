"""doctor / admin doctor: every troubleshooting case of the setup guide, reported with its fix.

Missing bucket, wrong region and offline are real cases on moto's server. Access denied and
invalid credentials use botocore's Stubber on real clients, because moto's server does not
enforce IAM or check access keys by default (turning that on is process-wide and would break
every other test sharing the server).
"""
from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.stub import Stubber

from archpal_desktop.core import config as cfg
from archpal_desktop.core.doctor import FAIL, OK, Doctor
from archpal_desktop.core.aws import AwsAccess, static_access
from archpal_desktop.localstack.server import free_port
from archpal_desktop.relay.changes import create_changes_table
from tests.support.s3fixtures import ADA


def by_name(checks):
    return {c.name: c for c in checks}


def test_doctor_all_good_leaves_no_probe(cli, s3, bucket, monkeypatch):
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", bucket)
    monkeypatch.setenv("ARCHPAL_COGNITO_USER_POOL_ID", "us-east-1_Test123")
    monkeypatch.setenv("ARCHPAL_COGNITO_CLIENT_ID", "testclient123")
    run = cli("doctor", "--user", ADA)
    assert run.code == 0, run.out + run.err
    assert "All checks passed." in run.out
    for name in ("settings", "reachability", "credentials", "bucket", "write probe",
                 "read probe", "list probe", "delete probe"):
        assert f"[ ok ] {name}:" in run.out, name
    assert f"your own folder users/{ADA}/" in run.out
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


@pytest.fixture
def bedrock_server():
    from archpal_desktop.localstack.bedrock import LocalBedrock
    server = LocalBedrock().start()
    yield server
    server.stop()


def test_doctor_coach_asks_the_model_as_the_settings_dialog_does(cli, s3, bucket, bedrock_server, local_aws,
                                                                  monkeypatch):
    """``doctor --coach`` is the settings dialog's Test connection (ui/settings_dialog.check_connection
    runs this Doctor): one short reply from the model, after the bucket checks."""
    from archpal_desktop.localstack.bedrock import Reply
    from archpal_desktop.localstack.server import local_aws_env
    bedrock_server.reset()
    for name, value in local_aws_env({**local_aws.endpoint_env(), **bedrock_server.endpoint_env()}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", bucket)
    bedrock_server.script(Reply(text="Hello there, writer."))
    run = cli("doctor", "--coach", "--user", ADA)
    assert run.code == 0, run.out + run.err
    assert "[ ok ] coach answers: the coach answered" in run.out
    assert len(bedrock_server.requests) == 1
    assert "coach answers" not in cli("doctor", "--user", ADA).out   # not without --coach
    assert len(bedrock_server.requests) == 1

    bedrock_server.reset()
    bedrock_server.script(Reply(http_error="access_denied"))
    run = cli("doctor", "--coach", "--user", ADA)
    assert run.code == 1 and "[FAIL] coach answers:" in run.out


def test_admin_doctor_reports_bucket_settings(cli, s3, bucket, monkeypatch):
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", bucket)
    loose = cli("admin", "doctor")
    assert loose.code == 1
    assert "[FAIL] encryption: no default encryption" in loose.out
    assert "[FAIL] public access block: not blocked: BlockPublicAcls" in loose.out
    assert f"admin setup-bucket {bucket} --region us-east-1" in loose.out
    assert cli("admin", "setup-bucket", bucket, "--region", "us-east-1", "--versioning").code == 0
    good = cli("admin", "doctor")
    assert good.code == 0, good.out
    assert "[ ok ] encryption: default encryption: SSE-S3" in good.out
    assert "[ ok ] public access block: all public access blocked" in good.out
    assert "[ ok ] versioning: enabled" in good.out
    assert "[ ok ] object ownership" in good.out


def test_doctor_bucket_missing(cli, local_aws, monkeypatch):
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", f"no-such-bucket-{uuid.uuid4().hex[:8]}")
    run = cli("doctor", "--user", ADA)
    assert run.code == 1
    assert "[FAIL] bucket: Bucket does not exist (404 Not Found)" in run.out
    assert "Verify bucket name: check for typos in s3_bucket_name" in run.out
    assert "probe" not in run.out  # nothing meaningful can follow a missing bucket


def test_doctor_region_mismatch(cli, local_aws, monkeypatch):
    name = f"archpal-eu-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", name)
    monkeypatch.setenv("ARCHPAL_S3_REGION", "us-east-1")
    for argv in (("doctor", "--user", ADA), ("admin", "doctor")):
        run = cli(*argv)
        assert run.code == 1
        assert "Region mismatch: the bucket" in run.out and "is in eu-west-1" in run.out
        assert "Check region: ensure s3_region matches the bucket's region" in run.out
        assert 's3_region = "eu-west-1"' in run.out


def test_doctor_offline(cli, local_aws, monkeypatch):
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", "any-bucket")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    run = cli("doctor", "--user", ADA)
    assert run.code == 1
    assert "[FAIL] reachability:" in run.out and "could not be reached" in run.out
    assert "] credentials:" not in run.out


def test_doctor_settings_missing(cli, local_aws):
    run = cli("doctor", "--user", ADA)
    assert run.code == 1
    assert "[FAIL] settings: s3_bucket_name is not set." in run.out


class StubSession:
    """A boto3 session whose clients are the given (stubbed) real clients."""

    def __init__(self, real: boto3.Session, clients: dict):
        self._real, self._clients = real, clients

    def client(self, service, **kwargs):
        return self._clients.get(service) or self._real.client(service, **kwargs)

    def get_credentials(self):
        return self._real.get_credentials()


def stubbed_doctor(bucket: str, configure) -> list:
    settings = cfg.load_settings(cli_overrides={cfg.S3_BUCKET_NAME: bucket})
    real = boto3.Session(region_name="us-east-1")
    s3 = real.client("s3", region_name="us-east-1")
    sts = real.client("sts", region_name="us-east-1")
    stubs = {"s3": Stubber(s3), "sts": Stubber(sts)}
    configure(stubs)
    for st in stubs.values():
        st.activate()
    access = AwsAccess(ADA, StubSession(real, {"s3": s3, "sts": sts}), "static")
    checks = Doctor(settings, lambda: access,
                    clients=lambda acc, service, region: acc.session.client(service)).run()
    for st in stubs.values():
        st.assert_no_pending_responses()
    return checks


IDENTITY = {"UserId": "AIDAEXAMPLE", "Account": "123456789012",
            "Arn": "arn:aws:iam::123456789012:user/student"}


def test_doctor_access_denied(local_aws):
    def configure(st):
        st["sts"].add_response("get_caller_identity", IDENTITY)
        st["s3"].add_client_error("head_bucket", "403", "Forbidden", http_status_code=403)
    checks = by_name(stubbed_doctor("archpal-denied", configure))
    assert checks["credentials"].status == OK
    bucket = checks["bucket"]
    assert bucket.status == FAIL and bucket.code == "access_denied"
    assert "Access Denied (403 Forbidden)" in bucket.detail
    assert bucket.fix.startswith("Check IAM permissions: ensure your IAM user/role has S3 permissions")
    assert "Check bucket policy" in bucket.fix and "Verify credentials" in bucket.fix


def test_doctor_write_denied_in_own_folder(local_aws):
    def configure(st):
        st["sts"].add_response("get_caller_identity", IDENTITY)
        st["s3"].add_response("head_bucket", {"ResponseMetadata": {"HTTPStatusCode": 200,
                              "HTTPHeaders": {"x-amz-bucket-region": "us-east-1"}}})
        st["s3"].add_client_error("put_object", "AccessDenied", "Access Denied", 403)
        st["s3"].add_client_error("delete_object", "AccessDenied", "Access Denied", 403)
    checks = by_name(stubbed_doctor("archpal-ro", configure))
    probe = checks["write probe"]
    assert probe.status == FAIL and probe.code == "access_denied"
    assert f"Write in your own folder users/{ADA}/ failed" in probe.detail
    assert "read probe" not in checks


@pytest.mark.parametrize("code", ["InvalidClientTokenId", "SignatureDoesNotMatch"])
def test_doctor_invalid_credentials(local_aws, code):
    def configure(st):
        st["sts"].add_client_error("get_caller_identity", code, "The security token included in "
                                   "the request is invalid.", http_status_code=403)
    checks = stubbed_doctor("archpal-badkeys", configure)
    assert [c.name for c in checks] == ["settings", "reachability", "credentials"]
    cred = checks[-1]
    assert cred.status == FAIL and cred.code == "invalid_credentials"
    assert "invalid credentials" in cred.detail
    assert cred.fix.startswith("Regenerate access keys: create new access keys in the IAM console")


def test_doctor_no_session(cli, local_aws, monkeypatch):
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", "some-bucket")
    settings = cfg.load_settings()

    def no_access():
        from archpal_desktop.core.errors import AuthExpiredError
        raise AuthExpiredError()
    checks = by_name(Doctor(settings, no_access).run())
    assert checks["credentials"].status == FAIL
    assert "Your session has expired." in checks["credentials"].detail
    # and the static-access path from settings really produces a session the doctor accepts
    assert static_access(settings, ADA).session.get_credentials() is not None


def test_doctor_reads_the_students_item_in_the_change_feed(cli, s3, bucket, monkeypatch):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = f"archpal-changes-{uuid.uuid4().hex[:8]}"
    create_changes_table(ddb, table)
    ddb.put_item(TableName=table, Item={"sub": {"S": ADA}, "seq": {"N": "7"},
                                        "profile_seq": {"N": "1"}})
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", bucket)
    none = cli("doctor", "--user", ADA)
    assert "[info] change feed: none configured" in none.out, none.out
    monkeypatch.setenv("ARCHPAL_SYNC_CHANGES_TABLE", table)
    run = cli("doctor", "--user", ADA)
    assert f"[ ok ] change feed: {table}: this student's item reads (7 change(s) counted)" in run.out, run.out
    monkeypatch.setenv("ARCHPAL_SYNC_CHANGES_TABLE", "archpal-changes-misspelt")
    wrong = cli("doctor", "--user", ADA)
    assert "[warn] change feed: archpal-changes-misspelt: this student's item cannot be read " \
           "(ResourceNotFoundException)" in wrong.out, wrong.out
    assert "polls fall back to the HEAD of the index" in wrong.out
