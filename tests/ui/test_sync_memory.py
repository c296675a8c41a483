"""The window's syncs and Python's cycle collector: botocore's models for a session are set aside
from the collector's walk once (a full collection over them held the GIL for ~60 ms mid-sync and
froze the window), and what each sync makes stays collectable (nothing frozen per sync)."""
from __future__ import annotations

import gc

from archpal_desktop.core import config as cfg
from archpal_desktop.ui.app import static_access_factory


def _sync(qtbot, w):
    w.sync.sync_now("test")
    qtbot.waitUntil(lambda: w.sync.running, timeout=5000)
    qtbot.waitUntil(lambda: not w.sync.running, timeout=30000)
    assert w.status.state.error is None or w.status.state.error == ""


def test_models_are_set_aside_once_per_session_and_later_syncs_freeze_nothing(
        qtbot, make_window, state, settings, sub, s3, bucket):
    state.access = static_access_factory(settings, sub)
    w = make_window()
    first_session = state.access().session
    before = gc.get_freeze_count()
    _sync(qtbot, w)
    settled = gc.get_freeze_count()
    assert settled > before  # the S3 client's models (and what lived before) set aside
    for _ in range(2):
        _sync(qtbot, w)
    assert state.access().session is first_session  # one session: models loaded once
    assert gc.get_freeze_count() <= settled          # nothing a sync made is kept from the collector


def test_static_access_is_one_session_until_the_keys_change(sub):
    # the keys as the settings layers give them (a site file or ARCHPAL_* variables)
    keys = {cfg.AWS_ACCESS_KEY_ID: "AKIAFIRST", cfg.AWS_SECRET_ACCESS_KEY: "first-secret",
            cfg.AWS_SESSION_TOKEN: "", cfg.AWS_REGION: "us-east-1"}
    access = static_access_factory(keys, sub)
    first = access()
    assert access() is first
    keys[cfg.AWS_ACCESS_KEY_ID], keys[cfg.AWS_SECRET_ACCESS_KEY] = "AKIASECOND", "second-secret"
    renewed = access()
    assert renewed is not first and renewed is access()
    assert renewed.session.get_credentials().access_key == "AKIASECOND"
