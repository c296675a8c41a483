"""``admin research-athena``: the research export through Amazon Athena (over the Glue catalog),
for buckets where even the parallel export is too slow from one machine.

Two Glue tables over the students' bucket, both at ``s3://BUCKET/users/``: ``conversations``
(the conversation files) and ``profiles`` (the ``info.json`` files), told apart by each row's
``"$path"``. The web app writes indented JSON, one document over many lines, which the JSON
SerDes cannot read (one record per line); Athena's Amazon Ion SerDe reads JSON as Ion (a
superset) and does not need a record per line, so the tables use it. The two queries give
the same columns, order, anonymisation, legacy-emotion clean-up and formula-safe cells as
``admin export-research`` (one difference: names are matched with Java's word boundaries).

This cannot run here (no Athena locally): the tests check the SQL produced for a bucket, that
``packaging/aws/archpal-research-athena.yaml`` carries the same statements, and cfn-lint.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Iterator

from archpal_desktop.core.errors import ConfigError, map_exception

_NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,63}")
#: the characters csvsafe.FORMULA_STARTS lists, as a Java regex class
_FORMULA_CLASS = r"[=+\-@\t\r\x{FF1D}\x{FF0B}\x{FF0D}\x{FF20}]"
_INLINE_EMOTION = r'\s*\{\s*"emotion"\s*:\s*"([a-z]+)"\s*\}\s*$'

CONVERSATION_TABLE_COLUMNS = (
    ("conversation_id", "string"),
    ("user_id", "string"),
    ("created_at", "string"),
    ("last_updated", "string"),
    ("messages", "array<struct<message_id:string,role:string,content:string,timestamp:string,"
                 "metadata:struct<course_number:string>>>"),
)
PROFILE_TABLE_COLUMNS = tuple((c, "string") for c in (
    "first_name", "last_name", "college_year", "major", "course_number", "unique_identifier"))
ION_SERDE = "com.amazon.ionhiveserde.IonHiveSerDe"
ION_INPUT = "com.amazon.ionhiveserde.formats.IonInputFormat"
ION_OUTPUT = "com.amazon.ionhiveserde.formats.IonOutputFormat"


@dataclass(frozen=True)
class Plan:
    bucket: str
    database: str
    table: str
    profiles: str
    statements: tuple[tuple[str, str], ...]  # (name, SQL), in the order they run


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _safe(expr: str) -> str:
    return f"CASE WHEN regexp_like({expr}, {_q('^' + _FORMULA_CLASS)}) THEN '''' || {expr} ELSE {expr} END"


def _strip_name(expr: str, name: str) -> str:
    """``expr`` with whole-word, case-insensitive ``name`` replaced, names of one letter kept."""
    pattern = "'(?i)(?<![\\p{L}\\p{N}_])\\Q' || trim(" + name + ") || '\\E(?![\\p{L}\\p{N}_])'"
    return (f"CASE WHEN length(trim(coalesce({name}, ''))) >= 2 "
            f"THEN regexp_replace({expr}, {pattern}, '[NAME]') ELSE {expr} END")


def _anonymise(expr: str) -> str:
    # the longer name first, as the local export does ("Ann" inside "Anne-Marie" stays whole)
    a = _strip_name(_strip_name(expr, "p.last_name"), "p.first_name")
    b = _strip_name(_strip_name(expr, "p.first_name"), "p.last_name")
    return (f"CASE WHEN length(coalesce(p.first_name, '')) >= length(coalesce(p.last_name, '')) "
            f"THEN {b} ELSE {a} END")


def table_ddl(bucket: str, database: str, table: str, columns, *, comment: str) -> str:
    cols = ",\n  ".join(f"`{name}` {kind}" for name, kind in columns)
    return (f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (\n  {cols}\n)\n"
            f"COMMENT {_q(comment)}\n"
            f"ROW FORMAT SERDE '{ION_SERDE}'\n"
            f"STORED AS INPUTFORMAT '{ION_INPUT}' OUTPUTFORMAT '{ION_OUTPUT}'\n"
            f"LOCATION 's3://{bucket}/users/'")


def conversations_query(bucket: str, database: str, table: str, profiles: str) -> str:
    conv_path = _q(f"s3://{bucket}/users/%/conversations/%.json")
    info_path = _q(f"s3://{bucket}/users/%/info.json")
    content = f"regexp_replace(m.content, {_q(_INLINE_EMOTION)}, '')"
    return f"""-- research_conversations.csv: the same rows as `admin export-research`
