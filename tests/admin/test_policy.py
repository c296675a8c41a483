"""admin policy: the guide's user policy exactly, the identity-pool role scoped by principal tag,
and every document accepted by IAM's policy validation (moto's server validates the grammar)."""
from __future__ import annotations

import json
import uuid

import boto3

GUIDE_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
    "Resource": ["arn:aws:s3:::archpal-user-data-prod/*", "arn:aws:s3:::archpal-user-data-prod"]}]}
POOL = "us-east-1:1a2b3c4d-0000-1111-2222-333344445555"


def policies(cli, *extra):
    run = cli("admin", "policy", "--bucket", "archpal-user-data-prod", "--region", "us-east-1",
              "--identity-pool-id", POOL, "--user-pool-id", "us-east-1_AbCdEf123", *extra)
    assert run.code == 0, run.err
    return json.loads(run.out)


def test_user_policy_is_the_guides(cli):
    assert policies(cli)["user_policy"] == GUIDE_POLICY
    assert policies(cli, "--which", "user") == GUIDE_POLICY


def test_role_policy_scoped_to_own_prefix_and_one_model(cli):
    role = policies(cli, "--model", "us.anthropic.claude-sonnet-4-20250514-v1:0",
                    "--account", "123456789012")["identity_pool_role_policy"]
    stmts = {s["Sid"]: s for s in role["Statement"]}
    assert stmts["OwnObjects"]["Resource"] == [
        "arn:aws:s3:::archpal-user-data-prod/users/${aws:PrincipalTag/sub}/*"]
    assert sorted(stmts["OwnObjects"]["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    lst = stmts["ListOwnPrefix"]
    assert lst["Action"] == ["s3:ListBucket"] and lst["Resource"] == ["arn:aws:s3:::archpal-user-data-prod"]
    assert lst["Condition"] == {"StringLike": {"s3:prefix": ["users/${aws:PrincipalTag/sub}/",
                                                            "users/${aws:PrincipalTag/sub}/*"]}}
    bedrock = stmts["InvokeTheOneModel"]
    assert bedrock["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert bedrock["Resource"] == [
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0"]
    plain = policies(cli, "--model", "anthropic.claude-3-haiku-20240307-v1:0")
    assert plain["identity_pool_role_policy"]["Statement"][2]["Resource"] == [
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"]


def test_trust_policy_and_tag_map(cli):
    docs = policies(cli, "--tag", "archpal_sub")
    trust = docs["identity_pool_trust_policy"]["Statement"][0]
    assert trust["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert trust["Action"] == ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
    assert trust["Condition"] == {
        "StringEquals": {"cognito-identity.amazonaws.com:aud": POOL},
        "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}
    assert docs["principal_tag_map"] == {
        "IdentityProviderName": "cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123",
        "UseDefaults": False, "PrincipalTags": {"archpal_sub": "sub"}}
    assert "${aws:PrincipalTag/archpal_sub}" in json.dumps(docs["identity_pool_role_policy"])


def test_policy_needs_a_bucket(cli):
    run = cli("admin", "policy")
    assert run.code == 1 and "No bucket name" in run.err


def test_documents_pass_iam_validation(cli, local_aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", local_aws.url)
    docs = policies(cli)
    iam = boto3.client("iam", region_name="us-east-1")
    tag = uuid.uuid4().hex[:8]
    for name in ("user_policy", "identity_pool_role_policy"):
        iam.create_policy(PolicyName=f"{name}-{tag}", PolicyDocument=json.dumps(docs[name]))
    iam.create_role(RoleName=f"archpal-students-{tag}",
                    AssumeRolePolicyDocument=json.dumps(docs["identity_pool_trust_policy"]))
    # the validation is real: a broken document is refused by the same call
    import pytest
    from botocore.exceptions import ClientError
    bad = dict(docs["user_policy"], Statement=[dict(docs["user_policy"]["Statement"][0], Effect="Maybe")])
    with pytest.raises(ClientError, match="MalformedPolicyDocument"):
        iam.create_policy(PolicyName=f"bad-{tag}", PolicyDocument=json.dumps(bad))


def test_policy_arns_use_the_regions_partition(cli):
    import json

    run = cli("admin", "policy", "--bucket", "b-cn", "--region", "cn-north-1",
              "--model", "anthropic.claude-v2")
    assert run.code == 0, run.err
    docs = json.loads(run.out)
    assert docs["user_policy"]["Statement"][0]["Resource"] == ["arn:aws-cn:s3:::b-cn/*",
                                                                "arn:aws-cn:s3:::b-cn"]
    role = docs["identity_pool_role_policy"]["Statement"]
    assert role[2]["Resource"] == ["arn:aws-cn:bedrock:cn-north-1::foundation-model/anthropic.claude-v2"]
    assert "arn:aws:" not in run.out
