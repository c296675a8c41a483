"""Freshness benchmarks (issue 19), used by bench_sync.py: moto's server in its own process, a
FaultProxy adding 20 ms to every response in front of it (it also counts what reaches moto),
a student with 20 conversations of 10 messages written the web app's way, the coach
unreachable (a dead loopback port).

- local_to_s3: Enter in the real window -> the conversation object's new ETag on moto.
- remote_to_window: a web-app write (straight to moto) -> the new message painted in the open,
  active window; writes at random moments of the poll cycle.
- cost: the real schedule (core.sync.schedule) on a fake clock drives real syncs (the driver's
  sync_once, probes included) through the proxy for one active hour at the default intervals;
  the requests counted price a student-month of 8 active hours a day, 22 days, the window in
  front all that time (the dearest case).

The site's change feed (core/sync/changes.py) runs as the template deploys it, emulated:
moto's S3 sends its events to an SQS queue and a thread hands them to the feed's function
(localstack/change_feed.py), as Lambda's trigger would. The desktop reads its item through
the same 20 ms proxy.
"""
from __future__ import annotations

import os
import random
import time
import uuid

SUB = "3d9b8f0e-7a51-4c2b-9e1f-0a1b2c3d4e5f"
DELAY = 0.02
N_CONVERSATIONS, N_MESSAGES = 20, 10
#: S3 Standard, us-east-1 (USD per request): PUT/COPY/POST/LIST, and GET/HEAD/other
PRICE_CLASS_A = 0.005 / 1000
PRICE_CLASS_B = 0.0004 / 1000
#: DynamoDB on demand, us-east-1: an eventually consistent GetItem of one small item is half a
#: read request unit ($0.125 per million); the feed's function per S3 event: one UpdateItem
#: (one write unit, $0.625 per million), one Lambda request ($0.20 per million) and ~100 ms at
#: 128 MB ($0.0000166667 per GB-second)
PRICE_FEED_READ = 0.5 * 0.125 / 1_000_000
PRICE_FEED_EVENT = 0.625 / 1_000_000 + 0.20 / 1_000_000 + 0.1 * 0.125 * 0.0000166667
HOURS_A_MONTH = 8 * 22


class FreshEnv:
    def __init__(self) -> None:
        import boto3

        from archpal_desktop.core import config as cfg
        from archpal_desktop.core.aws import static_access
        from archpal_desktop.core.cache import Store
        from archpal_desktop.core.sync import sync_once
        from archpal_desktop.localstack.change_feed import LocalChangeFeed
        from archpal_desktop.localstack.proxy import FaultProxy
        from archpal_desktop.localstack.server import free_port, local_aws_env
        from tests.support.seed import bench_sandbox
        from tests.support.webapp import WebAppWriter

        self.tmp, self.moto, self.moto_url = bench_sandbox(
            "archpal-bench-fresh-", keyring_backend="keyring.backends.null.Keyring")
        self.proxy = FaultProxy(self.moto_url, delay=DELAY).start()
        os.environ.update(local_aws_env({"AWS_ENDPOINT_URL_S3": self.proxy.url,
                                         "AWS_ENDPOINT_URL_DYNAMODB": self.proxy.url,
                                         "AWS_ENDPOINT_URL_BEDROCK_RUNTIME":
                                             f"http://127.0.0.1:{free_port()}"}))
        self.direct = boto3.client("s3", region_name="us-east-1", endpoint_url=self.moto_url)
        self.bucket = f"archpal-bench-{uuid.uuid4().hex[:10]}"
        self.direct.create_bucket(Bucket=self.bucket)
        os.environ["ARCHPAL_S3_BUCKET_NAME"] = self.bucket
        self.feed = LocalChangeFeed(self.moto_url, self.bucket).start()
        os.environ["ARCHPAL_SYNC_CHANGES_TABLE"] = self.feed.table
        self.web = WebAppWriter(self.direct, self.bucket, SUB)
        self.cids = []
        for i in range(N_CONVERSATIONS):
            cid = self.web.new_conversation(f"Question {i} about my essay")
            for j in range(N_MESSAGES - 1):
                self.web.append(cid, "assistant" if j % 2 == 0 else "user", f"Message {j}. " * 20)
            self.cids.append(cid)
        self.data = self.tmp / "cache"
        self.settings = cfg.load_settings(cli_overrides={cfg.DATA_DIR: str(self.data)})
        self.access = static_access(self.settings, SUB)
        store = Store.open_for_user(self.data, SUB)
        result = sync_once(store, self.access, self.settings)
        if result.errors:
            raise RuntimeError(f"seeding sync failed: {result.errors[:3]}")
        store.close()

    def etag(self, key: str) -> str | None:
        try:
            return self.direct.head_object(Bucket=self.bucket, Key=key)["ETag"]
        except Exception:  # noqa: BLE001 - not there yet
            return None


