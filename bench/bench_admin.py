"""Admin kit benchmarks (issue 15): the research export over a university-shaped bucket.

- ``admin.research_300x20.ratio``: 300 users x 20 conversations x 10 messages (6,600 objects),
  through the 20 ms latency proxy (its own process, as in bench_sync); the export as it was
  before issue 15 (one ``get_object`` after another, every row kept in memory, then written)
  divided by ``export_research`` (the bounded pool, streaming to disk).
- ``admin.research_peak_rss.ratio``: the export's peak resident memory (its own process, read
  from the kernel's rusage) over 1,200 users divided by over 300 users; both in MB in the
  detail. Straight to moto (latency changes the time, not the memory).
"""
from __future__ import annotations

import atexit
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

N_USERS = 300
N_USERS_BIG = 1200
N_CONVERSATIONS = 20
N_MESSAGES = 10
DELAY = 0.02
WORKERS = 16

BUDGETS = {
    "admin.research_300x20.ratio": (">=", 8),
    "admin.research_peak_rss.ratio": ("<=", 1.2),
}


class _Env:
    def __init__(self) -> None:
        import boto3

        from archpal_desktop.localstack.server import local_aws_env
        from tests.support.seed import bench_sandbox, stop_process

        self.tmp, self.moto, self.moto_url = bench_sandbox("archpal-bench-admin-")
        self.proxy = subprocess.Popen(
            [sys.executable, "-m", "archpal_desktop.localstack.proxy", "--upstream", self.moto_url,
             "--delay", str(DELAY)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        atexit.register(stop_process, self.proxy)
        self.proxy_url = self.proxy.stdout.readline().strip()
        os.environ.update(local_aws_env({"AWS_ENDPOINT_URL_S3": self.proxy_url}))
        self.direct = boto3.client("s3", region_name="us-east-1", endpoint_url=self.moto_url)
        self.buckets: dict[int, str] = {}

    def bucket(self, n_users: int) -> str:
        """A bucket of ``n_users`` users, seeded straight into moto (set-up, not measured)."""
        if n_users not in self.buckets:
            from tests.admin.scale_support import seed_users

            name = f"archpal-bench-{uuid.uuid4().hex[:10]}"
            self.direct.create_bucket(Bucket=name)
            seed_users(self.direct, name, n_users, N_CONVERSATIONS, N_MESSAGES)
            self.buckets[n_users] = name
        return self.buckets[n_users]


_ENV: _Env | None = None


def _env() -> _Env:
    global _ENV
    if _ENV is None:
        _ENV = _Env()
    return _ENV


def _sequential_export(client, bucket: str, out: Path) -> int:
    """The export as it was: list, then each user's objects one GET at a time, rows in a list."""
    from archpal_desktop.core import layout
    from archpal_desktop.core.admin import csvsafe
    from archpal_desktop.core.admin.research import (CONVERSATION_COLUMNS, _cells,
                                                     pair_messages)

    users: dict[str, list[str]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="users/"):
        for obj in page.get("Contents", []):
            parts = obj["Key"].split("/")
            users.setdefault(parts[1], []).append(obj["Key"])
    rows = []
    for sub in sorted(users):
        keys = set(users[sub])
        profile = layout.parse_info(client.get_object(Bucket=bucket, Key=layout.info_key(sub))
                                    ["Body"].read())
        layout.parse_index(client.get_object(Bucket=bucket, Key=layout.index_key(sub))["Body"].read())
        names = [profile["first_name"], profile["last_name"]]
        docs = []
        for key in sorted(keys):
            kind, cid = layout.classify_key(sub, key)
            if kind == "conversation":
                body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
                docs.append(layout.parse_conversation(body, sub, cid, key))
        docs.sort(key=lambda d: (layout.ts_key(d.get("created_at")), d["conversation_id"]))
        for doc in docs:
            for u, a in pair_messages(doc["messages"]):
                rows.append((profile["unique_identifier"], profile["college_year"],
                             profile["major"], *_cells(u, names), *_cells(a, names)))
    out.mkdir(parents=True, exist_ok=True)
    (out / "research_conversations.csv").write_bytes(csvsafe.write_rows([CONVERSATION_COLUMNS, *rows]))
    return len(rows)


def _admin_client():
    import boto3

    from archpal_desktop.core.aws import client_config, use_fast_timestamps

    session = boto3.Session(region_name="us-east-1")
    use_fast_timestamps(session)
    return session.client("s3", config=client_config(pool=WORKERS)), session.get_credentials()


def research_ratio():
    from archpal_desktop.core.admin.research import export_research

    env = _env()
    bucket = env.bucket(N_USERS)
    client, creds = _admin_client()
    t0 = time.perf_counter()
    result, _data, _ids = export_research(client, bucket, env.tmp / "new", credentials=creds,
                                          workers=WORKERS)
    ours = time.perf_counter() - t0
    import boto3

    plain = boto3.client("s3", region_name="us-east-1")  # through the proxy, as the old export
    t0 = time.perf_counter()
    theirs_rows = _sequential_export(plain, bucket, env.tmp / "old")
    theirs = time.perf_counter() - t0
    expected = N_USERS * N_CONVERSATIONS * N_MESSAGES // 2
    if result.rows != expected or theirs_rows != expected or result.problem_count:
        raise RuntimeError(f"rows: new {result.rows}, old {theirs_rows}, expected {expected}; "
                           f"problems {result.problems[:3]}")
    if (env.tmp / "new" / "research_conversations.csv").read_bytes() != \
            (env.tmp / "old" / "research_conversations.csv").read_bytes():
        raise RuntimeError("the two exports differ")
    return theirs / ours, "x", {"sequential_s": round(theirs, 2), "ours_s": round(ours, 2),
                                "objects": N_USERS * (N_CONVERSATIONS + 2), "workers": WORKERS,
                                "loadavg_1m": round(os.getloadavg()[0], 2)}


_RSS_SCRIPT = """
import os, resource, sys
from pathlib import Path
import boto3
from archpal_desktop.core.admin.research import export_research
from archpal_desktop.core.aws import client_config, use_fast_timestamps
session = boto3.Session(region_name="us-east-1")
use_fast_timestamps(session)
client = session.client("s3", endpoint_url=sys.argv[1], config=client_config(pool=16))
result, _, _ = export_research(client, sys.argv[2], Path(sys.argv[3]),
                               credentials=session.get_credentials(), workers=16)
print(result.rows)
"""


def _peak_rss_mb(bucket: str, out: Path) -> tuple[float, int, float]:
    env = _env()
    root = Path(__file__).resolve().parents[1]
    child_env = dict(os.environ, PYTHONPATH=str(root))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _RSS_SCRIPT, env.moto_url, bucket, str(out)],
                            stdout=subprocess.PIPE, env=child_env, text=True)
    stdout = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"export process failed ({proc.returncode})")
    return usage.ru_maxrss / 1024, int(stdout.strip() or 0), time.perf_counter() - t0


def peak_rss_ratio():
    env = _env()
    small, small_rows, small_s = _peak_rss_mb(env.bucket(N_USERS), env.tmp / "rss-small")
    big, big_rows, big_s = _peak_rss_mb(env.bucket(N_USERS_BIG), env.tmp / "rss-big")
    if big_rows != 4 * small_rows or not small_rows:
        raise RuntimeError(f"rows {small_rows} and {big_rows}")
    return big / small, "x", {"rss_300_users_mb": round(small, 1),
                              "rss_1200_users_mb": round(big, 1),
                              "rows_300": small_rows, "rows_1200": big_rows,
                              "seconds_300": round(small_s, 1), "seconds_1200": round(big_s, 1)}


BENCHES = {
    "admin.research_300x20.ratio": research_ratio,
    "admin.research_peak_rss.ratio": peak_rss_ratio,
}
