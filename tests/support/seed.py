"""Realistic, reproducible history for request-budget tests, kill tests and benchmarks.

Conversations are built with the layout codec's own web-app writers (``new_message``,
``conversation_doc``, ``index_entry``, ``dumps``), so what lands in the bucket is byte-for-byte
what the web app would have written. Content is 40-400 characters of writing-coach prose drawn
from a skewed vocabulary, so full-text search meets common and rare words as it would for real.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from archpal_desktop.core import layout

_TOPIC = ("essay thesis paragraph argument evidence claim counterargument source citation draft "
          "revision outline introduction conclusion transition topic sentence analysis rhetoric "
          "audience purpose tone voice structure coherence reflection brainstorm research question "
          "quotation paraphrase summary annotated bibliography MLA APA Chicago feedback rubric "
          "peer review deadline professor assignment prompt synthesis narrative persuasive "
          "expository literature poem novel Shakespeare Morrison Baldwin climate policy history "
          "economics psychology sociology biology ethics memory identity justice community").split()
_COMMON = ("the a of to and in that is for it with as on be this your you can what how about "
           "more one could would we they should think try maybe first next because which where "
           "when why idea point reader main strong clear specific example each part").split()


def sentence(rng: random.Random, low: int = 40, high: int = 400) -> str:
    """40-400 characters of plausible chat text (skewed: a few words are very common)."""
    target = rng.randint(low, high)
    words: list[str] = []
    length = 0
    while length < target:
        pool = _TOPIC if rng.random() < 0.3 else _COMMON
        # a power law over each pool: early words far more frequent than late ones
        word = pool[min(len(pool) - 1, int(len(pool) * rng.random() ** 2.5))]
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)[:high]
    return text[0].upper() + text[1:] + "."


@dataclass
class Seeded:
    conversations: dict[str, list[str]] = field(default_factory=dict)  # cid -> message ids in order
    index: list[dict] = field(default_factory=list)
    bodies: dict[str, bytes] = field(default_factory=dict)  # key -> bytes written

    @property
    def message_count(self) -> int:
        return sum(len(v) for v in self.conversations.values())


def conversation(sub: str, rng: random.Random, n_messages: int, start: datetime,
                 course: str = "ENGL 1102") -> tuple[dict, dict]:
    """One conversation file and its index entry, as the web app writes them."""
    cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    created = layout.format_ts(start)
    messages = []
    ts = start
    for i in range(n_messages):
        ts = ts + timedelta(seconds=rng.randint(5, 240), microseconds=rng.randint(0, 999_999))
        role = "user" if i % 2 == 0 else "assistant"
        messages.append(layout.new_message(
            role, sentence(rng), message_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            timestamp=layout.format_ts(ts), course_number=course, message_index=i,
            model="anthropic.claude-sonnet-4" if role == "assistant" else None,
            emotion=rng.choice(layout.EMOTIONS) if role == "assistant" else None))
    last = layout.format_ts(ts)
    doc = layout.conversation_doc(cid, sub, created, messages, last, {})
    entry = layout.index_entry(cid, created, last, n_messages, layout.default_title(created))
    return doc, entry


def build_history(sub: str, n_conversations: int, n_messages: int, seed: int = 1) -> tuple[Seeded, list[dict]]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    out = Seeded()
    docs = []
    for i in range(n_conversations):
        doc, entry = conversation(sub, rng, n_messages, start + timedelta(hours=3 * i))
        out.conversations[doc["conversation_id"]] = [m["message_id"] for m in doc["messages"]]
        out.index.append(entry)
        docs.append(doc)
    return out, docs


def seed_bucket(s3, bucket: str, sub: str, n_conversations: int, n_messages: int, *,
                seed: int = 1, workers: int = 16) -> Seeded:
    """Write ``n_conversations`` files of ``n_messages`` each, the index and a profile."""
    out, docs = build_history(sub, n_conversations, n_messages, seed)
    for doc in docs:
        out.bodies[layout.conversation_key(sub, doc["conversation_id"])] = layout.dumps(doc)
    out.bodies[layout.index_key(sub)] = layout.dumps(out.index)
    now = layout.format_ts(datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc))
    out.bodies[layout.info_key(sub)] = layout.dumps({
        "first_name": "Ada", "last_name": "Lovelace", "college_year": "Second Year",
        "major": "English", "course_number": "ENGL 1102",
        "unique_identifier": str(uuid.UUID(int=seed, version=4)), "email": "ada@uga.edu",
        "created_at": now, "updated_at": now, "cognito_user_id": sub})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]),
                      out.bodies.items()))
    return out


def start_moto_process(port: int, *, timeout: float = 30.0) -> subprocess.Popen:
    """moto's own server (``moto.server.main``, through our launcher, which only quiets its
    per-request logging and routing cost) in a child process on loopback; returns once it
    answers HTTP, so what runs against it pays real socket round trips to another process."""
    import requests

    proc = subprocess.Popen([sys.executable, "-m", "archpal_desktop.localstack.server", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto.server exited with {proc.returncode}")
        try:
            requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto.server did not answer in time")


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except Exception:
            proc.kill()


def bench_sandbox(prefix: str, *, keyring_backend: str | None = None):
    """A benchmark's private world: a temp folder removed at exit, no developer settings,
    keyring or ~/.aws leaking in, and moto's server in its own process.
    Returns (folder, moto process, moto URL)."""
    import atexit
    import shutil
    import tempfile

    from archpal_desktop.localstack.server import free_port

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, tmp, True)
    for name in list(os.environ):
        if name.startswith(("ARCHPAL_", "AWS_")):
            del os.environ[name]
    os.environ["ARCHPAL_SYSTEM_CONFIG"] = str(tmp / "site" / "config.toml")
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    os.environ["ARCHPAL_LOG_DIR"] = str(tmp / "logs")
    if keyring_backend:
        os.environ["PYTHON_KEYRING_BACKEND"] = keyring_backend
    port = free_port()
    proc = start_moto_process(port)
    atexit.register(stop_process, proc)
    return tmp, proc, f"http://127.0.0.1:{port}"
