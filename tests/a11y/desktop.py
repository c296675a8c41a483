"""A screen-reader desktop for one test session: Xvfb, a session D-Bus and the AT-SPI bus.

The same pieces a Linux desktop starts before Orca runs: an X server, a session bus, and
at-spi-bus-launcher (which starts the accessibility bus; the registry, at-spi2-registryd, is
activated on it the first time someone asks). Everything is private to the test run: its own
display number, bus sockets under a temporary folder, and all of it stopped at the end.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

LAUNCHER_PATHS = ("/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher",
                  "/usr/lib/at-spi2/at-spi-bus-launcher")


def missing_parts() -> str:
    """Why no AT-SPI desktop can be had here ("" when it can)."""
    for tool in ("Xvfb", "dbus-daemon"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/bootstrap.sh installs it as root on Debian)"
    if bus_launcher() is None:
        return "at-spi-bus-launcher is not installed (Debian's at-spi2-core; scripts/bootstrap.sh)"
    return ""


def bus_launcher() -> str | None:
    return next((p for p in LAUNCHER_PATHS if os.access(p, os.X_OK)), None)


class Desktop:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="archpal-a11y-"))
        self.procs: list[subprocess.Popen] = []
        self.env: dict[str, str] = {}

    def start(self) -> "Desktop":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        # -displayfd: the server picks a free display and tells us, no guessing or races
        r, w = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x900x24",
                                 "-nolisten", "tcp", "+extension", "XTEST"],
                                pass_fds=(w,), stdout=subprocess.DEVNULL,
                                stderr=open(self.folder / "xvfb.log", "wb"))
        os.close(w)
        self.procs.append(xvfb)
        with os.fdopen(r) as f:
            display = f.readline().strip()
        if not display:
            raise RuntimeError(f"Xvfb did not start: {(self.folder / 'xvfb.log').read_text()[-500:]}")
        runtime = self.folder / "run"
        runtime.mkdir(mode=0o700)
        self.env = {"DISPLAY": f":{display}", "XDG_RUNTIME_DIR": str(runtime),
                    "NO_AT_BRIDGE": "0", "GTK_A11Y": "atspi"}
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                                f"--address=unix:path={runtime}/bus"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, **self.env})
        self.procs.append(bus)
        address = bus.stdout.readline().strip()
        if not address:
            raise RuntimeError("the session D-Bus did not start")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address
        launcher = subprocess.Popen([bus_launcher(), "--launch-immediately"],
                                    stdout=subprocess.DEVNULL,
                                    stderr=open(self.folder / "at-spi.log", "wb"),
                                    env={**os.environ, **self.env, "HOME": str(self.folder)})
        self.procs.append(launcher)
        self._wait_for_a11y_bus()

    def _wait_for_a11y_bus(self, timeout: float = 15.0) -> None:
        from tests.a11y.atspi import AtSpi
        deadline = time.monotonic() + timeout
        while True:
            try:
                AtSpi(self.env["DBUS_SESSION_BUS_ADDRESS"], timeout=2).close()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError("the AT-SPI bus did not come up: "
                                       + (self.folder / "at-spi.log").read_text()[-500:])
                time.sleep(0.1)

    def client(self):
        from tests.a11y.atspi import AtSpi
        return AtSpi(self.env["DBUS_SESSION_BUS_ADDRESS"])

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        self.procs.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
