"""What every command needs: settings, logging, the demo backend, the user and their cache."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from archpal_desktop.core import config as cfg
from archpal_desktop.core.errors import AuthExpiredError

log = logging.getLogger("archpal_desktop.cli")


class Context:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.demo = None
        self._settings: cfg.Settings | None = None
        self._closers: list[Any] = []

    # -- settings ---------------------------------------------------------------------------
    def cli_overrides(self) -> dict[str, Any]:
        overrides: dict[str, Any] = {}
        if getattr(self.args, "data_dir", None):
            overrides[cfg.DATA_DIR] = self.args.data_dir
        return overrides

    @property
    def settings(self) -> cfg.Settings:
        if self._settings is None:
            if getattr(self.args, "demo", False) and self.demo is None:
                self.start_demo()
            overrides = self.cli_overrides()
            config_file = getattr(self.args, "config", None)
            if self.demo is not None:
                overrides = {**self.demo.settings_overrides(), **overrides}
                if not config_file:
                    # a demo keeps its settings with its data: changes made in the demo window
                    # never land in the student's real settings file
                    from archpal_desktop.core.paths import ensure_private_dir

                    config_file = ensure_private_dir(Path(self.demo.data_dir)) / "config.toml"
                    config_file.touch(exist_ok=True)
            # the demo is a sandbox: the site file's locks (a managed data_dir, the real bucket
            # and pool) would point it at the student's real data
            self._settings = cfg.load_settings(config_file, overrides,
                                               use_site_file=self.demo is None)
            for warning in self._settings.warnings:  # e.g. a settings file others can write
                print(f"warning: {warning}", file=sys.stderr)
        return self._settings

    def data_dir(self) -> Path:
        return self.settings.data_dir()

    # -- logging ----------------------------------------------------------------------------
    def setup_logging(self) -> None:
        from archpal_desktop.core.logs import setup_logging

        setup_logging(verbose=bool(getattr(self.args, "verbose", False)))

    # -- demo -------------------------------------------------------------------------------
    def start_demo(self):
        from archpal_desktop.localstack.demo import start_demo

        data_dir = getattr(self.args, "data_dir", None)
        self.demo = start_demo(data_dir=Path(data_dir) if data_dir else None,
                               real_dirs=self._real_data_dirs())
        self._closers.append(self.demo)
        return self.demo

    def _real_data_dirs(self) -> list[Path]:
        """The data folder this computer really uses (a site-managed one included)."""
        try:
            real = cfg.load_settings(getattr(self.args, "config", None))
        except Exception:  # unreadable settings: the platform's folder is still refused
            log.debug("real settings unreadable", exc_info=True)
            return []
        return [real.data_dir()]

    # -- the user ---------------------------------------------------------------------------
    def access(self):
        """The AWS access (verified sub + boto3 session) for this command."""
        from archpal_desktop.core.aws import static_access

        settings = self.settings
        sub = getattr(self.args, "user", None)
        if sub:
            return static_access(settings, sub)
        from archpal_desktop.core import auth

        return auth.access_for_stored_session(settings)

    def current_sub(self) -> str:
        """The sub to act for, offline-capable (no network needed to know who we are)."""
        sub = getattr(self.args, "user", None)
        if sub:
            from archpal_desktop.core.layout import validate_sub
            return validate_sub(sub)
        from archpal_desktop.core import auth

        last = auth.last_user(self.settings)
        if last:
            return last
        raise AuthExpiredError("Nobody is signed in on this computer.",
                               "Run 'archpal-desktop login' first.")

    def open_store(self, sub: str | None = None):
        from archpal_desktop.core.cache import Store

        store = Store.open_for_user(self.data_dir(), sub or self.current_sub())
        self._closers.append(store)
        return store

    # -- GUI --------------------------------------------------------------------------------
    def run_gui(self) -> int:
        from archpal_desktop.ui.app import run_app

        return run_app(self)

    def close(self) -> None:
        while self._closers:
            obj = self._closers.pop()
            try:
                obj.close()
            except Exception:  # closing must never mask the command's own error
                log.debug("close failed", exc_info=True)
