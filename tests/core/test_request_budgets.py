"""Request budgets of a sync (docs/ARCHITECTURE.md "Sync rules", issue 2's bench budgets in a fast form).

"A no-change sync costs one LIST per 1,000 objects and nothing else"; one conversation changed by
the web app costs the LIST pages + 2 (its file and the index it rewrote), and since the merge
equals what the web app wrote, nothing is pushed back. Counts are every HTTP attempt boto3 made
(retries included), taken from the real client talking to moto's server. The 1,002-key form (two
LIST pages) is measured by bench/bench_sync.py; it takes too long for the default test run.
"""
from __future__ import annotations

import time

import pytest

from archpal_desktop.core import layout
from tests.support.s3fixtures import ADA
from tests.support.seed import seed_bucket
from tests.support.webapp import WebAppWriter

ONLY_LIST = {"list": 1, "get": 0, "put": 0, "delete": 0}


@pytest.fixture
def seeded(s3, bucket):
    # 60 conversations + index + profile = 62 keys: one LIST page
    return seed_bucket(s3, bucket, ADA, 60, 4, seed=7)


def _ids_in_cache(store, cid):
    return [m.message_id for m in store.load_messages(cid)]


def test_first_sync_gets_each_object_once_and_pushes_nothing(desktops, bucket, seeded):
    desk = desktops(ADA, bucket)
    result = desk.sync()
    assert result.errors == []
    assert result.requests == {"list": 1, "get": 62, "put": 0, "delete": 0}
    assert len(desk.store.list_conversations()) == 60
    for cid, ids in seeded.conversations.items():
        assert _ids_in_cache(desk.store, cid) == ids


def test_no_change_sync_is_the_list_alone(desktops, bucket, seeded):
    desk = desktops(ADA, bucket)
    desk.sync()
    assert desk.sync().requests == ONLY_LIST
    assert desk.sync().requests == ONLY_LIST


def test_one_web_change_costs_list_plus_two_gets_and_no_push(desktops, s3, bucket, seeded):
    desk = desktops(ADA, bucket)
    desk.sync()
    cid = list(seeded.conversations)[17]
    web = WebAppWriter(s3, bucket, ADA)
    mid = web.append(cid, "user", "Here is my revised thesis statement for the essay.")

    result = desk.sync()
    # the conversation file and the index the web app rewrote; the merge equals the web's copy
    assert result.requests == {"list": 1, "get": 2, "put": 0, "delete": 0}
    assert result.pulled == [cid]
    assert _ids_in_cache(desk.store, cid) == seeded.conversations[cid] + [mid]
    assert desk.store.get_conversation(cid).message_count == 5
    assert desk.sync().requests == ONLY_LIST


def test_one_web_conversation_created_costs_list_plus_two(desktops, s3, bucket, seeded):
    desk = desktops(ADA, bucket)
    desk.sync()
    cid = WebAppWriter(s3, bucket, ADA).new_conversation("Can you help me outline a paper?")
    result = desk.sync()
    assert result.requests == {"list": 1, "get": 2, "put": 0, "delete": 0}
    conv = desk.store.get_conversation(cid)
    assert conv is not None and conv.message_count == 1 and not conv.file_missing
    assert desk.sync().requests == ONLY_LIST


def test_one_desktop_message_costs_list_plus_file_and_index_puts(desktops, s3, bucket, seeded):
    desk = desktops(ADA, bucket)
    desk.sync()
    cid = list(seeded.conversations)[3]
    msg = desk.store.add_message(cid, "user", "Is my conclusion strong enough?")
    result = desk.sync()
    # conversation file first, then the index; nothing needs reading (ETags unchanged)
    assert result.requests == {"list": 1, "get": 0, "put": 2, "delete": 0}
    assert result.pushed == [cid] and result.index_pushed
    body = s3.get_object(Bucket=bucket, Key=f"users/{ADA}/conversations/{cid}.json")["Body"].read()
    assert msg.message_id.encode() in body
    # our own PUTs changed the ETags; we stored them, so nothing comes back down
    assert desk.sync().requests == ONLY_LIST
    assert desk.store.pending_upload_count() == 0


def _engine(desk, bucket, *, page_size=1000, sleep=time.sleep, progress=None, parallelism=16,
            **client_kwargs):
    """A sync engine on the real client, with the knobs sync_once does not expose."""
    from archpal_desktop.core.aws import s3_client, static_access
    from archpal_desktop.core.sync.remote import Remote
    from archpal_desktop.core.sync import SyncEngine

    access = static_access(desk.settings, ADA)
    remote = Remote(s3_client(access, desk.settings, **client_kwargs), bucket, ADA,
                    credentials=access.session.get_credentials(), page_size=page_size, sleep=sleep)
    return SyncEngine(desk.store, remote, progress=progress, parallelism=parallelism)


