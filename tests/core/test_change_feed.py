"""A poll with the site's change feed (issue 19, core/sync/changes.py) against moto's S3 and
DynamoDB: one read of the student's own item while nothing changed, S3 only once it moved, and
nothing lost or asked in vain when the feed is missing."""
from __future__ import annotations

import json

import pytest

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout
from archpal_desktop.core.aws import static_access
from archpal_desktop.core.sync import sync_once
from archpal_desktop.core.sync import changes
from tests.support.s3fixtures import ADA
from tests.support.webapp import WebAppWriter

QUIET = {"list": 0, "get": 0, "put": 0, "delete": 0, "head": 0, "feed": 1}


@pytest.fixture(autouse=True)
def _no_refusals():
    changes.forget_refusals()
    yield
    changes.forget_refusals()


@pytest.fixture
def feed(s3, fixture_bucket):
    """The site's change feed on this bucket, as the template wires it (localstack/change_feed.py:
    S3's events through a queue to the feed's function, relay/changes.py)."""
    from archpal_desktop.localstack.change_feed import LocalChangeFeed
    bucket, _ = fixture_bucket
    running = LocalChangeFeed(s3.meta.endpoint_url, bucket).start()
    yield running
    running.stop()


def settled(feed):
    assert feed.wait_idle(10), "the change feed did not handle S3's events"


def with_feed(d, bucket, table):
    d.settings = cfg.load_settings(cli_overrides={cfg.S3_BUCKET_NAME: bucket,
                                                  cfg.DATA_DIR: d.settings[cfg.DATA_DIR],
                                                  cfg.SYNC_CHANGES_TABLE: table}, env={})
    return d


def settled_desktop(desktops, bucket, feed):
    """Ada's desktop on a site with the feed, synced, with the feed's marker kept."""
    ada = with_feed(desktops(ADA, bucket), bucket, feed.table)
    assert ada.sync().ok
    first = probe(ada)                 # no marker kept yet: one full sync to start from
    assert first.requests["list"] == 1 and first.requests["feed"] == 1
    return ada


def probe(d, **kw):
    return sync_once(d.store, static_access(d.settings, d.sub), d.settings, probe=True, **kw)


def test_a_quiet_poll_reads_only_the_students_item(s3, fixture_bucket, desktops, feed):
    bucket, _ = fixture_bucket
    ada = settled_desktop(desktops, bucket, feed)
    for _ in range(3):
        assert probe(ada).requests == QUIET


def test_a_web_app_message_is_pulled_at_the_next_poll(s3, fixture_bucket, desktops, feed):
    bucket, _ = fixture_bucket
    ada = settled_desktop(desktops, bucket, feed)
    web = WebAppWriter(s3, bucket, ADA)
    cid = web.index()[0]["conversation_id"]
    before = feed.seq(ADA)
    mid = web.append(cid, "user", "Written on the lab computer")
    settled(feed)
    assert feed.seq(ADA) == before + 2      # the conversation file and the index
    found = probe(ada)
    assert found.requests["feed"] == 1 and found.requests["head"] == 1 and found.requests["list"] == 1
    assert found.pulled == [cid]
    assert mid in {m.message_id for m in ada.store.load_messages(cid)}
    assert probe(ada).requests == QUIET


def test_a_profile_edited_in_the_web_app_arrives_at_the_next_poll(s3, fixture_bucket, desktops,
                                                                 feed):
    bucket, _ = fixture_bucket
    ada = settled_desktop(desktops, bucket, feed)
    key = layout.info_key(ADA)
    info = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    info["major"] = "Philosophy, edited in the web app"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(info).encode())
    settled(feed)
    found = probe(ada)                 # the index did not change: the profile's count says it
    assert found.requests["list"] == 1
    assert ada.store.get_profile().get("major") == "Philosophy, edited in the web app"
    assert probe(ada).requests == QUIET


def test_our_own_upload_costs_one_head_not_a_listing(s3, fixture_bucket, desktops, feed):
    bucket, _ = fixture_bucket
    ada = settled_desktop(desktops, bucket, feed)
    conv = ada.store.create_conversation("Written here")
    ada.store.add_message(conv.conversation_id, "user", "Going up")
    assert ada.sync().pushed == [conv.conversation_id]
    settled(feed)
    own = probe(ada)                   # the index's ETag is the one we wrote
    assert own.requests == {**QUIET, "head": 1}
    assert probe(ada).requests == QUIET


def test_a_change_during_a_sync_is_seen_by_the_next_poll(s3, fixture_bucket, desktops, feed):
    bucket, _ = fixture_bucket
    ada = settled_desktop(desktops, bucket, feed)
    web = WebAppWriter(s3, bucket, ADA)
    cid = web.index()[0]["conversation_id"]
    web.append(cid, "user", "First")
    settled(feed)
    late: list[str] = []

    def during(done, total, phase):
        if not late:       # once the sync has read the marker and started listing
            late.append(web.append(cid, "user", "Written while the desktop synced"))
            settled(feed)
    assert probe(ada, progress=during).requests["list"] == 1
    assert late
    again = probe(ada)                 # the item moved past the marker the sync started from
    assert again.requests["head"] == 1
    assert late[0] in {m.message_id for m in ada.store.load_messages(cid)}
    assert probe(ada).requests == QUIET


def test_a_site_without_the_table_polls_the_index_and_stops_asking(s3, fixture_bucket, desktops,
                                                                   local_aws):
    bucket, _ = fixture_bucket
    ada = with_feed(desktops(ADA, bucket), bucket, "archpal-changes-not-deployed")
    ada.sync()
    first = probe(ada)                 # ResourceNotFound: the HEAD of the index, as without
    assert first.ok and first.requests["head"] == 1 and first.requests.get("feed") == 1
    assert probe(ada).requests == {"list": 0, "get": 0, "put": 0, "delete": 0, "head": 1}
    assert changes.refused_lately("archpal-changes-not-deployed", ADA)
    assert not changes.refused_lately("archpal-changes-not-deployed", ADA,
                                      now=10 ** 9)          # asked again an hour later
