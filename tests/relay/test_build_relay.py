"""The relay's Lambda zip: the handler script the Web Adapter starts, and the relay's code
without the window, the CLI or the local backend. Run from the zip's contents alone, the relay
answers its health check (the zip is complete for the code it carries)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import requests

from archpal_desktop.localstack.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_zip_holds_the_relay_and_starts_it(tmp_path):
    sys.path.insert(0, str(ROOT / "packaging" / "aws"))
    try:
        import build_relay
    finally:
        sys.path.pop(0)
    out = build_relay.build(tmp_path / "relay.zip", with_dependencies=False)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        mode = zf.getinfo("run.sh").external_attr >> 16
        zf.extractall(tmp_path / "task")
    assert stat.S_IMODE(mode) & 0o111 and "archpal_desktop/relay/__main__.py" in names
    assert "archpal_desktop/relay/changes.py" in names   # the change feed's function, same zip
    assert not [n for n in names if n.startswith(("archpal_desktop/ui/", "archpal_desktop/cli/",
                                                  "archpal_desktop/localstack/"))]
    assert not [n for n in names if "__pycache__" in n]
    port = free_port()
    # the dependencies come from this venv; the code only from the zip (no project checkout)
    site = [p for p in sys.path if p.endswith("site-packages")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(site), "PORT": str(port),
           "ARCHPAL_RELAY_BUCKET": "b", "ARCHPAL_RELAY_USER_POOL_ID": "us-east-1_Example1",
           "ARCHPAL_RELAY_CLIENT_IDS": "abc", "AWS_DEFAULT_REGION": "us-east-1"}
    proc = subprocess.Popen(["sh", "run.sh"], cwd=tmp_path / "task", env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert resp.json() == {"ok": True, "service": "archpal-coach-relay"}
    finally:
        proc.terminate()
        proc.wait(10)
    # the change feed's handler (the template's ChangesFunction) loads from the zip alone too
    feed = subprocess.run([sys.executable, "-c", "import archpal_desktop.relay.changes as c; "
                           "print(c.__file__, c.handler({'Records': []}, None))"],
                          cwd=tmp_path / "task", env={**env, "ARCHPAL_CHANGES_TABLE": "t"},
                          capture_output=True, text=True, timeout=60)
    assert feed.returncode == 0, feed.stderr
    assert feed.stdout.startswith(str(tmp_path / "task")) and "{'updated': 0}" in feed.stdout


_IMPORTED = """
import json, sys
import archpal_desktop.relay.__main__
import archpal_desktop.relay.changes
std = set(sys.stdlib_module_names)
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} - std)))
"""


def _closure(requirements: list[str]) -> set[str]:
    """Distribution names the requirements pull in, recursively (extras included when named)."""
    import importlib.metadata as md
    import re

    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        req = todo.pop()
        m = re.match(r"\s*([A-Za-z0-9_.-]+)(\[([^\]]+)\])?", req)
        name, extras = m.group(1).lower().replace("_", "-"), (m.group(3) or "")
        if ";" in req:
            marker = req.split(";", 1)[1]
            if "extra" in marker and not any(e.strip() in marker for e in extras.split(",") if e):
                continue
            if "sys_platform" in marker and "linux" not in marker and "!=" not in marker:
                continue
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for r in reqs:
            if "extra ==" in r:
                wanted = [e.strip() for e in extras.split(",") if e.strip()]
                if not any(f'extra == "{e}"' in r for e in wanted):
                    continue
            todo.append(r.split(";")[0] if "extra ==" in r else r)
    return seen


def test_the_zips_dependency_list_covers_what_the_relay_imports():
    import importlib.metadata as md
    import json

    sys.path.insert(0, str(ROOT / "packaging" / "aws"))
    try:
        import build_relay
    finally:
        sys.path.pop(0)
    out = subprocess.run([sys.executable, "-c", _IMPORTED], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    dists = md.packages_distributions()
    provided = _closure(list(build_relay.DEPENDENCIES))
    missing = []
    for module in json.loads(out.stdout):
        if module.startswith("_") or module in ("archpal_desktop", "cython_runtime"):
            continue
        names = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        if not names & provided:
            missing.append(module)
    assert not missing, f"the relay imports {missing}, which the Lambda zip would not carry"
