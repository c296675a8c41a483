"""A demo keeps its settings with its temporary data: a change made in the demo window never
lands in the student's real settings file."""
from __future__ import annotations

import argparse

from archpal_desktop.cli.context import Context
from archpal_desktop.core import config as cfg
from archpal_desktop.core import paths


def test_demo_settings_stay_in_the_demo_folder(tmp_path):
    args = argparse.Namespace(demo=True, config=None, data_dir=None, user=None, verbose=False)
    ctx = Context(args)
    try:
        settings = ctx.settings
        assert settings.user_file.parent == ctx.demo.data_dir
        settings.set_user(cfg.THEME, "dark")
        assert settings.user_file.read_text(encoding="utf-8").strip() == 'theme = "dark"'
        assert not paths.user_config_file().exists()
        assert settings[cfg.S3_BUCKET_NAME] == ctx.demo.settings_overrides()[cfg.S3_BUCKET_NAME]
    finally:
        ctx.close()
