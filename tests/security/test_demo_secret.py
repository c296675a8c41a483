"""Point 3: the demo's embedded servers on 127.0.0.1 answer only the process that started them
(a per-run secret header its clients add); moto's management API is off. "Another local user"
is a client without the header: a fresh interpreter, or plain requests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import boto3
import pytest
import requests

from archpal_desktop.core import config as cfg
from archpal_desktop.core import localauth
from archpal_desktop.core.assistant import Finished, collect
from archpal_desktop.core.assistant.openai_compat import OpenAICompatProvider
from archpal_desktop.core.assistant.prompt import build_request
from archpal_desktop.localstack.demo import DEMO_PASSWORD, start_demo
from archpal_desktop.localstack.openai_server import LocalOpenAI, LocalReply
from archpal_desktop.localstack.proxy import FaultProxy


@pytest.fixture
def demo(tmp_path):
    d = start_demo(tmp_path / "demo-data", announce=False)
    yield d
    d.close()


def test_moto_refuses_clients_without_the_secret_and_has_no_management_api(demo):
    for path in ("/moto-api/data.json", f"/{demo.bucket}?list-type=2", "/"):
        assert requests.get(demo.moto.url + path, timeout=10).status_code == 403, path
    own = {localauth.HEADER: demo.moto.secret}
    dump = requests.get(demo.moto.url + "/moto-api/data.json", headers=own, timeout=10)
    assert dump.status_code == 404 and DEMO_PASSWORD not in dump.text
    # this process's own clients still work: boto3 adds the header by itself
    keys = [o["Key"] for o in boto3.client("s3", region_name="us-east-1")
            .list_objects_v2(Bucket=demo.bucket)["Contents"]]
    assert any(k.endswith("conversations.json") for k in keys)


def test_another_process_cannot_list_or_overwrite_the_demo_objects(demo):
    script = textwrap.dedent(f"""
        import boto3, sys
        s3 = boto3.client("s3", region_name="us-east-1")
        try:
            s3.put_object(Bucket={demo.bucket!r}, Key="users/planted.json", Body=b"{{}}")
        except Exception as exc:
            print("refused", type(exc).__name__, exc)
        else:
            print("WROTE")
    """)
    env = {**os.environ, **demo.env}  # the same endpoints and dummy keys, but not the secret
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         timeout=60)
    assert "refused" in run.stdout and "WROTE" not in run.stdout, run.stdout + run.stderr
    keys = [o["Key"] for o in boto3.client("s3", region_name="us-east-1")
            .list_objects_v2(Bucket=demo.bucket)["Contents"]]
    assert "users/planted.json" not in keys


def test_the_demo_coach_refuses_a_request_without_the_secret(demo):
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})
    resp = requests.post(f"{demo.bedrock.url}/model/archpal-demo-coach/converse-stream", data=body,
                         timeout=10)
    assert resp.status_code == 403 and demo.bedrock.requests == []


def test_openai_server_and_proxy_with_a_secret(tmp_path, moto_server):
    secret = localauth.new_secret()
    server = LocalOpenAI(secret=secret).start()
    proxy = FaultProxy(server.url.rsplit("/v1", 1)[0], secret=secret).start()
    try:
        assert requests.get(server.url + "/models", timeout=10).status_code == 403
        assert requests.get(proxy.url + "/v1/models", timeout=10).status_code == 403
        server.script(LocalReply(text="Through the proxy."))
        settings = cfg.load_settings(cli_overrides={"provider": "openai", "openai_model": server.model,
                                                    "openai_base_url": proxy.url + "/v1"})
        result = collect(OpenAICompatProvider(settings).stream(build_request([("user", "hi")])))
        assert isinstance(result.final, Finished) and result.final.text == "Through the proxy."
        assert proxy.forwarded == 1
    finally:
        proxy.stop()
        server.stop()
