"""``admin policy``: least-privilege IAM for a site, as JSON an admin can paste or apply.

- the setup guide's user policy (Option B: Get/Put/Delete objects and ListBucket on one bucket),
  for development setups with static keys;
- the recommended identity-pool role: each student reaches only ``users/<own sub>/*``, through a
  principal tag that the identity pool copies from the ID token's ``sub`` claim, plus Bedrock
  invoke on the one configured model;
- that role's trust policy (``sts:TagSession`` is required for principal tags to reach IAM).

With the coach relay (``relay=True``, recommended) the identity-pool role has no ``bedrock:*``
at all and the relay's execution role alone may invoke the one model: the inference profile,
and its foundation models only through that profile (``bedrock:InferenceProfileArn``), plus
read-only ``users/*/info.json`` and its DynamoDB counters.
"""
from __future__ import annotations

import re
from typing import Any

from archpal_desktop.core.errors import ConfigError

VERSION = "2012-10-17"
DEFAULT_TAG = "sub"
_GEO_PREFIX_RE = re.compile(r"^(us|eu|apac|us-gov|jp|au|ca|global)\.")


def partition(region: str) -> str:
    """The ARN partition of a region (China and GovCloud have their own)."""
    if (region or "").startswith("cn-"):
        return "aws-cn"
    if (region or "").startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def s3_arns(bucket: str, region: str = "") -> tuple[str, str]:
    if not bucket:
        raise ConfigError("No bucket name.", "Pass --bucket NAME or set s3_bucket_name.")
    arn = f"arn:{partition(region)}:s3:::{bucket}"
    return arn, f"{arn}/*"


def user_policy(bucket: str, region: str = "") -> dict[str, Any]:
    """The guide's custom policy ``ArchPalS3Access`` with the bucket filled in."""
    bucket_arn, objects_arn = s3_arns(bucket, region)
    return {"Version": VERSION, "Statement": [{
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
        "Resource": [objects_arn, bucket_arn],
    }]}


def model_arns(model: str, region: str, account: str = "*") -> list[str]:
    """ARNs that Converse/ConverseStream on ``model`` needs.

    A cross-region inference profile (``us.anthropic...``) is authorised on the profile *and*
    on the foundation model in every region the profile may route to.
    """
    if not model:
        raise ConfigError("No model id.", "Pass --model or set anthropic_model.")
    if model.startswith("arn:"):
        return [model]
    arn = f"arn:{partition(region)}:bedrock"
    if _GEO_PREFIX_RE.match(model):
        base = _GEO_PREFIX_RE.sub("", model, count=1)
        return [f"{arn}:{region}:{account}:inference-profile/{model}",
                f"{arn}:*::foundation-model/{base}"]
    return [f"{arn}:{region}::foundation-model/{model}"]


def table_arn(table: str, region: str, account: str = "*") -> str:
    return f"arn:{partition(region)}:dynamodb:{region}:{account}:table/{table}"


def own_counter_statement(table: str, region: str, *, account: str = "*",
                          tag: str = DEFAULT_TAG) -> dict[str, Any]:
    """The change feed: GetItem on the student's own counter item only (its key is the sub)."""
    return {"Sid": "ReadOwnChangeCounter", "Effect": "Allow", "Action": ["dynamodb:GetItem"],
            "Resource": [table_arn(table, region, account)],
            "Condition": {"ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": [f"${{aws:PrincipalTag/{tag}}}"]}}}


def role_policy(bucket: str, model: str, region: str, *, account: str = "*",
                tag: str = DEFAULT_TAG, relay: bool = False, changes_table: str = "") -> dict[str, Any]:
    bucket_arn, _ = s3_arns(bucket, region)
    own = f"users/${{aws:PrincipalTag/{tag}}}"
    return {"Version": VERSION, "Statement": [
        {"Sid": "OwnObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": [f"{bucket_arn}/{own}/*"]},
        {"Sid": "ListOwnPrefix", "Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": [bucket_arn],
         "Condition": {"StringLike": {"s3:prefix": [f"{own}/", f"{own}/*"]}}},
    ] + ([] if relay else [
        {"Sid": "InvokeTheOneModel", "Effect": "Allow",
         "Action": list(INVOKE), "Resource": model_arns(model, region, account)},
    ]) + ([own_counter_statement(changes_table, region, account=account, tag=tag)]
          if changes_table else [])}


