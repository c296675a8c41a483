"""What can be checked here of the installers that are built elsewhere (Windows, macOS) or
outside the pytest run (the .deb: packaging/linux/build_and_test_deb.sh, called by CI)."""
from __future__ import annotations

import plistlib
import re
import shlex
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from archpal_desktop.core import config as cfg
from archpal_desktop.core.admin.site import INSTALLER_PROPERTIES

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "packaging"
WIX_NS = {"w": "http://wixtoolset.org/schemas/v4/wxs"}
CFN = PKG / "aws" / "archpal-site.yaml"


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, ...) read as {"Tag": value}."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix: value}


CfnLoader.add_multi_constructor("!", _tag)


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(exe), str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script", sorted(p.relative_to(ROOT).as_posix() for p in PKG.rglob("*.sh"))
                         + ["packaging/linux/postinst", "packaging/linux/postrm"])
def test_shell_scripts_parse(script):
    proc = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_cloudformation_template_lints_clean_and_lint_catches_errors(tmp_path):
    proc = cfn_lint(CFN)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(CFN.read_text().replace("ObjectOwnership: BucketOwnerEnforced",
                                              "ObjectOwnership: AnyoneWrites"))
    assert cfn_lint(broken).returncode != 0  # the lint really reads the template


def test_cloudformation_template_is_the_guides_site():
    t = yaml.load(CFN.read_text(), Loader=CfnLoader)
    res = t["Resources"]
    bucket = res["DataBucket"]["Properties"]
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True}
    assert res["DataBucket"]["DeletionPolicy"] == "Retain"
    client = res["DesktopAppClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert res["IdentityPool"]["Properties"]["AllowUnauthenticatedIdentities"] is False
    tags = res["IdentityPoolPrincipalTag"]
    assert tags["Type"] == "AWS::Cognito::IdentityPoolPrincipalTag"
    assert tags["Properties"]["PrincipalTags"] == {"sub": "sub"}
    role = res["StudentRole"]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Action"] == ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
    assert trust["Condition"]["StringEquals"] == {"cognito-identity.amazonaws.com:aud": {"Ref": "IdentityPool"}}
    stmts = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"] if "Sid" in s}
    assert stmts["OwnObjects"]["Resource"] == {
        "Sub": "arn:${AWS::Partition}:s3:::${DataBucket}/users/${!aws:PrincipalTag/sub}/*"}
    assert stmts["ListOwnPrefix"]["Condition"]["StringLike"]["s3:prefix"] == [
        "users/${aws:PrincipalTag/sub}/", "users/${aws:PrincipalTag/sub}/*"]
    assert res["IdentityPoolRoles"]["Properties"]["Roles"] == {
        "authenticated": {"GetAtt": "StudentRole.Arn"}}


def test_cloudformation_template_hardening():
    """Issue 18 point 22: TLS-only bucket policy, KMS through S3 only, minimal app client
    attributes, the stack's partition in every ARN, stale multipart uploads aborted."""
    text = CFN.read_text()
    assert "arn:aws:" not in text  # GovCloud and China have their own partitions
    res = yaml.load(text, Loader=CfnLoader)["Resources"]
    policy = res["DataBucketPolicy"]
    assert policy["Type"] == "AWS::S3::BucketPolicy"
    assert policy["Properties"]["Bucket"] == {"Ref": "DataBucket"}
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [{"Sub": "arn:${AWS::Partition}:s3:::${DataBucket}"},
                                {"Sub": "arn:${AWS::Partition}:s3:::${DataBucket}/*"}]
    (rule,) = res["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    client = res["DesktopAppClient"]["Properties"]
    assert client["ReadAttributes"] == ["email", "email_verified"]
    assert client["WriteAttributes"] == ["email"]
    statements = res["StudentRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    kms = [st["If"][1] for st in statements if "If" in st and st["If"][0] == "UseKms"]
    assert kms and kms[0]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms[0]["Condition"] == {"StringEquals": {
        "kms:ViaService": {"Sub": "s3.${AWS::Region}.${AWS::URLSuffix}"}}}


def _wix():
    return ET.parse(PKG / "windows" / "archpal.wxs").getroot()


def test_wix_source_declares_every_property_secure():
    root = _wix()
    props = {p.get("Id"): p for p in root.iterfind(".//w:Property", WIX_NS)}
    for name in INSTALLER_PROPERTIES:
        assert name in props, name
        assert props[name].get("Secure") == "yes", name
    action = root.find(".//w:CustomAction[@Id='WriteSiteFile']", WIX_NS)
    assert action.get("Execute") == "deferred" and action.get("Impersonate") == "no"
    custom = root.find(".//w:InstallExecuteSequence/w:Custom", WIX_NS)
    assert custom.get("Action") == "WriteSiteFile" and custom.get("Condition") == "NOT REMOVE"


def test_wix_command_line_writes_the_site_file(cli, tmp_path):
    """Play the installer: substitute msiexec properties into the custom action's command line
    exactly as Windows Installer would, then run that command."""
    value = _wix().find(".//w:SetProperty[@Id='WriteSiteFile']", WIX_NS).get("Value")
    given = {"REGION": "ap-southeast-2", "USER_POOL_ID": "ap-southeast-2_Zx9",
             "CLIENT_ID": "abc123def456", "BUCKET": "unimelb-archpal", "ALLOWED_DOMAINS": "unimelb.edu.au"}

    def subst(m):  # unset properties expand to "" in MSI formatted strings
        return given.get(m.group(1), "")
    line = re.sub(r"\[([A-Z_]+)\]", subst, value.replace("[INSTALLFOLDER]", "C:/ArchPal/"))
    argv = shlex.split(line)
    assert argv[0] == "C:/ArchPal/archpal-desktop.exe"
    site = tmp_path / "config.toml"
    run = cli(*argv[1:], "--out", site)
    assert run.code == 0, run.err
    s = cfg.load_settings(system_file=site)
    assert s[cfg.S3_REGION] == s[cfg.AWS_REGION] == "ap-southeast-2"
    assert s[cfg.COGNITO_USER_POOL_ID] == "ap-southeast-2_Zx9"
    assert s[cfg.COGNITO_CLIENT_ID] == "abc123def456"
    assert s[cfg.S3_BUCKET_NAME] == "unimelb-archpal"
    assert s[cfg.ALLOWED_EMAIL_DOMAINS] == ["unimelb.edu.au"]
    assert s.source(cfg.COGNITO_IDENTITY_POOL_ID) == "default"  # not given: not written
    assert s.is_managed(cfg.S3_BUCKET_NAME)


def test_release_workflow_and_macos_files_parse():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    assert wf["jobs"]["windows"]["runs-on"] == "windows-latest"
    assert wf["jobs"]["macos"]["runs-on"] == "macos-latest"
    steps = " ".join(str(s.get("run", "")) for s in wf["jobs"]["macos"]["steps"])
    assert "build_dmg.sh" in steps
    mac = (PKG / "macos" / "build_dmg.sh").read_text()
    for tool in ("codesign", "--options runtime", "notarytool submit", "stapler staple", "hdiutil create"):
        assert tool in mac
    ent = plistlib.loads((PKG / "macos" / "entitlements.plist").read_bytes())
    assert ent == {"com.apple.security.cs.allow-unsigned-executable-memory": True}


def test_pyinstaller_spec_and_deb_metadata():
    compile((PKG / "pyinstaller" / "archpal-desktop.spec").read_text(), "spec", "exec")
    control = (PKG / "linux" / "control.in").read_text()
    fields = dict(line.split(": ", 1) for line in control.splitlines() if ": " in line and not line.startswith(" "))
    assert fields["Package"] == "archpal-desktop"
    depends = [d.strip().split(" ")[0] for d in fields["Depends"].split(",")]
    for lib in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-shape0",
                "libxkbcommon-x11-0", "libegl1", "libfontconfig1", "libdbus-1-3"):
        assert lib in depends, lib
    deb = (PKG / "linux" / "build_deb.sh").read_text()
    assert 'echo "/etc/archpal-desktop/config.toml" > "$pkg/DEBIAN/conffiles"' in deb
    assert '"$pkg/opt/archpal-desktop"' in deb
    # the shipped site file template parses and holds no live settings (all commented out)
    template = tomllib.loads((PKG / "site" / "config.toml").read_text())
    assert template == {"managed": {}}


def _spec_lists() -> dict[str, set[str]]:
    """The spec's literal service lists, and the moto packages its hidden imports collect."""
    import ast

    tree = ast.parse((PKG / "pyinstaller" / "archpal-desktop.spec").read_text())
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in ("MOTO_SERVICES", "MOTO_KEEP", "BOTO_KEEP"):
            out[node.targets[0].id] = set(ast.literal_eval(node.value))
        if isinstance(node, ast.ListComp) and isinstance(node.generators[0].target, ast.Name) \
                and node.generators[0].target.id == "pkg":
            out["hidden"] = {p.removeprefix("moto.") for p in ast.literal_eval(node.generators[0].iter)}
    return out


def test_pyinstaller_spec_keeps_each_service_the_local_backend_serves_in_every_list():
    """moto's service packages, their data and botocore's models are trimmed in four lists:
    a service missing from one fails only in the frozen app (moto's S3, for one, drops its
    bucket notifications without moto.sqs)."""
    lists = _spec_lists()
    assert set(lists) == {"MOTO_SERVICES", "MOTO_KEEP", "BOTO_KEEP", "hidden"}
    # what the embedded backend serves (localstack/): sign-in, data, relay and change feed
    served = {"s3": "s3", "cognitoidp": "cognito-idp", "cognitoidentity": "cognito-identity",
              "sts": "sts", "iam": "iam", "dynamodb": "dynamodb", "sqs": "sqs"}
    for moto_name, boto_name in served.items():
        assert moto_name in lists["hidden"], moto_name
        assert moto_name in lists["MOTO_SERVICES"], moto_name
        assert moto_name in lists["MOTO_KEEP"], moto_name
        assert boto_name in lists["BOTO_KEEP"], boto_name
    # nothing collected or given data files is then excluded
    assert lists["hidden"] <= lists["MOTO_KEEP"] and lists["MOTO_SERVICES"] <= lists["MOTO_KEEP"]
    import importlib.util

    unknown = {m for m in lists["MOTO_KEEP"] if importlib.util.find_spec(f"moto.{m}") is None}
    assert not unknown, unknown      # a typo would keep nothing and exclude the real name


def test_build_wrapper_flags_missing_parts_we_import(tmp_path):
    """build_app.py turns PyInstaller's warn-file lines into failures only where they matter."""
    sys.path.insert(0, str(PKG))
    try:
        import build_app
    finally:
        sys.path.remove(str(PKG))
    warn = tmp_path / "warn.txt"
    warn.write_text(
        "missing module named winreg - imported by platformdirs.windows (delayed, conditional)\n"
        "missing module named _winapi - imported by subprocess (optional)\n"
        "missing module named tomli_w - imported by archpal_desktop.core.config (top-level)\n"
        "missing module named 'archpal_desktop.ui.app' - imported by archpal_desktop.cli.context (delayed)\n"
        "missing module named simplejson - imported by requests.compat (conditional, optional)\n")
    assert build_app.missing_imports(warn) == [
        "tomli_w (imported by archpal_desktop.core.config)",
        "archpal_desktop.ui.app (our own module)"]
