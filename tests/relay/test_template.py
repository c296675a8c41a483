"""The site template with and without the relay and the change feed: who may call the model,
who may read which counter, resolved the way CloudFormation resolves the conditions for each
choice of DeployRelay and DeployChangeFeed."""
from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.admin.conftest import cli  # noqa: F401 - the fixture
from tests.admin.test_packaging import CFN, CfnLoader, cfn_lint


def load() -> dict:
    return yaml.load(CFN.read_text(), Loader=CfnLoader)


def resolve(node: Any, conditions: dict[str, bool]) -> Any:
    """Apply Fn::If and drop AWS::NoValue (the only intrinsics that change a policy's shape)."""
    if isinstance(node, dict):
        if set(node) == {"If"}:
            name, yes, no = node["If"]
            return resolve(yes if conditions[name] else no, conditions)
        out = {}
        for k, v in node.items():
            r = resolve(v, conditions)
            if r != {"Ref": "AWS::NoValue"}:
                out[k] = r
        return out
    if isinstance(node, list):
        return [r for r in (resolve(x, conditions) for x in node) if r != {"Ref": "AWS::NoValue"}]
    return node


def conditions(template: dict, params: dict[str, str]) -> dict[str, bool]:
    values = {k: v.get("Default", "") for k, v in template["Parameters"].items()}
    values.update(params)
    done: dict[str, bool] = {}

    def ev(node: Any) -> Any:
        if isinstance(node, dict):
            (op, arg), = node.items()
            if op == "Equals":
                return ev(arg[0]) == ev(arg[1])
            if op == "Not":
                return not ev(arg[0])
            if op == "And":
                return all(ev(a) for a in arg)
            if op == "Or":
                return any(ev(a) for a in arg)
            if op == "Ref":
                return str(values[arg])
            if op == "Condition":
                return named(arg)
            raise AssertionError(op)
        return str(node)

    def named(name: str) -> bool:
        if name not in done:
            done[name] = bool(ev(template["Conditions"][name]))
        return done[name]
    for name in template["Conditions"]:
        named(name)
    return done


