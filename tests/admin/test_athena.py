"""The Athena route (issue 15 point 5). Athena cannot run here: what can be checked is the SQL
produced for the site's bucket, that the CloudFormation template carries exactly those
statements and passes cfn-lint, and that --run drives boto3's Athena client (against moto's
Athena, which records the queries and reports them succeeded without executing SQL)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from archpal_desktop.core.admin import athena
from archpal_desktop.core.admin.research import CONVERSATION_COLUMNS, IDENTIFIER_COLUMNS
from tests.admin.test_packaging import CfnLoader

TEMPLATE = Path(__file__).resolve().parents[2] / "packaging" / "aws" / "archpal-research-athena.yaml"


def test_sql_is_for_the_sites_bucket_and_the_exports_columns():
    plan = athena.plan("archpal-user-data-prod")
    st = dict(plan.statements)
    assert list(st) == ["database", "conversations_table", "profiles_table",
                        "research_conversations", "research_identifiers"]
    for ddl in (st["conversations_table"], st["profiles_table"]):
        assert "LOCATION 's3://archpal-user-data-prod/users/'" in ddl
        assert athena.ION_SERDE in ddl  # the web app's indented JSON is not one record a line
    conv = st["research_conversations"]
    assert "LIKE 's3://archpal-user-data-prod/users/%/conversations/%.json'" in conv
    assert "LIKE 's3://archpal-user-data-prod/users/%/info.json'" in conv
    select = conv.rsplit("SELECT ", 1)[1]
    assert [c.split(" AS ")[-1].strip() for c in select.split("FROM pairs")[0].split(",\n")] == \
        list(CONVERSATION_COLUMNS)
    assert "[NAME]" in conv and '"emotion"' in conv  # anonymised, legacy emotion cut
    assert "'''' ||" in conv  # formula-safe cells, as the local export
    ids = st["research_identifiers"]
    assert [c.strip().split(" AS ")[-1] for c in
            ids.split("SELECT", 1)[1].split("FROM")[0].split(",\n")] == list(IDENTIFIER_COLUMNS)
    other = dict(athena.plan("another-bucket").statements)
    assert "archpal-user-data-prod" not in "".join(other.values())


def test_print_sql_command_and_bad_names(cli):
    run = cli("admin", "research-athena", "--bucket", "site-bucket", "--print-sql")
    assert run.code == 0, run.err
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS `archpal_research`.`conversations`" in run.out
    assert run.out.count("s3://site-bucket/users/") >= 4
    bad = cli("admin", "research-athena", "--bucket", "site-bucket", "--print-sql",
              "--database", "x; DROP")
    assert bad.code == 1 and "not a Glue name" in bad.err
    norun = cli("admin", "research-athena", "--bucket", "site-bucket", "--run")
    assert norun.code == 1 and "--results" in norun.err


def test_template_carries_the_same_statements_and_lints_clean():
    t = yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)
    res = t["Resources"]
    st = dict(athena.plan("my-bucket").statements)
    for resource, name in (("ResearchConversationsQuery", "research_conversations"),
                           ("ResearchIdentifiersQuery", "research_identifiers")):
        text = res[resource]["Properties"]["QueryString"]["Sub"]
        assert text.replace("${BucketName}", "my-bucket").strip() == st[name]
    table = res["ConversationsTable"]["Properties"]["TableInput"]["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in table["Columns"]] == list(
        athena.CONVERSATION_TABLE_COLUMNS)
    assert table["SerdeInfo"]["SerializationLibrary"] == athena.ION_SERDE
    assert table["Location"] == {"Sub": "s3://${BucketName}/users/"}
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)],
                          capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_run_drives_boto3s_athena_client(cli, local_aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_ATHENA", os.environ["AWS_ENDPOINT_URL_S3"])
    run = cli("admin", "research-athena", "--bucket", "site-bucket", "--run",
              "--results", "s3://study-results/archpal/")
    assert run.code == 0, run.err
    names = [line.split(":", 1)[0] for line in run.out.splitlines()]
    assert names == ["database", "conversations_table", "profiles_table",
                     "research_conversations", "research_identifiers"]
