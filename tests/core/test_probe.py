"""A poll's probe (issue 19) against moto: one HEAD of the index when nothing changed; a full
sync when the web app wrote (it rewrites the index after every message), when something here
waits to go up, and when the index is gone."""
from __future__ import annotations

from archpal_desktop.core import layout
from archpal_desktop.core.aws import static_access
from archpal_desktop.core.sync import sync_once
from tests.support.s3fixtures import ADA
from tests.support.webapp import WebAppWriter


def probe(d):
    return sync_once(d.store, static_access(d.settings, d.sub), d.settings, probe=True)


def test_a_probe_is_one_head_until_the_web_app_writes(s3, fixture_bucket, desktops):
    bucket, _ = fixture_bucket
    ada = desktops(ADA, bucket)
    assert ada.sync().ok
    quiet = probe(ada)
    assert quiet.requests == {"list": 0, "get": 0, "put": 0, "delete": 0, "head": 1}
    assert quiet.ok and quiet.changed == []
    web = WebAppWriter(s3, bucket, ADA)
    cid = web.index()[0]["conversation_id"]
    mid = web.append(cid, "user", "Written in the web app")
    found = probe(ada)
    assert found.requests["head"] == 1 and found.requests["list"] == 1
    assert found.pulled == [cid]
    assert mid in {m.message_id for m in ada.store.load_messages(cid)}
    assert probe(ada).requests["list"] == 0            # settled again: back to one HEAD


def test_a_probe_syncs_fully_when_something_here_waits_or_the_index_is_gone(s3, fixture_bucket,
                                                                          desktops):
    bucket, _ = fixture_bucket
    ada = desktops(ADA, bucket)
    ada.sync()
    conv = ada.store.create_conversation("Written here")
    ada.store.add_message(conv.conversation_id, "user", "Not uploaded yet")
    pushed = probe(ada)
    assert pushed.requests["list"] == 1 and pushed.pushed == [conv.conversation_id]
    assert probe(ada).requests["list"] == 0
    s3.delete_object(Bucket=bucket, Key=layout.index_key(ADA))
    again = probe(ada)
    assert again.requests["list"] == 1 and again.index_pushed
