"""--self-test: the whole path on the embedded backend, through the real CLI entry point."""
from __future__ import annotations

import re

from archpal_desktop.core import paths


def test_self_test_passes_and_prints_each_step(cli, monkeypatch, tmp_path):
    # a managed site file pointing elsewhere must not redirect the self-test
    site = tmp_path / "site" / "config.toml"
    site.parent.mkdir(parents=True, exist_ok=True)
    site.write_text('[managed]\ns3_bucket_name = "real-site-bucket"\n')
    monkeypatch.setenv("ARCHPAL_S3_BUCKET_NAME", "env-bucket")
    run = cli("--self-test")
    assert run.code == 0, run.out + run.err
    steps = re.findall(r"^\[ ok \] ([a-zA-Z0-9 ]+):", run.out, flags=re.M)
    assert steps == ["local backend", "settings", "sign in", "local cache", "first sync",
                     "send message", "streamed reply", "sync up", "read back from S3",
                     "window toolkit"]
    assert "real-site-bucket" not in run.out and "env-bucket" not in run.out
    assert "Self-test passed: 10 steps" in run.out
    assert "identity-pool credentials" in run.out


def test_self_test_fails_on_a_bundle_without_resources(cli, monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "resources_dir", lambda: tmp_path / "missing")
    run = cli("--self-test")
    assert run.code == 1
    assert "[FAIL] window toolkit: could not render" in run.out
    assert "Self-test FAILED after 9 step(s)" in run.out
