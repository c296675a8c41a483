from __future__ import annotations

import pytest

from archpal_desktop.core import config as cfg
from archpal_desktop.core.aws import static_access
from archpal_desktop.core.cache import Store
from archpal_desktop.core.sync import sync_once


class Desktop:
    """One desktop install: its own cache folder, syncing the same user's prefix."""

    def __init__(self, data_dir, sub, bucket):
        self.settings = cfg.load_settings(cli_overrides={cfg.S3_BUCKET_NAME: bucket,
                                                         cfg.DATA_DIR: str(data_dir)}, env={})
        self.store = Store.open_for_user(data_dir, sub)
        self.sub = sub

    def sync(self, progress=None):
        return sync_once(self.store, static_access(self.settings, self.sub), self.settings, progress)

    def close(self):
        self.store.close()


@pytest.fixture
def desktops(tmp_path, local_aws):
    made = []

    def make(sub, bucket, name="desktop"):
        d = Desktop(tmp_path / f"{name}{len(made)}", sub, bucket)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()
