"""Randomized convergence: two desktop caches and one web-app writer on the same prefix, random
interleavings of a few hundred operations, faults injected on the desktops' connections (5xx,
throttling, timeouts, dropped connections, a PUT applied whose response is lost), and the web
app writing blindly from another thread at the same time. After quiescence and a few syncs:
every copy holds the same conversations and messages in the same order; nothing any writer wrote
is lost unless a desktop deleted its conversation; nothing is duplicated; and a sync with nothing
new makes no GET and no PUT."""
from __future__ import annotations

import json
import random
import threading

import pytest

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout
from archpal_desktop.core.aws import s3_client, static_access
from archpal_desktop.core.errors import ArchPalError
from archpal_desktop.core.sync.remote import Remote
from archpal_desktop.core.cache import Store
from archpal_desktop.core.sync import SyncEngine
from archpal_desktop.localstack.proxy import FaultProxy
from tests.support.webapp import WebAppWriter

SUB = "3c1e2d4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


class FlakyDesktop:
    def __init__(self, name, data_dir, bucket):
        self.name = name
        self.settings = cfg.load_settings(cli_overrides={cfg.S3_BUCKET_NAME: bucket}, env={})
        self.store = Store.open_for_user(data_dir, SUB)
        self.bucket = bucket
        self.written: dict[str, str] = {}  # message id -> conversation id
        self.deleted: set[str] = set()

        access = static_access(self.settings, SUB)
        # short timeouts so injected timeouts cost little; everything else is the real path
        client = s3_client(access, self.settings, read_timeout=0.5, connect_timeout=0.5, max_attempts=4)
        self.remote = Remote(client, bucket, SUB, credentials=access.session.get_credentials())

    def sync(self):
        engine = SyncEngine(self.store, self.remote, parallelism=4, sleep=lambda s: None)
        return engine.sync()

    def snapshot(self):
        return {c.conversation_id: (c.title, [(m.message_id, m.content) for m in
                                              self.store.load_messages(c.conversation_id)])
                for c in self.store.list_conversations()}


def web_loop(web: WebAppWriter, rng: random.Random, stop: threading.Event, errors: list):
    while not stop.is_set():
        try:
            index = [e["conversation_id"] for e in web.index() if layout.is_conversation_id(e.get("conversation_id"))]
            if not index or rng.random() < 0.15:
                web.new_conversation(f"web question {rng.random():.6f}")
            else:
                web.append(rng.choice(index), rng.choice(["user", "assistant"]), f"web {rng.random():.6f}")
        except Exception as exc:  # the web app's own failures are not ours to hide
            errors.append(repr(exc))
        stop.wait(rng.uniform(0.03, 0.12))  # a busy student, not a flood


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11])
def test_random_interleavings_converge_without_loss(seed, s3, bucket, tmp_path, moto_server, monkeypatch):
    rng = random.Random(seed)
    proxy = FaultProxy(moto_server.url, seed=seed, timeout_sleep=0.7).start()
    web = WebAppWriter(s3, bucket, SUB)            # talks to moto directly, like the real web app
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)  # the desktops go through the faults
    desks = [FlakyDesktop("A", tmp_path / "a", bucket), FlakyDesktop("B", tmp_path / "b", bucket)]
    stop = threading.Event()
    web_errors: list[str] = []
    web_thread = threading.Thread(target=web_loop, args=(web, random.Random(seed + 1), stop, web_errors))
    proxy.set_faults(error500=0.01, throttle=0.01, timeout=0.003, drop=0.006, lost_response=0.06)
    failed_syncs = 0
    web_thread.start()
    try:
        for step in range(260):
            d = rng.choice(desks)
            live = [c.conversation_id for c in d.store.list_conversations()]
            roll = rng.random()
            if roll < 0.55:
                if not live or rng.random() < 0.15:
                    cid = d.store.create_conversation().conversation_id
                else:
                    cid = rng.choice(live)
                m = d.store.add_message(cid, rng.choice(["user", "assistant"]), f"{d.name} {step} {rng.random():.6f}")
                d.written[m.message_id] = cid
            elif roll < 0.63 and live:
                d.store.rename_conversation(rng.choice(live), f"{d.name} title {step}")
            elif roll < 0.67 and live:
                cid = rng.choice(live)
                d.store.delete_conversation(cid)
                d.deleted.add(cid)
            else:
                try:
                    d.sync()
                except ArchPalError:
                    failed_syncs += 1   # retries ran out under faults: the next sync finishes the job
    finally:
        stop.set()
        web_thread.join(timeout=30)
    assert not web_errors, web_errors[:3]
    assert sum(proxy.injected.values()) > 10, proxy.injected  # the faults really happened
    proxy.set_faults()
    for _ in range(4):
        for d in desks:
            d.sync()

    a, b = (d.snapshot() for d in desks)
    assert a == b                                              # same conversations, titles, order
    # S3 holds exactly what the desktops hold
    for cid, (title, messages) in a.items():
        doc = json.loads(s3.get_object(Bucket=bucket, Key=layout.conversation_key(SUB, cid))["Body"].read())
        assert [m["message_id"] for m in doc["messages"]] == [mid for mid, _ in messages]
        assert [m["metadata"]["message_index"] for m in doc["messages"]] == list(range(len(messages)))
    index = layout.parse_index(s3.get_object(Bucket=bucket, Key=layout.index_key(SUB))["Body"].read())
    assert {e["conversation_id"]: e["title"] for e in index} == {cid: t for cid, (t, _) in a.items()}
    assert all(e["message_count"] == len(a[e["conversation_id"]][1]) for e in index)
    # nothing lost, nothing duplicated
    held = {mid: cid for cid, (_, msgs) in a.items() for mid, _ in msgs}
    assert len(held) == sum(len(msgs) for _, msgs in a.values())
    deleted_somewhere = desks[0].deleted | desks[1].deleted
    for writer, written in [("A", desks[0].written), ("B", desks[1].written), ("web", web.where)]:
        for mid, cid in written.items():
            if mid not in held:
                # only a desktop's delete of the whole conversation may remove a message
                assert cid in deleted_somewhere and cid not in a, f"{writer} lost {mid} in {cid}"
    assert all(d.written for d in desks) and len(held) > 100
    # quiescent: a sync with nothing new makes no GET and no PUT
    for d in desks:
        assert d.sync().requests == {"list": 1, "get": 0, "put": 0, "delete": 0}
    proxy.stop()
