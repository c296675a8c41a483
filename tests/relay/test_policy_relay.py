"""``admin policy`` knows both set-ups: with the relay the students' role has no Bedrock action
and the relay's role alone reaches the one model (the profile, and its foundation models only
through it)."""
from __future__ import annotations

import json
import uuid

import boto3

from tests.admin.conftest import cli  # noqa: F401 - the fixture

ARGS = ("admin", "policy", "--bucket", "archpal-user-data-prod", "--region", "us-east-1",
        "--model", "us.anthropic.claude-sonnet-4-20250514-v1:0", "--account", "123456789012")
PROFILE = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
           "us.anthropic.claude-sonnet-4-20250514-v1:0")


def _actions(doc) -> list[str]:
    return [a for s in doc["Statement"] for a in s["Action"]]


def test_with_the_relay_students_hold_no_bedrock_permission(cli):  # noqa: F811
    run = cli(*ARGS, "--relay")
    assert run.code == 0, run.err
    docs = json.loads(run.out)
    assert not [a for a in _actions(docs["identity_pool_role_policy"]) if a.startswith("bedrock")]
    relay = {s["Sid"]: s for s in docs["relay_role_policy"]["Statement"]}
    assert relay["InvokeTheProfile"]["Resource"] == [PROFILE]
    through = relay["ItsFoundationModelsThroughTheProfile"]
    assert through["Resource"] == ["arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0"]
    assert through["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": PROFILE}}
    assert relay["ReadProfiles"]["Resource"] == ["arn:aws:s3:::archpal-user-data-prod/users/*/info.json"]
    assert relay["ReadProfiles"]["Action"] == ["s3:GetObject"]
    assert docs["relay_trust_policy"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_the_relay_set_up_follows_coach_relay_url_and_direct_access_stays_available(cli, monkeypatch):  # noqa: F811
    direct = json.loads(cli(*ARGS).out)
    assert "bedrock:InvokeModelWithResponseStream" in _actions(direct["identity_pool_role_policy"])
    assert "relay_role_policy" not in direct
    assert cli(*ARGS, "--which", "relay").code == 1
    monkeypatch.setenv("ARCHPAL_COACH_RELAY_URL", "https://abc.lambda-url.us-east-1.on.aws")
    relay = json.loads(cli(*ARGS).out)
    assert "relay_role_policy" in relay
    assert json.loads(cli(*ARGS, "--which", "relay").out) == relay["relay_role_policy"]
    assert "bedrock:InvokeModel" in _actions(json.loads(cli(*ARGS, "--no-relay").out)["identity_pool_role_policy"])


def test_relay_documents_pass_iam_validation(cli, moto_server, monkeypatch):  # noqa: F811
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", moto_server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    docs = json.loads(cli(*ARGS, "--relay").out)
    iam = boto3.client("iam", region_name="us-east-1")
    tag = uuid.uuid4().hex[:8]
    for name in ("relay_role_policy", "identity_pool_role_policy"):
        iam.create_policy(PolicyName=f"{name}-{tag}", PolicyDocument=json.dumps(docs[name]))
    iam.create_role(RoleName=f"archpal-relay-{tag}", AssumeRolePolicyDocument=json.dumps(docs["relay_trust_policy"]))
