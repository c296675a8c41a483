"""Shared fixtures: one local moto server for the session, and fresh settings, keyring and data
folders for every test (nothing reads or writes the developer's real config, keyring or ~/.aws)."""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

# before any Qt import (CONVENTIONS: deterministic GUI tests)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from archpal_desktop.localstack.server import MotoServer, local_aws_env  # noqa: E402
from tests.support import memkeyring  # noqa: E402
from tests.support.s3fixtures import load_fixtures  # noqa: E402

KEYRING_BACKEND = "tests.support.memkeyring.MemoryKeyring"


@pytest.fixture(scope="session")
def moto_server():
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_environment(tmp_path, monkeypatch):
    """Every test: its own home, config, data and log folders; in-memory keyring; no ~/.aws."""
    home = tmp_path / "home"
    for sub in ("config", "data", "cache", "state", "logs"):
        (home / sub).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("ARCHPAL_LOG_DIR", str(home / "logs"))
    monkeypatch.setenv("ARCHPAL_SYSTEM_CONFIG", str(tmp_path / "site" / "config.toml"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", KEYRING_BACKEND)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    for name in list(os.environ):
        if name.startswith(("ARCHPAL_", "AWS_")) and name not in ("ARCHPAL_LOG_DIR", "ARCHPAL_SYSTEM_CONFIG"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import keyring
    import keyring.core

    keyring.core._keyring_backend = None  # let keyring re-read PYTHON_KEYRING_BACKEND
    memkeyring.clear()
    yield
    memkeyring.clear()
    keyring.core._keyring_backend = None


@pytest.fixture
def local_aws(moto_server, monkeypatch):
    """boto3 pointed at the local moto server through AWS_ENDPOINT_URL_* (no test-only paths)."""
    for name, value in local_aws_env(moto_server.endpoint_env()).items():
        monkeypatch.setenv(name, value)
    return moto_server


@pytest.fixture
def s3(local_aws):
    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def bucket(s3):
    name = f"archpal-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name


@pytest.fixture
def fixture_bucket(s3, bucket):
    """A bucket holding tests/fixtures/s3 exactly; returns (bucket, {key: bytes})."""
    return bucket, load_fixtures(s3, bucket)