@pytest.fixture
def fault_proxy(moto_server, monkeypatch):
    """The fault proxy in front of moto, as every S3 client made after this sees it."""
    from archpal_desktop.localstack.proxy import FaultProxy

    made = []

    def start(**kwargs):
        proxy = FaultProxy(moto_server.url, **kwargs).start()
        made.append(proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        return proxy

    yield start
    for proxy in made:
        proxy.stop()


def _assert_sync_threads_end() -> None:
    import threading

    for thread in threading.enumerate():
        if thread.name.startswith("archpal-sync"):
            thread.join(10)
            assert not thread.is_alive()


def test_a_history_over_several_list_pages_downloads_each_file_once(desktops, s3, bucket, seeded):
    # 62 keys in pages of 10: downloads of the first pages start while the rest is listed
    desk = desktops(ADA, bucket)
    s3.put_object(Bucket=bucket, Key=f"users/{ADA}/conversations/0a0a0a0a-0000-4000-8000-000000000001.json",
                  Body=b" " * (layout.MAX_OBJECT_BYTES + 1))  # too large to be one: reported, never fetched
    result = _engine(desk, bucket, page_size=10).sync()
    assert result.requests == {"list": 7, "get": 62, "put": 0, "delete": 0}
    assert len(result.errors) == 1 and "too large" in result.errors[0]
    assert len(desk.store.list_conversations()) == 60
    for cid, ids in seeded.conversations.items():
        assert _ids_in_cache(desk.store, cid) == ids
    again = _engine(desk, bucket, page_size=10).sync()
    assert again.requests == {"list": 7, "get": 0, "put": 0, "delete": 0}


def test_going_offline_between_list_pages_fails_at_once_and_loses_nothing(desktops, bucket, seeded,
                                                                          fault_proxy, monkeypatch):
    from archpal_desktop.core.errors import OfflineError

    proxy = fault_proxy()
    desk = desktops(ADA, bucket)
    engine = _engine(desk, bucket, page_size=10, sleep=lambda s: None, max_attempts=1)
    start_early = engine._start_early

    def then_offline(page, states):
        start_early(page, states)
        proxy.offline = True  # the laptop lid closes after the first page

    monkeypatch.setattr(engine, "_start_early", then_offline)
    t0 = time.monotonic()
    with pytest.raises(OfflineError):
        engine.sync()
    assert time.monotonic() - t0 < 5
    assert desk.store.list_conversations() == []  # nothing half-applied
    proxy.offline = False
    assert desk.sync().ok
    for cid, ids in seeded.conversations.items():
        assert _ids_in_cache(desk.store, cid) == ids


def test_a_failed_sync_calls_off_the_retries_of_downloads_still_running(desktops, bucket, seeded,
                                                                         fault_proxy):
    # S3 starts throttling every GET once the listing is in. Each download makes its attempt,
    # then waits out a backoff (real sleeps) before its second and last; the first to fail for
    # good fails the sync. The others were waiting: they give up there, instead of each making
    # another attempt (up to a minute of retries with the default five, in threads the app
    # would have to wait for when it quits).
    from archpal_desktop.core.errors import ThrottledError

    proxy = fault_proxy(seed=5)
    desk = desktops(ADA, bucket)
    throttling = [True]

    def progress(done, total, phase):
        if phase == "download" and done == 0 and throttling[0]:
            proxy.set_faults(throttle=1.0)

    workers = 8
    engine = _engine(desk, bucket, progress=progress, parallelism=workers, max_attempts=1)
    with pytest.raises(ThrottledError):
        engine.sync()
    _assert_sync_threads_end()
    # conversation GETs (the profile's came before the throttling): one attempt by each
    # running download, the second of the one that failed the sync, and at most a few more
    # where backoffs ended together (16 and more without the call-off)
    assert engine.remote.counts()["get"] == proxy.injected["throttle"] + 1
    assert workers + 1 <= proxy.injected["throttle"] <= workers + 4
    assert desk.store.list_conversations() == []  # nothing half-applied

    proxy.set_faults()
    throttling[0] = False
    assert engine.sync().ok  # the next sync on the same connection downloads as usual
    for cid, ids in seeded.conversations.items():
        assert _ids_in_cache(desk.store, cid) == ids


def test_a_sync_cancelled_while_its_downloads_wait_out_backoffs_stops_without_them(
        desktops, bucket, seeded, fault_proxy):
    # The window cancels a sync (say the student quits) by raising from its progress callback.
    # While every download waits out throttling backoffs nothing completes, so the progress is
    # repeated while it waits: the cancel lands there, and the downloads give up too.
    class Cancelled(Exception):
        pass

    proxy = fault_proxy(seed=9)
    desk = desktops(ADA, bucket)
    calls = []

    def progress(done, total, phase):
        calls.append((done, total, phase))
        if phase == "download" and done == 0:
            if len([c for c in calls if c[2] == "download"]) == 1:
                proxy.set_faults(throttle=1.0)  # S3 throttles from here on
            else:
                raise Cancelled()  # the student quit

    workers = 8
    engine = _engine(desk, bucket, progress=progress, parallelism=workers)  # 5 attempts each
    with pytest.raises(Cancelled):
        engine.sync()
    _assert_sync_threads_end()
    # the first attempts, and the second of downloads whose first backoff was shorter than
    # the half second before the cancel: not the five attempts each would make
    assert workers <= proxy.injected["throttle"] <= 2 * workers
    assert calls.count((0, 60, "download")) == 2
    assert desk.store.list_conversations() == []