_ENV: FreshEnv | None = None


def env() -> FreshEnv:
    global _ENV
    if _ENV is None:
        _ENV = FreshEnv()
    return _ENV


def _spin(app, cond, timeout: float, every: float = 0.0) -> None:
    """Run the event loop until ``cond()`` (checked every ``every`` s, at least every 1 ms).

    A QEventLoop with a timer, not ``app.processEvents()`` in a loop: PySide6 6.12's
    processEvents() drops a reference to None on every call (10,000 calls abort the process
    with "none_dealloc"), while timer slots do not."""
    from PySide6.QtCore import QEventLoop, QTimer

    end = time.perf_counter() + timeout
    loop = QEventLoop()
    state = {"ok": bool(cond()), "late": False}
    if state["ok"]:
        return
    timer = QTimer()
    timer.setInterval(max(1, int(every * 1000)))

    def check() -> None:
        if cond():
            state["ok"] = True
            loop.quit()
        elif time.perf_counter() > end:
            state["late"] = True
            loop.quit()
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if not state["ok"]:
        raise TimeoutError("benchmark condition not reached")


def _window():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from archpal_desktop.cli import build_parser
    from archpal_desktop.cli.context import Context
    from archpal_desktop.ui import app as ui_app
    from archpal_desktop.ui.main_window import MainWindow
    from archpal_desktop.ui.tasks import TaskManager

    e = env()
    app = ui_app.make_app()
    ctx = Context(build_parser().parse_args(["--user", SUB, "--data-dir", str(e.data)]))
    tasks = TaskManager()
    state = ui_app.build_state(ctx, app, tasks)
    window = MainWindow(state, start_sync=True)
    window.resize(1200, 800)
    window.show()
    window.activateWindow()   # offscreen: activated on request (the driver sees it active)
    _spin(app, lambda: window.isActiveWindow() and window.sync_driver.scheduler.active, 10)
    _spin(app, lambda: window.sync_driver.last_due is not None and not window.sync.running
          and not tasks.busy, 60)
    return app, ctx, tasks, window


def _close(app, ctx, tasks, window) -> None:
    window.close()
    _spin(app, lambda: not tasks.busy, 30)
    tasks.shutdown()
    window.deleteLater()
    ctx.close()
    _spin(app, lambda: True, 1)


def local_to_s3(runs: int = 4):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from archpal_desktop.core import layout
    e = env()
    app, ctx, tasks, w = _window()
    try:
        cid = e.cids[0]
        w.conversations.select(cid)
        _spin(app, lambda: w.current_cid == cid and w.chat.chat_model.total > 0, 10)
        key = layout.conversation_key(SUB, cid)
        seconds = []
        for i in range(runs):
            before = e.etag(key)
            w.composer.edit.setFocus()
            QTest.keyClicks(w.composer.edit, f"A new paragraph, take {i}")
            t0 = time.perf_counter()
            QTest.keyClick(w.composer.edit, Qt.Key.Key_Return)
            _spin(app, lambda: e.etag(key) != before, 20, every=0.01)
            seconds.append(time.perf_counter() - t0)
            _spin(app, lambda: not w.sync.running and not tasks.busy, 20)
            time.sleep(0.5)
        reasons = w.sync_driver.last_due.reason
    finally:
        _close(app, ctx, tasks, w)
    return max(seconds), "s", {"runs_s": [round(s, 3) for s in seconds], "last_reason": reasons,
                               "coach": "unreachable"}


