"""``archpal-desktop --self-test``: prove an install works, end to end, without AWS.

On the embedded local backend (the same one ``--demo`` uses) it signs in through Cognito SRP,
sends a message, receives the streamed reply, syncs both to S3 and reads them back, and checks
that the window toolkit loads. Each step prints one line; the exit code is 0 only if all passed.
Used by CI on the installed .deb and by admins checking a laptop.

It deliberately ignores the site file, the user's settings and ``ARCHPAL_*`` variables: it
checks this installation, not the site (``archpal-desktop doctor`` does that), and a managed
site bucket must not redirect a self-test. It keeps nothing: a temporary data folder and a
memory-only keyring, both gone on exit.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from archpal_desktop.core.errors import ArchPalError, map_exception

MESSAGE = "Self-test: how should I start outlining an argumentative essay?"


class StepFailed(Exception):
    pass


class SelfTest:
    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.passed = 0
        self.state: dict[str, Any] = {}

    def step(self, name: str, fn: Callable[[], str]) -> None:
        start = time.monotonic()
        try:
            detail = fn()
        except Exception as exc:  # every failure is one readable line, then the run stops
            err = exc if isinstance(exc, (ArchPalError, StepFailed)) else map_exception(exc)
            self.line(f"[FAIL] {name}: {err} ({time.monotonic() - start:.2f} s)")
            raise StepFailed(name) from exc
        self.passed += 1
        self.line(f"[ ok ] {name}: {detail} ({time.monotonic() - start:.2f} s)")

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise StepFailed(message)


def run_self_test(ctx=None, out=None) -> int:
    t = SelfTest(out)
    total = time.monotonic()
    tmp = tempfile.TemporaryDirectory(prefix="archpal-selftest-")
    closers: list[Any] = []
    s = t.state
    try:
        t.step("local backend", lambda: _start_backend(s, Path(tmp.name), closers))
        t.step("settings", lambda: _settings(s, Path(tmp.name)))
        t.step("sign in", lambda: _sign_in(s))
        t.step("local cache", lambda: _open_store(s, closers))
        t.step("first sync", lambda: _sync(s, "pull"))
        t.step("send message", lambda: _send(s))
        t.step("streamed reply", lambda: _reply(s))
        t.step("sync up", lambda: _sync(s, "push"))
        t.step("read back from S3", lambda: _read_back(s))
        t.step("window toolkit", _qt)
    except StepFailed:
        t.line(f"Self-test FAILED after {t.passed} step(s) ({time.monotonic() - total:.1f} s).")
        return 1
    finally:
        for obj in reversed(closers):
            try:
                obj.close()
            except Exception:  # cleanup must not hide the result
                pass
        tmp.cleanup()
    t.line(f"Self-test passed: {t.passed} steps in {time.monotonic() - total:.1f} s.")
    return 0


def _start_backend(s: dict, tmp: Path, closers: list) -> str:
    from archpal_desktop.localstack.demo import start_demo

    demo = start_demo(data_dir=tmp / "data", announce=False)
    closers.append(demo)
    s["demo"] = demo
    return f"S3 + Cognito at {demo.moto.url}, demo coach model at {demo.bedrock.url}"


def _settings(s: dict, tmp: Path) -> str:
    from archpal_desktop.core import config as cfg

    empty = tmp / "config.toml"
    empty.write_text("")
    s["settings"] = cfg.load_settings(empty, s["demo"].settings_overrides(), env={},
                                      system_file=tmp / "no-site-file.toml")
    return f"bucket {s['settings'][cfg.S3_BUCKET_NAME]}, pool {s['settings'][cfg.COGNITO_USER_POOL_ID]}"


def _sign_in(s: dict) -> str:
    from keyring.backends import null

    from archpal_desktop.core.auth import AuthSession, Challenge
    from archpal_desktop.core.auth.keystore import KeyStore

    demo = s["demo"]
    # a memory-only keyring: a self-test must never leave a session in the user's keychain
    session = AuthSession(s["settings"], keystore=KeyStore(null.Keyring()))
    result = session.sign_in(demo.email, demo.password)
    _check(not isinstance(result, Challenge), f"sign-in asked for {getattr(result, 'name', '?')}")
    _check(session.verified, "the ID token was not verified")
    access = session.access()
    _check(access.sub == demo.sub, f"signed in as {access.sub}, expected {demo.sub}")
    s["access"] = access
    return f"{demo.email} (sub {access.sub}, {access.source} credentials)"


def _open_store(s: dict, closers: list) -> str:
    from archpal_desktop.core.store import Store

    store = Store.open_for_user(s["settings"].data_dir(), s["access"].sub)
    closers.append(store)
    s["store"] = store
    return str(s["settings"].data_dir())


def _sync(s: dict, phase: str) -> str:
    from archpal_desktop.core.sync import sync_once

    result = sync_once(s["store"], s["access"], s["settings"])
    _check(result.ok, "; ".join(result.errors) or "sync reported errors")
    if phase == "pull":
        n = len(s["store"].list_conversations())
        _check(n > 0, "the demo account's conversations did not arrive")
        return f"{n} conversation(s) pulled ({result.requests})"
    _check(s["cid"] in result.pushed, "the new conversation was not uploaded")
    return f"uploaded {len(result.pushed)} file(s), index {'updated' if result.index_pushed else 'unchanged'}"


def _send(s: dict) -> str:
    from archpal_desktop.core.assistant import build_providers
    from archpal_desktop.core.replies import ReplyRunner

    store = s["store"]
    conv = store.create_conversation("Self-test")
    s["cid"] = conv.conversation_id
    runner = ReplyRunner(store, s["settings"],
                         lambda: build_providers(s["settings"], lambda: s["access"].session))
    s["runner"] = runner
    msg = runner.send(conv.conversation_id, MESSAGE)
    s["user_message_id"] = msg.message_id
    return f"saved as {msg.message_id} in conversation {conv.conversation_id}"


def _reply(s: dict) -> str:
    from archpal_desktop.core.assistant import Finished, TextDelta

    deltas: list[str] = []
    finished: list[Any] = []

    def on_event(ev) -> None:
        if isinstance(ev.event, TextDelta):
            deltas.append(ev.event.text)
        elif isinstance(ev.event, Finished):
            finished.append(ev.event)

    result = s["runner"].run_pending(on_event=on_event)
    _check(result.error is None, f"no reply: {result.error}")
    _check(len(result.answered) == 1, f"{len(result.answered)} replies finished, expected 1")
    _check(len(deltas) >= 2, f"the reply arrived in {len(deltas)} piece(s), not streamed")
    _check(bool(finished), "the stream never finished")
    reply = s["store"].get_message(result.answered[0])
    _check(reply is not None and reply.role == "assistant" and reply.local_state is None
           and reply.content.strip() != "", "the reply was not saved")
    s["reply_id"] = reply.message_id
    return f"{len(deltas)} pieces, {len(reply.content)} characters, emotion {reply.emotion}"


def _read_back(s: dict) -> str:
    from archpal_desktop.core import config as cfg
    from archpal_desktop.core import layout
    from archpal_desktop.core.aws import s3_client

    access, settings = s["access"], s["settings"]
    s3 = s3_client(access, settings)
    key = layout.conversation_key(access.sub, s["cid"])
    body = s3.get_object(Bucket=settings[cfg.S3_BUCKET_NAME], Key=key)["Body"].read()
    doc = layout.parse_conversation(body, access.sub, s["cid"], key)
    ids = [m["message_id"] for m in doc["messages"]]
    _check(ids == [s["user_message_id"], s["reply_id"]], f"{key} holds {ids}")
    index = layout.parse_index(s3.get_object(Bucket=settings[cfg.S3_BUCKET_NAME],
                                             Key=layout.index_key(access.sub))["Body"].read())
    _check(any(e.get("conversation_id") == s["cid"] for e in index), "the index lacks the conversation")
    return f"{key}: both messages, web app layout"


def _qt() -> str:
    # the platform plugin, image plugins and fonts are what a broken bundle loses first; with
    # no display (CI, ssh) the offscreen platform still loads the bundled Qt libraries
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    from PySide6.QtWidgets import QApplication

    from archpal_desktop.core import paths

    app = QApplication.instance() or QApplication(["archpal-desktop"])
    icon = paths.resources_dir() / "icons" / "archpal.svg"
    renderer = QSvgRenderer(str(icon))
    _check(renderer.isValid(), f"could not render {icon}")
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    _check(any(image.pixelColor(x, y).alpha() for x in range(0, 64, 4) for y in range(0, 64, 4)),
           "the app icon rendered empty")
    return f"Qt {__import__('PySide6').__version__} on '{QGuiApplication.platformName()}', icon rendered"
