"""Sync benchmarks (issue 2): moto's server in its own process on loopback, 20 ms added to every
response by a delaying proxy in its own process, boto3 pointed at the proxy by AWS_ENDPOINT_URL_S3,
a fresh temporary data folder. The four metrics share one seeded bucket and one cache, built
lazily, so any of them can also run alone (``python bench/run.py sync.nochange_1000``).
"""
from __future__ import annotations

import atexit
import gc
import json
import math
import os
import subprocess
import sys
import time
import uuid

from archpal_desktop.core.cache import Store

N_CONVERSATIONS = 1000
N_MESSAGES = 20
DELAY = 0.02
SUB = "0f6c2a8e-6b1d-4e0a-9a53-6a1f0f8c7b11"
#: conversation files + the index + info.json
N_KEYS = N_CONVERSATIONS + 2
LIST_PAGES = math.ceil(N_KEYS / 1000)
#: first syncs measured (each into an empty cache); the median is reported
INITIAL_RUNS = 5

BUDGETS = {
    "sync.initial_vs_sequential.ratio": (">=", 8),
    "sync.nochange_1000.requests": ("<=", LIST_PAGES),
    "sync.onechange_1000.requests": ("<=", LIST_PAGES + 2),
    # freshness (issue 19; bench/fresh.py)
    "sync.local_to_s3.seconds": ("<=", 3),
    "sync.remote_to_window.seconds": ("<=", 15),
    "sync.cost_per_student_month.usd": ("<=", 0.01),
}