def remote_to_window(runs: int = 4, seed: int = 19):
    from PySide6.QtCore import QEvent, QObject

    e = env()
    rng = random.Random(seed)
    app, ctx, tasks, w = _window()
    painted: list[float] = []

    class Watch(QObject):
        def eventFilter(self, obj, ev):  # noqa: N802
            if ev.type() == QEvent.Type.Paint:
                painted.append(time.perf_counter())
            return False
    watch = Watch()
    w.chat.viewport().installEventFilter(watch)
    try:
        cid = e.cids[1]
        w.conversations.select(cid)
        _spin(app, lambda: w.current_cid == cid and w.chat.chat_model.total > 0, 10)
        seconds = []
        for i in range(runs):
            # a random moment of the poll cycle
            wait = rng.uniform(0, w.sync_driver.scheduler.poll_interval)
            end = time.perf_counter() + wait
            _spin(app, lambda: time.perf_counter() >= end, wait + 1)
            mid = e.web.append(cid, "user", f"Written on the lab computer, take {i}")
            t0 = time.perf_counter()
            _spin(app, lambda: w.chat.chat_model.message(mid) is not None, 60)
            painted.clear()
            _spin(app, lambda: bool(painted), 5)
            seconds.append(painted[0] - t0)
    finally:
        w.chat.viewport().removeEventFilter(watch)
        _close(app, ctx, tasks, w)
    return max(seconds), "s", {"runs_s": [round(s, 3) for s in seconds],
                               "median_s": round(sorted(seconds)[len(seconds) // 2], 3)}


def _simulate_hour(*, writes_every: float | None) -> dict:
    """One active hour on the default schedule, on a fake clock, real syncs through the proxy."""
    from archpal_desktop.core.cache import Store
    from archpal_desktop.core.sync import sync_once
    from archpal_desktop.core.sync.schedule import PROBE, Intervals, Scheduler

    e = env()
    clock = [0.0]
    s = Scheduler(Intervals.from_settings(e.settings), monotonic=lambda: clock[0],
                  wall=lambda: 1.7e9 + clock[0], active=True)
    store = Store.open_for_user(e.data, SUB)
    counts = {"list": 0, "get": 0, "put": 0, "head": 0, "delete": 0, "feed": 0}
    events0 = e.feed.seq(SUB)
    forwarded0 = dict(e.proxy.forwarded_by_method)
    syncs = {"probe": 0, "full": 0}
    next_write = writes_every if writes_every else None
    cid = e.cids[2]
    step = 0.25
    while clock[0] < 3600:
        if next_write is not None and clock[0] >= next_write:
            # the student's message and the coach's answer, as the window saves them
            store.add_message(cid, "user", "One more question about my thesis.", course_number="")
            s.local_write()
            store.add_message(cid, "assistant", "Here is what I would look at first.", emotion="smile",
                              course_number="")
            s.local_write()
            next_write += writes_every
        if due_soon(s, clock[0]):
            e.feed.wait_idle(5)   # the feed's function has handled what S3 sent (real time)
        due = s.tick()
        if due is not None:
            result = sync_once(store, e.access, e.settings, probe=due.kind == PROBE)
            for k, v in result.requests.items():
                counts[k] = counts.get(k, 0) + v
            listed = bool(result.requests.get("list"))
            syncs["full" if listed else "probe"] += 1
            s.finished(ok=not result.errors, full=listed)
        clock[0] += step
    store.close()
    by_method = {m: n - forwarded0.get(m, 0) for m, n in e.proxy.forwarded_by_method.items()}
    e.feed.wait_idle(5)
    events = e.feed.seq(SUB) - events0   # S3 events the feed's function handled this hour
    usd_s3 = (counts["list"] + counts["put"]) * PRICE_CLASS_A + (counts["get"] + counts["head"]) * PRICE_CLASS_B
    usd_feed = counts["feed"] * PRICE_FEED_READ + events * PRICE_FEED_EVENT
    usd = usd_s3 + usd_feed
    return {"requests": counts, "feed_events": events, "proxy_forwarded": by_method,
            "syncs": syncs, "usd_per_hour": usd, "usd_per_month": usd * HOURS_A_MONTH,
            "usd_per_month_s3": usd_s3 * HOURS_A_MONTH, "usd_per_month_feed": usd_feed * HOURS_A_MONTH}


def due_soon(s, now: float) -> bool:
    """A sync is due at this fake-clock step (the next tick will start it)."""
    return not s.running and s.next_at() <= now


def cost_per_student_month():
    e = env()
    quiet = _simulate_hour(writes_every=None)
    writing = _simulate_hour(writes_every=180.0)
    iv = {k: getattr(e.settings, k) for k in ("sync_active_seconds", "sync_battery_seconds",
                                              "sync_interval_seconds", "sync_full_seconds",
                                              "sync_upload_delay_seconds")}
    return round(quiet["usd_per_month"], 5), "usd", {
        "what": "polling an active window, 8 h a day, 22 days, no writes (S3 and the change feed)",
        "quiet_hour": quiet, "hour_with_a_message_every_3_min": writing, "intervals": iv}
