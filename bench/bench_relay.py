"""Coach relay benchmark (issue 14): what the relay adds before the first words of a reply.

``relay.first_delta_overhead.ms``: the median time from sending a question to receiving the
first text delta through the relay (RelayProvider -> relay on 127.0.0.1: ID-token check,
info.json from S3, two DynamoDB counter updates, the model call, the re-streamed event),
minus the same median when the desktop calls the same local ConverseStream endpoint directly.
moto (S3, Cognito, DynamoDB) runs in a process of its own, as AWS's services are not on the
laptop; the relay, the endpoint and the client share this process. The profile cache is off, so
every request reads info.json as a first request in a fresh Lambda would.
"""
from __future__ import annotations

import os
import statistics
import time
import uuid

BUDGETS = {"relay.first_delta_overhead.ms": ("<=", 20)}
SAMPLES = 40
WARMUP = 5

_state: dict = {}


def _setup() -> dict:
    if _state:
        return _state
    import boto3

    from archpal_desktop.core import config as cfg
    from archpal_desktop.core import layout
    from archpal_desktop.core.assistant.bedrock import BedrockProvider
    from archpal_desktop.core.assistant.relay import RelayProvider
    from archpal_desktop.localstack.bedrock import LocalBedrock
    from archpal_desktop.localstack.relay_server import LocalRelay, relay_env
    from archpal_desktop.localstack.server import local_aws_env
    from archpal_desktop.relay.config import RelayConfig
    from tests.support.seed import bench_sandbox

    tmp, _moto, moto_url = bench_sandbox("archpal-bench-relay-")
    bedrock = LocalBedrock().start()
    os.environ.update(local_aws_env({"AWS_ENDPOINT_URL_S3": moto_url,
                                     "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": moto_url,
                                     **relay_env(moto_url), **bedrock.endpoint_env()}))
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = idp.create_user_pool(PoolName="bench", UsernameAttributes=["email"])["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="bench",
                                         ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH",
                                                            "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    email = "bench@example.edu"
    user = idp.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=email, Password="Bench-Pass-1!", Permanent=True)
    sub = {a["Name"]: a["Value"] for a in user["User"]["Attributes"]}["sub"]
    token = idp.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": email, "PASSWORD": "Bench-Pass-1!"}
                                    )["AuthenticationResult"]["IdToken"]
    bucket = f"bench-relay-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=layout.info_key(sub), Body=layout.dumps(
        {"first_name": "Bench", "last_name": "Student", "college_year": "First Year", "major": "Art",
         "course_number": "ART 1000"}))
    relay = LocalRelay(RelayConfig(bucket=bucket, user_pool_id=pool, client_ids=(client,),
                                   model="bench-model", profile_cache_seconds=0)).start()
    settings = cfg.load_settings(config_file=None, env={}, system_file=os.devnull,
                                 cli_overrides={cfg.COACH_RELAY_URL: relay.url,
                                                cfg.ANTHROPIC_MODEL: "bench-model"})
    session = boto3.Session(region_name="us-east-1")
    _state.update(bedrock=bedrock, relay=relay, tmp=tmp,
                  via_relay=RelayProvider(settings, lambda: token),
                  direct=BedrockProvider(settings, lambda: session))
    return _state


def _first_delta_ms(provider, bedrock) -> float:
    from archpal_desktop.core.assistant import Finished, TextDelta, collect
    from archpal_desktop.core.assistant.prompt import build_request
    from archpal_desktop.localstack.bedrock import Reply

    bedrock.reset()
    bedrock.script(Reply(pieces=["Let's ", "begin ", "with ", "your ", "claim."], delay=0.004))
    got: list[float] = []

    def on_event(event) -> None:
        if isinstance(event, TextDelta) and not got:
            got.append(time.perf_counter())
    t0 = time.perf_counter()
    result = collect(provider.stream(build_request([("user", "How do I start my essay?")])), on_event)
    assert isinstance(result.final, Finished), result.final
    return (got[0] - t0) * 1000


def first_delta_overhead():
    st = _setup()
    relay_ms, direct_ms = [], []
    for i in range(SAMPLES + WARMUP):   # interleaved, so drift in the machine's speed hits both
        r = _first_delta_ms(st["via_relay"], st["bedrock"])
        d = _first_delta_ms(st["direct"], st["bedrock"])
        if i >= WARMUP:
            relay_ms.append(r)
            direct_ms.append(d)
    via, direct = statistics.median(relay_ms), statistics.median(direct_ms)
    return via - direct, "ms", {"relay_first_delta_ms": round(via, 2), "direct_first_delta_ms": round(direct, 2),
                                "relay_p90_ms": round(sorted(relay_ms)[int(len(relay_ms) * 0.9)], 2),
                                "samples": len(relay_ms)}


BENCHES = {"relay.first_delta_overhead.ms": first_delta_overhead}
