"""AT-SPI fixtures: one screen-reader desktop per session, one real app per module."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.a11y.desktop import Desktop, missing_parts
from tests.a11y.keyboard import Keyboard

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ("object:state-changed:focused", "object:announcement", "object:text-changed",
          "object:children-changed", "window:activate")


@pytest.fixture(scope="session")
def desktop():
    why = missing_parts()
    if why:
        pytest.skip(f"no AT-SPI desktop can be had here: {why}")
    d = Desktop().start()
    yield d
    d.stop()


class ScreenReader:
    """What the tests hold: the AT-SPI client, the app's accessible node, the process."""

    def __init__(self, desktop: Desktop, home: Path):
        self.home = home
        for sub in ("config", "data", "cache", "state", "logs"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHPAL_", "AWS_", "QT_"))}
        env.update(desktop.env)
        env.update({
            "QT_QPA_PLATFORM": "xcb", "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1", "QT_ACCESSIBILITY": "1",
            "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CACHE_HOME": str(home / "cache"), "XDG_STATE_HOME": str(home / "state"),
            "ARCHPAL_LOG_DIR": str(home / "logs"), "ARCHPAL_SYSTEM_CONFIG": str(home / "site.toml"),
            "PYTHON_KEYRING_BACKEND": "tests.support.memkeyring.MemoryKeyring",
            "PYTHONPATH": str(ROOT), "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
        })
        self.log = open(home / "app.log", "wb")
        self.a = desktop.client()
        self.kb = Keyboard(desktop.env["DISPLAY"])
        self.a.listen(*EVENTS)
        self.proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "tests.a11y.app_main",
                                      str(home / "demo")], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.app = self.a.app_named("ArchPal", wait=60)

    def log_tail(self) -> str:
        self.log.flush()
        return (self.home / "app.log").read_text(errors="replace")[-3000:]

    def frame(self, name: str, timeout: float = 30.0):
        """The showing top-level window (frame or dialog) called ``name``."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited ({self.proc.returncode}):\n{self.log_tail()}")
            for f in self.a.children(self.app):
                try:
                    # showing and active: the window the keyboard types into
                    if self.a.name(f) == name and {"showing", "active"} <= self.a.states(f):
                        return f
                except RuntimeError:
                    continue
            if time.monotonic() > deadline:
                shown = [self.a.name(f) for f in self.a.frames(self.app)]
                said = [self.a.name(n) for f in self.a.frames(self.app) for _d, n in self.a.walk(f)
                        if self.a.role(n) == "label" and self.a.name(n)]
                raise AssertionError(f"no window {name!r} (showing: {shown}; its labels say: "
                                     f"{said})\n{self.log_tail()}")
            time.sleep(0.1)

    def focused_name(self, timeout: float = 5.0) -> str:
        """After a key: the next object that gains focus, as Orca hears about it."""
        return self.focused_node(timeout)[0]

    def focused_node(self, timeout: float = 5.0):
        """After a key: (name, node) of where focus settles, as Orca hears about it."""
        def gained(e) -> bool:
            if not (e.kind == "Object:StateChanged" and e.detail == "focused" and e.args[0] == 1):
                return False
            try:
                e.text = self.a.name(e.source)
            except RuntimeError:     # a window that has closed since: not where focus is
                return False
            return True
        ev, _ = self.a.wait_event(gained, timeout)
        # a list takes focus, then its current item: what Orca speaks is where focus settles
        for later in self.a.drain(0.3):
            if gained(later):
                ev = later
        try:
            if self.a.role(ev.source) == "list":   # Orca speaks the list's focused item
                for item in self.a.children(ev.source):
                    if "focused" in self.a.states(item):
                        return self.a.name(item), item
        except RuntimeError:
            pass
        return ev.text, ev.source

    def go_offline(self) -> None:
        self.proc.send_signal(signal.SIGUSR1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.a.close()
        self.kb.close()
        self.log.close()


@pytest.fixture(scope="module")
def reader(desktop, tmp_path_factory):
    sr = ScreenReader(desktop, tmp_path_factory.mktemp("a11y-app"))
    yield sr
    sr.close()
