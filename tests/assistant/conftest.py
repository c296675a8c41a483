"""Fixtures for the coach: our local Bedrock endpoint and local OpenAI-compatible server, both
on 127.0.0.1 and driven by the real boto3 / requests clients over HTTP."""
from __future__ import annotations

import pytest

from archpal_desktop.core import config as cfg
from archpal_desktop.localstack.bedrock import LocalBedrock
from archpal_desktop.localstack.openai_server import LocalOpenAI
from archpal_desktop.localstack.server import local_aws_env


@pytest.fixture(scope="session")
def bedrock_server():
    server = LocalBedrock().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_server():
    server = LocalOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def bedrock(bedrock_server, monkeypatch):
    """The endpoint with an empty script; boto3 pointed at it through AWS_ENDPOINT_URL_*."""
    bedrock_server.reset()
    for name, value in local_aws_env(bedrock_server.endpoint_env()).items():
        monkeypatch.setenv(name, value)
    yield bedrock_server
    bedrock_server.reset()


@pytest.fixture
def local_model(openai_server):
    openai_server._scripts.clear()
    openai_server.requests.clear()
    yield openai_server
    openai_server._scripts.clear()


@pytest.fixture
def settings(tmp_path):
    return cfg.load_settings(cli_overrides={cfg.DATA_DIR: str(tmp_path / "data")})


def make_settings(**values):
    return cfg.load_settings(cli_overrides=values)