def statements(resource: dict) -> list[dict]:
    return [s for p in resource["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def actions(stmts: list[dict]) -> list[str]:
    out = []
    for s in stmts:
        acts = s["Action"]
        out += [acts] if isinstance(acts, str) else acts
    return out


def resources_for(template: dict, conds: dict[str, bool]) -> dict[str, dict]:
    return {name: resolve(r, conds) for name, r in template["Resources"].items()
            if conds.get(r.get("Condition", ""), True) or "Condition" not in r}


@pytest.mark.parametrize("profile", ["us.anthropic.claude-sonnet-4-20250514-v1:0", ""])
def test_with_the_relay_the_student_role_has_no_bedrock_action(profile):
    t = load()
    conds = conditions(t, {"DeployRelay": "true", "InferenceProfileId": profile})
    res = resources_for(t, conds)
    student = actions(statements(res["StudentRole"]))
    assert student and not [a for a in student if a.lower().startswith("bedrock")]
    assert {"RelayFunction", "RelayFunctionUrl", "RelayQuotaTable", "RelayRole"} <= set(res)

    relay = statements(res["RelayRole"])
    bedrock = [s for s in relay if any(a.startswith("bedrock:") for a in actions([s]))]
    assert {a for s in bedrock for a in actions([s])} == {"bedrock:InvokeModel",
                                                         "bedrock:InvokeModelWithResponseStream"}
    text = json.dumps(bedrock)
    if profile:
        (through,) = [s for s in bedrock if "Condition" in s]
        assert "foundation-model/${FoundationModelId}" in json.dumps(through["Resource"])
        assert "inference-profile/${InferenceProfileId}" in json.dumps(
            through["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"])
        assert len(bedrock) == 2 and "inference-profile" in text
    else:
        assert len(bedrock) == 1 and "inference-profile" not in text
    reads = [s for s in relay if "s3:GetObject" in actions([s])]
    assert [s["Resource"] for s in reads] == [{"Sub": "arn:${AWS::Partition}:s3:::${DataBucket}/users/*/info.json"}]
    assert not [a for a in actions(relay) if a.startswith("s3:") and a != "s3:GetObject"]


def test_without_the_relay_students_call_the_one_model_directly():
    t = load()
    res = resources_for(t, conditions(t, {"DeployRelay": "false"}))
    assert "RelayFunction" not in res and "RelayRole" not in res
    student = actions(statements(res["StudentRole"]))
    assert "bedrock:InvokeModelWithResponseStream" in student


def test_the_relay_streams_through_a_function_url_with_the_web_adapter():
    t = load()
    res = resources_for(t, conditions(t, {"DeployRelay": "true"}))
    url = res["RelayFunctionUrl"]["Properties"]
    assert url["InvokeMode"] == "RESPONSE_STREAM" and url["AuthType"] == "NONE"
    fn = res["RelayFunction"]["Properties"]
    env = fn["Environment"]["Variables"]
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream" and env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/healthz"
    assert "LambdaAdapterLayerX86" in json.dumps(fn["Layers"])
    # every ARCHPAL_RELAY_* variable is a field the relay reads
    from dataclasses import fields

    from archpal_desktop.relay.config import RelayConfig
    known = {f"ARCHPAL_RELAY_{f.name.upper()}" for f in fields(RelayConfig)}
    assert {k for k in env if k.startswith("ARCHPAL_RELAY_")} <= known
    table = res["RelayQuotaTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_cfn_lint_passes_on_the_template_with_the_relay():
    proc = cfn_lint(CFN)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- the change feed ---------------------------------------------------------------------------
def refs(node: Any) -> set[str]:
    """Every resource or parameter a node names (Ref, GetAtt, ${...} in Sub)."""
    import re

    out: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref":
                out.add(v)
            elif k == "GetAtt":
                out.add(v[0] if isinstance(v, list) else v.split(".")[0])
            elif k == "Sub":
                text = v if isinstance(v, str) else v[0]
                out |= {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if not isinstance(v, str):
                    out |= refs(v[1])
            else:
                out |= refs(v)
    elif isinstance(node, list):
        for x in node:
            out |= refs(x)
    return out


def depends_on(res: dict[str, dict], start: str) -> set[str]:
    """The resources ``start`` waits for at creation, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        r = res[name]
        direct = refs({k: v for k, v in r.items() if k in ("Properties", "Metadata")})
        direct |= set([r["DependsOn"]] if isinstance(r.get("DependsOn"), str) else r.get("DependsOn", []))
        for d in direct & set(res):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def sub_text(node: Any, values: dict[str, str]) -> str:
    """An output's value with Join/Sub worked out (``values`` for each ${...})."""
    import re

    if isinstance(node, str):
        return node
    (op, arg), = node.items()
    if op == "Join":
        return arg[0].join(sub_text(x, values) for x in arg[1])
    if op == "Sub":
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], arg)
    raise AssertionError(op)


def test_the_change_feed_counts_each_students_objects_with_the_relays_code():
    from archpal_desktop.relay import changes

    t = load()
    res = resources_for(t, conditions(t, {}))          # DeployChangeFeed defaults to "true"
    assert t["Parameters"]["DeployChangeFeed"]["Default"] == "true"
    table = res["ChangesTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "sub", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "sub", "AttributeType": "S"}]
    assert table["BillingMode"] == "PAY_PER_REQUEST"

    fn = res["ChangesFunction"]["Properties"]
    relay = res["RelayFunction"]["Properties"]
    assert fn["Handler"] == "archpal_desktop.relay.changes.handler"
    module, _, name = fn["Handler"].rpartition(".")
    assert module == changes.__name__ and callable(getattr(changes, name))
    assert fn["Runtime"] == relay["Runtime"] and fn["Code"] == relay["Code"]   # the relay's zip
    assert "Layers" not in fn                         # a plain handler: no Web Adapter
    assert fn["Environment"]["Variables"] == {changes.TABLE_ENV: {"Ref": "ChangesTable"}}
    assert fn["Role"] == {"GetAtt": "ChangesRole.Arn"}

    role = res["ChangesRole"]
    assert statements(role) == [{"Sid": "CountChanges", "Effect": "Allow", "Action": "dynamodb:UpdateItem",
                                 "Resource": {"GetAtt": "ChangesTable.Arn"}}]
    assert [refs(a) for a in role["Properties"]["ManagedPolicyArns"]] == [{"AWS::Partition"}]
    assert "AWSLambdaBasicExecutionRole" in json.dumps(role["Properties"]["ManagedPolicyArns"])

    perm = res["ChangesInvokePermission"]["Properties"]
    assert perm["Principal"] == "s3.amazonaws.com" and perm["Action"] == "lambda:InvokeFunction"
    assert perm["SourceArn"] == {"Sub": "arn:${AWS::Partition}:s3:::${BucketName}"}   # not ${DataBucket}
    assert perm["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert refs(perm["FunctionName"]) == {"ChangesFunction"}


def test_the_bucket_notifies_the_function_of_writes_and_removals_under_users():
    t = load()
    res = resources_for(t, conditions(t, {"DeployChangeFeed": "true"}))
    notes = res["DataBucket"]["Properties"]["NotificationConfiguration"]
    assert set(notes) == {"LambdaConfigurations"}
    lambdas = notes["LambdaConfigurations"]
    assert sorted(c["Event"] for c in lambdas) == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    for c in lambdas:
        assert c["Function"] == {"GetAtt": "ChangesFunction.Arn"}
        assert c["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": "users/"}]}}
    # the bucket waits for S3's permission to invoke (S3 checks it when the notification is
    # put), and nothing it waits for waits for the bucket (no circular dependency)
    bucket_waits = depends_on(res, "DataBucket")
    assert {"ChangesInvokePermission", "ChangesFunction", "ChangesLogGroup"} <= bucket_waits
    assert "DataBucket" not in bucket_waits
    assert "DataBucket" not in depends_on(res, "ChangesInvokePermission")
    assert not [r for r in res["DataBucket"].get("DependsOn", [])]   # conditional: by reference only


def test_students_may_read_their_own_counter_and_nothing_else_of_the_table():
    t = load()
    res = resources_for(t, conditions(t, {"DeployChangeFeed": "true"}))
    student = statements(res["StudentRole"])
    dynamo = [s for s in student if any(a.startswith("dynamodb:") for a in actions([s]))]
    assert dynamo == [{
        "Sid": "ReadOwnChangeCounter", "Effect": "Allow", "Action": "dynamodb:GetItem",
        "Resource": {"GetAtt": "ChangesTable.Arn"},
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/sub}"]}}}]
    # the same session tag as the S3 statements (one identity across both)
    own = [s for s in student if s.get("Sid") == "OwnObjects"][0]
    assert "${!aws:PrincipalTag/sub}" in own["Resource"]["Sub"]


def test_without_the_change_feed_nothing_of_it_is_made(tmp_path):
    t = load()
    conds = conditions(t, {"DeployChangeFeed": "false"})
    res = resources_for(t, conds)
    assert not [n for n in res if n.startswith("Changes")]
    assert "NotificationConfiguration" not in res["DataBucket"]["Properties"]
    assert res["DataBucket"]["Metadata"] == {"ChangeFeedPermission": "", "ChangeFeedLogGroup": ""}
    assert not [a for a in actions(statements(res["StudentRole"])) if a.startswith("dynamodb:")]
    outputs = resolve(t["Outputs"], conds)
    assert "--changes-table" not in json.dumps(outputs["SiteFileCommand"])
    # the relay alone still deploys (its own resources unchanged)
    assert {"RelayFunction", "RelayQuotaTable"} <= set(res)


def test_the_site_file_command_writes_the_change_feeds_table(cli, tmp_path):  # noqa: F811 - the fixture
    import shlex

    from archpal_desktop.core import config as cfg

    t = load()
    conds = conditions(t, {"DeployChangeFeed": "true"})
    outputs = {k: v for k, v in resolve(t["Outputs"], conds).items()
               if conds.get(v.get("Condition", ""), True)}
    assert outputs["ChangesTable"]["Value"] == {"Ref": "ChangesTable"}
    values = {"AWS::Region": "us-east-1", "UserPoolId": "us-east-1_AbCdEf123",
              "DesktopAppClient": "1h2j3k4l5m6n7o8p9q0r1s2t3u",
              "IdentityPool": "us-east-1:1a2b3c4d-0000-1111-2222-333344445555",
              "DataBucket": "archpal-user-data-prod",
              "InferenceProfileId": "us.anthropic.claude-sonnet-4-20250514-v1:0",
              "ChangesTable": "archpal-site-ChangesTable-1A2B3C4D5E6F"}
    line = sub_text(outputs["SiteFileCommand"]["Value"], values)
    argv = shlex.split(line)
    assert argv[:3] == ["archpal-desktop", "admin", "write-site-file"]
    site = tmp_path / "config.toml"
    run = cli(*argv[1:], "--out", site)
    assert run.code == 0, run.err
    s = cfg.load_settings(system_file=site)
    assert s.sync_changes_table == "archpal-site-ChangesTable-1A2B3C4D5E6F"
    assert s.is_managed(cfg.SYNC_CHANGES_TABLE) and s[cfg.S3_BUCKET_NAME] == "archpal-user-data-prod"
