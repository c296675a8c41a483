"""Coach benchmarks (issue 4): our ConverseStream endpoint on loopback in this process, the real
boto3 client, the Bedrock provider with its streamed tool-JSON parsing.

``assistant.first_delta_overhead.ms``: from the endpoint writing the event that carries the
first words of the reply to our callback receiving them as a TextDelta (median of 40 replies;
the events are paced so the client is waiting on the socket, as with a real model).
``assistant.throughput.tokens_per_s``: reply pieces (one per event, as Bedrock sends ~1 token
each) consumed per second from a stream sent as fast as the endpoint can.
"""
from __future__ import annotations

import os
import statistics
import time

BUDGETS = {
    "assistant.first_delta_overhead.ms": ("<=", 5),
    "assistant.throughput.tokens_per_s": (">=", 2000),
}

_state: dict = {}


def _setup():
    if _state:
        return _state
    import boto3

    from archpal_desktop.core import config as cfg
    from archpal_desktop.core.assistant.bedrock import BedrockProvider
    from archpal_desktop.localstack.bedrock import LocalBedrock
    from archpal_desktop.localstack.server import local_aws_env

    server = LocalBedrock().start()
    os.environ.update(local_aws_env(server.endpoint_env()))
    settings = cfg.load_settings(config_file=None, env={}, system_file=os.devnull)
    session = boto3.Session(region_name="us-east-1")
    _state.update(server=server, provider=BedrockProvider(settings, lambda: session))
    return _state


def _request():
    from archpal_desktop.core.assistant.prompt import build_request

    return build_request([("user", "How do I start my essay?")])


def first_delta_overhead():
    from archpal_desktop.core.assistant import Finished, TextDelta, collect
    from archpal_desktop.localstack.bedrock import Reply

    st = _setup()
    server, provider = st["server"], st["provider"]
    samples = []
    for i in range(45):
        server.reset()
        server.script(Reply(pieces=["Let's ", "begin ", "with ", "your ", "claim."], delay=0.004))
        got: list[float] = []

        def on_event(event):
            if isinstance(event, TextDelta) and not got:
                got.append(time.perf_counter())
        result = collect(provider.stream(_request()), on_event)
        assert isinstance(result.final, Finished), result.final
        (rec,) = server.requests
        # delta 0 is the JSON head ({"emotion": ..., "response_text": "), delta 1 the first words
        if i >= 5:  # the first replies warm up the client and its connection pool
            samples.append((got[0] - rec.delta_sent_at[1]) * 1000)
    return statistics.median(samples), "ms", {"p90_ms": round(sorted(samples)[int(len(samples) * 0.9)], 3),
                                              "samples": len(samples)}


def throughput():
    from archpal_desktop.core.assistant import Finished, TextDelta, collect
    from archpal_desktop.localstack.bedrock import Reply

    st = _setup()
    server, provider = st["server"], st["provider"]
    n = 4000
    server.reset()
    server.script(Reply(pieces=["tok "] * n))
    marks: list[float] = []

    def on_event(event):
        if isinstance(event, TextDelta):
            marks.append(time.perf_counter())
    result = collect(provider.stream(_request()), on_event)
    assert isinstance(result.final, Finished) and result.final.text == ("tok " * n).strip()
    elapsed = marks[-1] - marks[0]
    return (len(marks) - 1) / elapsed, "tokens/s", {"tokens": len(marks), "seconds": round(elapsed, 3)}


BENCHES = {
    "assistant.first_delta_overhead.ms": first_delta_overhead,
    "assistant.throughput.tokens_per_s": throughput,
}
