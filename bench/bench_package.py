"""Packaging benchmarks: the one-folder bundle's size and the frozen app's --self-test time.

Both measure the PyInstaller bundle in build/dist/archpal-desktop, building it first when it
is missing (python packaging/build_app.py; a few minutes on 2 cores). Budget: 130 MB unpacked.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "build" / "dist" / "archpal-desktop"
BUDGET_MB = 130


def _bundle() -> Path:
    if not (BUNDLE / "archpal-desktop").exists():
        subprocess.run([sys.executable, str(ROOT / "packaging" / "build_app.py")], check=True,
                       cwd=ROOT)
    return BUNDLE


def bundle_mb() -> tuple[float, str]:
    root = _bundle()
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return round(size / 1e6, 1), f"MB (budget {BUDGET_MB})"


def start_selftest_seconds() -> tuple[float, str]:
    exe = _bundle() / "archpal-desktop"
    with tempfile.TemporaryDirectory() as home:
        # a clean user: no AWS settings, no display, nothing from the developer's environment
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
               "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": home}
        if os.name == "nt":
            env = {**os.environ, "USERPROFILE": home}
        start = time.perf_counter()
        proc = subprocess.run([str(exe), "--self-test"], env=env, capture_output=True, text=True,
                              timeout=300)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"frozen --self-test failed:\n{proc.stdout}\n{proc.stderr}")
    return round(elapsed, 2), "s"


BENCHES = {
    "package.bundle.mb": bundle_mb,
    "package.start_selftest.seconds": start_selftest_seconds,
}