def log_statement(region: str, account: str = "*") -> dict[str, Any]:
    """A Lambda function's own log (the relay's and the change feed's roles)."""
    return {"Sid": "WriteItsLog", "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"arn:{partition(region)}:logs:{region}:{account}:*"]}


def changes_role_policy(table: str, region: str, *, account: str = "*") -> dict[str, Any]:
    """The change feed function's execution role: its counters and its log, nothing else (the
    S3 events carry the keys; it never reads the bucket)."""
    return {"Version": VERSION, "Statement": [
        {"Sid": "CountChanges", "Effect": "Allow", "Action": ["dynamodb:UpdateItem"],
         "Resource": [table_arn(table, region, account)]},
        log_statement(region, account),
    ]}


INVOKE = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")


def relay_role_policy(bucket: str, model: str, region: str, *, account: str = "*",
                      table: str = "*") -> dict[str, Any]:
    """The relay's execution role: the one model, the profiles it reads, its counters."""
    bucket_arn, _ = s3_arns(bucket, region)
    arns = model_arns(model, region, account)
    if len(arns) == 2:   # an inference profile: its foundation models only through it
        invoke = [{"Sid": "InvokeTheProfile", "Effect": "Allow", "Action": list(INVOKE),
                   "Resource": [arns[0]]},
                  {"Sid": "ItsFoundationModelsThroughTheProfile", "Effect": "Allow",
                   "Action": list(INVOKE), "Resource": [arns[1]],
                   "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": arns[0]}}}]
    else:
        invoke = [{"Sid": "InvokeTheModel", "Effect": "Allow", "Action": list(INVOKE), "Resource": arns}]
    return {"Version": VERSION, "Statement": invoke + [
        {"Sid": "ReadProfiles", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": [f"{bucket_arn}/users/*/info.json"]},
        {"Sid": "CountTokens", "Effect": "Allow", "Action": ["dynamodb:UpdateItem", "dynamodb:GetItem"],
         "Resource": [table_arn(table, region, account)]},
        log_statement(region, account),
    ]}


def relay_trust_policy() -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": ["sts:AssumeRole"]}]}


def trust_policy(identity_pool_id: str) -> dict[str, Any]:
    if not identity_pool_id:
        raise ConfigError("No identity pool id.",
                          "Pass --identity-pool-id or set cognito_identity_pool_id.")
    return {"Version": VERSION, "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
        "Condition": {
            "StringEquals": {"cognito-identity.amazonaws.com:aud": identity_pool_id},
            "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
        },
    }]}


def principal_tags(user_pool_id: str, region: str, tag: str = DEFAULT_TAG) -> dict[str, Any]:
    """Arguments for ``cognito-identity set-principal-tag-attribute-map``."""
    return {"IdentityProviderName": f"cognito-idp.{region}.amazonaws.com/{user_pool_id}",
            "UseDefaults": False, "PrincipalTags": {tag: "sub"}}


def site_policies(*, bucket: str, model: str, region: str, identity_pool_id: str = "",
                  user_pool_id: str = "", account: str = "*", tag: str = DEFAULT_TAG,
                  relay: bool = False, relay_table: str = "", changes_table: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "user_policy": user_policy(bucket, region),
        "identity_pool_role_policy": role_policy(bucket, model, region, account=account, tag=tag,
                                                 relay=relay, changes_table=changes_table),
        # a visible placeholder, like the guide's YOUR-BUCKET-NAME, rather than a fake id
        "identity_pool_trust_policy": trust_policy(identity_pool_id or "YOUR-IDENTITY-POOL-ID"),
    }
    if user_pool_id:
        out["principal_tag_map"] = principal_tags(user_pool_id, region, tag)
    if relay:
        out["relay_role_policy"] = relay_role_policy(bucket, model, region, account=account,
                                                     table=relay_table or "*")
        out["relay_trust_policy"] = relay_trust_policy()
    if changes_table:
        out["changes_role_policy"] = changes_role_policy(changes_table, region, account=account)
        out["changes_trust_policy"] = relay_trust_policy()   # a Lambda's, like the relay's
    return out
