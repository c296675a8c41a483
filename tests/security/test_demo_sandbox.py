"""Point 6: ``--demo`` under a site-managed ``data_dir`` never touches the real folder or its
accounts.json ``last``."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from archpal_desktop.cli.context import Context
from archpal_desktop.core import config as cfg
from archpal_desktop.core.auth.session import AuthSession
from archpal_desktop.core.errors import ConfigError

REAL_SUB = "0f6c2a8e-6b1d-4c1e-9a51-5d8f7c3b2a10"


@pytest.fixture
def managed_real_folder(tmp_path):
    real = tmp_path / "real-data"
    real.mkdir()
    accounts = {"last": REAL_SUB, "users": {REAL_SUB: {"email": "student@uni.edu"}}}
    (real / "accounts.json").write_text(json.dumps(accounts))
    site = Path(os.environ["ARCHPAL_SYSTEM_CONFIG"])
    site.parent.mkdir(parents=True, exist_ok=True)
    site.write_text(f'[managed]\ndata_dir = "{real}"\ns3_bucket_name = "uni-archpal"\n')
    return real


def _args(**kw):
    base = dict(demo=True, config=None, data_dir=None, user=None, verbose=False)
    return argparse.Namespace(**{**base, **kw})


def test_demo_under_a_managed_data_dir_signs_in_without_touching_it(managed_real_folder):
    before = {p.name: p.read_bytes() for p in managed_real_folder.iterdir()}
    ctx = Context(_args())
    try:
        settings = ctx.settings
        assert settings.data_dir() == ctx.demo.data_dir
        assert settings[cfg.S3_BUCKET_NAME] == ctx.demo.bucket
        AuthSession(settings).sign_in(ctx.demo.email, ctx.demo.password)
        store = ctx.open_store(ctx.demo.sub)
        store.create_conversation("Demo essay")
    finally:
        ctx.close()
    after = {p.name: p.read_bytes() for p in managed_real_folder.iterdir()}
    assert after == before
    assert json.loads(after["accounts.json"])["last"] == REAL_SUB


def test_demo_refuses_the_managed_data_dir_as_its_folder(managed_real_folder):
    ctx = Context(_args(data_dir=str(managed_real_folder)))
    try:
        with pytest.raises(ConfigError, match="real data folder"):
            ctx.settings
    finally:
        ctx.close()
    assert sorted(p.name for p in managed_real_folder.iterdir()) == ["accounts.json"]