class _Env:
    """The bucket, the proxy, the moto process and one user's cache, built once per run."""

    def __init__(self) -> None:
        import boto3

        from archpal_desktop.core import config as cfg
        from archpal_desktop.core.aws import static_access
        from archpal_desktop.localstack.proxy import FaultProxy
        from archpal_desktop.localstack.server import local_aws_env
        from tests.support.seed import bench_sandbox, seed_bucket, stop_process

        self.tmp, self.moto, self.moto_url = bench_sandbox("archpal-bench-sync-")
        # the proxy runs in a process of its own, so its work never shares the measured
        # client's GIL (BENCH_PROXY_IN_PROCESS=1 keeps it in this process)
        self.proxy_proc = None
        if os.environ.get("BENCH_PROXY_IN_PROCESS") == "1":
            proxy = FaultProxy(self.moto_url, delay=DELAY).start()
            atexit.register(proxy.stop)
            proxy_url = proxy.url
        else:
            self.proxy_proc = subprocess.Popen(
                [sys.executable, "-m", "archpal_desktop.localstack.proxy", "--upstream",
                 self.moto_url, "--delay", str(DELAY)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True)
            atexit.register(stop_process, self.proxy_proc)
            proxy_url = self.proxy_proc.stdout.readline().strip()
        os.environ.update(local_aws_env({"AWS_ENDPOINT_URL_S3": proxy_url}))
        # seeding is set-up, not the thing measured: straight to moto, no added latency
        self.direct = boto3.client("s3", region_name="us-east-1", endpoint_url=self.moto_url)
        self.bucket = f"archpal-bench-{uuid.uuid4().hex[:10]}"
        self.direct.create_bucket(Bucket=self.bucket)
        self.seeded = seed_bucket(self.direct, self.bucket, SUB, N_CONVERSATIONS, N_MESSAGES)
        self.settings = cfg.load_settings(cli_overrides={cfg.S3_BUCKET_NAME: self.bucket,
                                                         cfg.DATA_DIR: str(self.tmp / "data")})
        self.access = static_access(self.settings, SUB)
        self.store = Store.open_for_user(self.settings.data_dir(), SUB)
        # this process holds the seeded history (20,000 message dicts) for its checks; a real
        # sync process does not: set it aside from the cycle collector's walks during the syncs
        gc.collect()
        gc.freeze()
        self.initial_seconds: float | None = None
        self.initial_result = None
        self.initial_cpu: dict = {}
        self.sequential_seconds: float | None = None

    def sync(self):
        from archpal_desktop.core.sync import sync_once

        return sync_once(self.store, self.access, self.settings)

    def initial(self) -> float:
        """Median of INITIAL_RUNS first syncs, each into an empty cache of its own (the first run
        also pays for loading botocore's S3 model; the machine's speed drifts between runs)."""
        if self.initial_seconds is None:
            from archpal_desktop.core.sync import sync_once

            runs = []
            for i in range(INITIAL_RUNS):
                store = self.store if i == 0 else Store.open_for_user(self.tmp / f"data-{i}", SUB)
                proxy_pid = self.proxy_proc.pid if self.proxy_proc is not None else os.getpid()
                pids = (os.getpid(), self.moto.pid, proxy_pid)
                cpu0 = [_cpu_seconds(pid) for pid in pids]
                t0 = time.perf_counter()
                result = sync_once(store, self.access, self.settings)
                seconds = time.perf_counter() - t0
                cpu1 = [_cpu_seconds(pid) for pid in pids]
                held = store.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
                if held != self.seeded.message_count or result.errors:
                    raise RuntimeError(f"first sync incomplete: {held} of {self.seeded.message_count} "
                                       f"messages, errors {result.errors[:3]}")
                # where the CPU went: on a small machine the servers' work bounds any parallel client
                runs.append({"seconds": round(seconds, 3),
                             "client_cpu_s": _delta(cpu0[0], cpu1[0]),
                             "moto_cpu_s": _delta(cpu0[1], cpu1[1]),
                             "proxy_cpu_s": _delta(cpu0[2], cpu1[2]), "result": result})
                if store is not self.store:
                    store.close()
            median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
            self.initial_seconds = median["seconds"]
            self.initial_result = runs[0]["result"]  # self.store's: the cache later metrics use
            self.initial_cpu = {"runs": [{k: v for k, v in r.items() if k != "result"} for r in runs],
                                "loadavg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
        return self.initial_seconds

    def sequential(self) -> float:
        """The web app's way: LIST, then GET each object in turn and parse it."""
        if self.sequential_seconds is None:
            import boto3

            client = boto3.client("s3", region_name="us-east-1")  # through the proxy (env)
            t0 = time.perf_counter()
            keys = []
            kwargs = {"Bucket": self.bucket, "Prefix": f"users/{SUB}/"}
            while True:
                page = client.list_objects_v2(**kwargs)
                keys += [o["Key"] for o in page.get("Contents", [])]
                if not page.get("IsTruncated"):
                    break
                kwargs["ContinuationToken"] = page["NextContinuationToken"]
            docs = [json.loads(client.get_object(Bucket=self.bucket, Key=k)["Body"].read()) for k in keys]
            self.sequential_seconds = time.perf_counter() - t0
            if len(docs) != N_KEYS:
                raise RuntimeError(f"sequential client read {len(docs)} of {N_KEYS} objects")
        return self.sequential_seconds


_ENV: _Env | None = None


def _env() -> _Env:
    global _ENV
    if _ENV is None:
        _ENV = _Env()
    return _ENV






def _cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (Linux /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 2)


def _total(result) -> tuple[float, str, dict]:
    req = dict(result.requests)
    return float(sum(req.values())), "requests", {"requests": req, "errors": result.errors[:3]}


def initial_seconds():
    env = _env()
    seconds = env.initial()
    return seconds, "s", {"requests": env.initial_result.requests,
                          "conversations": N_CONVERSATIONS, "messages": env.seeded.message_count,
                          **env.initial_cpu}


def initial_vs_sequential():
    env = _env()
    ours = env.initial()
    theirs = env.sequential()
    return theirs / ours, "x", {"sequential_s": round(theirs, 3), "ours_s": round(ours, 3)}


def nochange():
    env = _env()
    env.initial()
    return _total(env.sync())


def onechange():
    from tests.support.webapp import WebAppWriter

    env = _env()
    env.initial()
    env.sync()  # settle: whatever the first sync left to do is not this metric's cost
    cid = next(iter(env.seeded.conversations))
    WebAppWriter(env.direct, env.bucket, SUB).append(cid, "user", "Could you look at my new thesis?")
    value, unit, detail = _total(env.sync())
    held = {m.message_id for m in env.store.load_messages(cid)}
    detail["arrived"] = len(held) == N_MESSAGES + 1
    if not detail["arrived"]:
        raise RuntimeError("the web app's new message did not arrive")
    return value, unit, detail


def _fresh(name: str):
    def run():
        if str(os.path.dirname(__file__)) not in sys.path:
            sys.path.insert(0, os.path.dirname(__file__))
        import fresh
        return getattr(fresh, name)()
    return run


BENCHES = {
    "sync.initial_1000x20.seconds": initial_seconds,
    "sync.initial_vs_sequential.ratio": initial_vs_sequential,
    "sync.nochange_1000.requests": nochange,
    "sync.onechange_1000.requests": onechange,
    "sync.local_to_s3.seconds": _fresh("local_to_s3"),
    "sync.remote_to_window.seconds": _fresh("remote_to_window"),
    "sync.cost_per_student_month.usd": _fresh("cost_per_student_month"),
}