WITH msgs AS (
  SELECT split_part("$path", '/', 5) AS sub, c.conversation_id, c.created_at,
         m.role, m.timestamp AS ts, {content} AS content, t.n
  FROM `{database}`.`{table}` c
  CROSS JOIN UNNEST(c.messages) WITH ORDINALITY AS t(m, n)
  WHERE "$path" LIKE {conv_path}
),
seq AS (
  SELECT *,
    lag(role) OVER (PARTITION BY sub, conversation_id ORDER BY n) AS prev_role,
    lead(role) OVER (PARTITION BY sub, conversation_id ORDER BY n) AS next_role,
    lead(content) OVER (PARTITION BY sub, conversation_id ORDER BY n) AS next_content,
    lead(ts) OVER (PARTITION BY sub, conversation_id ORDER BY n) AS next_ts
  FROM msgs
),
pairs AS (
  SELECT sub, conversation_id, created_at, n, content AS user_message, ts AS user_time,
         CASE WHEN next_role = 'assistant' THEN next_content ELSE '' END AS reply,
         CASE WHEN next_role = 'assistant' THEN next_ts ELSE '' END AS reply_time
  FROM seq WHERE role = 'user'
  UNION ALL
  SELECT sub, conversation_id, created_at, n, '', '', content, ts
  FROM seq WHERE role <> 'user' AND coalesce(prev_role, '') <> 'user'
),
p AS (
  SELECT split_part("$path", '/', 5) AS sub, first_name, last_name, college_year, major,
         unique_identifier
  FROM `{database}`.`{profiles}` WHERE "$path" LIKE {info_path}
)
SELECT {_safe("coalesce(p.unique_identifier, '')")} AS unique_identifier,
       {_safe("coalesce(p.college_year, '')")} AS college_year,
       {_safe("coalesce(p.major, '')")} AS major,
       {_safe(_anonymise("pairs.user_message"))} AS user_message,
       {_safe("pairs.user_time")} AS user_message_time,
       {_safe(_anonymise("pairs.reply"))} AS assistant_message,
       {_safe("pairs.reply_time")} AS assistant_message_time
FROM pairs LEFT JOIN p ON p.sub = pairs.sub
ORDER BY pairs.sub || '/', pairs.created_at, pairs.conversation_id, pairs.n"""


def identifiers_query(bucket: str, database: str, profiles: str) -> str:
    info_path = _q(f"s3://{bucket}/users/%/info.json")
    return f"""-- research_identifiers.csv: personal data, kept apart from the data file
SELECT {_safe("coalesce(first_name, '')")} AS first_name,
       {_safe("coalesce(last_name, '')")} AS last_name,
       {_safe("coalesce(unique_identifier, '')")} AS unique_identifier
FROM `{database}`.`{profiles}`
WHERE "$path" LIKE {info_path}
ORDER BY split_part("$path", '/', 5) || '/'"""


def plan(bucket: str, *, database: str = "archpal_research", table: str = "conversations",
         profiles: str = "profiles") -> Plan:
    from archpal_desktop.core.admin.site import _BUCKET_RE

    if not _BUCKET_RE.fullmatch(bucket or ""):
        raise ConfigError(f"{bucket!r} is not a bucket name.", "Pass --bucket NAME.")
    for name in (database, table, profiles):
        if not _NAME_RE.fullmatch(name):
            raise ConfigError(f"{name!r} is not a Glue name.",
                              "Use lowercase letters, digits and underscores.")
    statements = (
        ("database", f"CREATE DATABASE IF NOT EXISTS `{database}`"),
        ("conversations_table", table_ddl(bucket, database, table, CONVERSATION_TABLE_COLUMNS,
                                          comment="ArchPal conversation files")),
        ("profiles_table", table_ddl(bucket, database, profiles, PROFILE_TABLE_COLUMNS,
                                     comment="ArchPal profiles (info.json)")),
        ("research_conversations", conversations_query(bucket, database, table, profiles)),
        ("research_identifiers", identifiers_query(bucket, database, profiles)),
    )
    return Plan(bucket, database, table, profiles, statements)


def format_plan(p: Plan) -> str:
    return "\n\n".join(f"-- {name}\n{sql};" for name, sql in p.statements)


def run(client, p: Plan, results: str, *, workgroup: str = "primary", poll: float = 2.0,
        sleep=time.sleep) -> Iterator[tuple[str, str]]:
    """Run every statement in turn with boto3's Athena client; yields (name, CSV location)."""
    if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?", results or ""):
        raise ConfigError(f"{results!r} is not an s3:// location.",
                          "Give --results s3://BUCKET/PREFIX/.")
    for name, sql in p.statements:
        try:
            qid = client.start_query_execution(
                QueryString=sql, WorkGroup=workgroup,
                ResultConfiguration={"OutputLocation": results})["QueryExecutionId"]
            while True:
                status = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
                state = status["Status"]["State"]
                if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
                    break
                sleep(poll)
        except Exception as exc:
            raise map_exception(exc) from exc
        if state != "SUCCEEDED":
            reason = status["Status"].get("StateChangeReason", "")
            raise ConfigError(f"Athena {name} {state.lower()}: {reason}",
                              "Check the workgroup, the Glue permissions and the results location.")
        yield name, status.get("ResultConfiguration", {}).get("OutputLocation", "")
