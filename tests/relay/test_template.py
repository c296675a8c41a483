"""The site template with and without the relay: who may call the model, resolved the way
CloudFormation resolves the conditions for each choice of DeployRelay."""
from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

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
