#!/usr/bin/env python3
"""Build the one-folder app with PyInstaller and fail on what would break it at run time.

PyInstaller only *warns* when a shared library cannot be resolved or a module cannot be found,
and the build "succeeds"; the app then dies on a user's machine. This wrapper turns those
warnings into a failed build:
- any "Library not found" / "Cannot find" for a shared library (a Qt plugin's dependency that
  is missing here would be missing from the bundle too);
- any *top-level* "missing module" in PyInstaller's warn file that is imported by our own code
  (optional, conditional and platform-specific imports of third-party code are listed there by
  the hundred and are not errors).
Writes build/package-build.json with the bundle size.

Usage: python packaging/build_app.py [--dist DIR] [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "pyinstaller" / "archpal-desktop.spec"
NAME = "archpal-desktop"

_LIB_WARNING = re.compile(r"WARNING: (Library not found|Cannot find|Failed to resolve)[^\n]*", re.I)
# Windows/macOS system libraries PyInstaller cannot see on another OS, never bundled anyway.
_LIB_ALLOWED = re.compile(r"(api-ms-win|ext-ms-|\.framework|libSystem|libc\+\+)", re.I)
_DEPENDENT = re.compile(r"dependency of '([^']+)'")
_MISSING = re.compile(r"^missing module named (?P<name>\S+) - imported by (?P<by>.*)$")


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def missing_imports(warn_file: Path) -> list[str]:
    """Modules our own code imports at top level that PyInstaller could not find."""
    bad = []
    if not warn_file.exists():
        return bad
    for line in warn_file.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _MISSING.match(line.strip())
        if not m:
            continue
        name = m.group("name").strip("'\"")
        if name.startswith("archpal_desktop"):  # our own code must all be in the bundle
            bad.append(f"{name} (our own module)")
            continue
        for by in m.group("by").split(", "):
            mod, _, kinds = by.partition(" (")
            if mod.startswith("archpal_desktop") and "top-level" in kinds \
                    and "conditional" not in kinds and "optional" not in kinds:
                bad.append(f"{m.group('name')} (imported by {mod})")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dist", default=str(ROOT / "build" / "dist"))
    ap.add_argument("--work", default=str(ROOT / "build" / "pyi"))
    args = ap.parse_args(argv)
    dist, work = Path(args.dist), Path(args.work)
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    print("build_app:", " ".join(cmd), flush=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    log = proc.stdout
    (work).mkdir(parents=True, exist_ok=True)
    (work / "pyinstaller.log").write_text(log, encoding="utf-8")
    sys.stdout.write(log[-4000:])
    if proc.returncode != 0:
        print(f"build_app: PyInstaller failed (exit {proc.returncode}); log: {work / 'pyinstaller.log'}")
        return proc.returncode
    bundle = dist / NAME
    shipped = {p.name for p in bundle.rglob("*")} if bundle.is_dir() else set()
    problems = []
    for w in _LIB_WARNING.finditer(log):
        text = w.group(0)
        if _LIB_ALLOWED.search(text):
            continue
        # a plugin the spec drops after analysis (e.g. the GTK theme bridge) may miss its
        # libraries: only what is really shipped must have all of its dependencies
        parent = _DEPENDENT.search(text)
        if parent and Path(parent.group(1)).name not in shipped:
            print(f"build_app: ignored (not shipped): {text}")
            continue
        problems.append(text)
    problems += [f"missing module {m}" for m in missing_imports(work / "archpal-desktop" / f"warn-{NAME}.txt")]
    if problems:
        print("build_app: FAILED - PyInstaller reported missing parts the app needs:")
        for p in problems:
            print("  -", p)
        return 2
    size = tree_size(bundle)
    report = {"bundle_dir": str(bundle), "bundle_bytes": size, "bundle_mb": round(size / 1e6, 1),
              "build_seconds": round(time.monotonic() - start, 1), "platform": sys.platform}
    out = ROOT / "build" / "package-build.json"
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"build_app: OK, {report['bundle_mb']} MB in {bundle} ({report['build_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
