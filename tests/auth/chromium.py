"""A real browser for the sign-in tests: Debian's chromium, headless, driven through the Chrome
DevTools Protocol over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out, NUL-framed JSON).

The pipe needs no port, no websocket library and no polling for a DevTools port file: chromium
reads commands as soon as it starts. Every wait is on a message (a command's answer, or an event
such as ``Page.loadEventFired``), each with a deadline so a broken run fails instead of hanging.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--remote-debugging-pipe", "about:blank"]
DEADLINE = 30.0


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """One headless browser; ``page()`` opens a tab."""

    def __init__(self) -> None:
        exe = chromium_path()
        if not exe:
            raise RuntimeError("chromium is not installed (scripts/bootstrap.sh installs it)")
        self.profile = tempfile.mkdtemp(prefix="archpal-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def plumb() -> None:  # in the child: the two pipe ends become fds 3 and 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen([exe, f"--user-data-dir={self.profile}", *FLAGS],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=plumb, pass_fds=(3, 4),
                                     start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next = 0
        self._lock = threading.Lock()
        self._answers: dict[int, queue.Queue] = {}
        self.events: dict[str, queue.Queue] = {}
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        box = self._answers.pop(msg["id"], None)
                    if box is not None:
                        box.put(msg)
                else:
                    key = f"{msg.get('sessionId', '')}:{msg.get('method')}"
                    self._events(key).put(msg.get("params", {}))

    def _events(self, key: str) -> queue.Queue:
        with self._lock:
            return self.events.setdefault(key, queue.Queue())

    def send(self, method: str, params: dict | None = None, session: str = "") -> dict[str, Any]:
        box: queue.Queue = queue.Queue()
        with self._lock:
            self._next += 1
            mid = self._next
            self._answers[mid] = box
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        answer = box.get(timeout=DEADLINE)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def wait_event(self, method: str, session: str = "", timeout: float = DEADLINE) -> dict:
        return self._events(f"{session}:{method}").get(timeout=timeout)

    def page(self) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        self.send("Page.enable", session=session)
        self.send("Runtime.enable", session=session)
        return page

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser: Chromium, session: str):
        self.browser = browser
        self.session = session

    def _drain(self, method: str) -> None:
        q = self.browser._events(f"{self.session}:{method}")
        while not q.empty():
            q.get_nowait()

    def goto(self, url: str) -> None:
        """Navigate and wait for the page's load event."""
        self._drain("Page.loadEventFired")
        self.browser.send("Page.navigate", {"url": url}, self.session)
        self.browser.wait_event("Page.loadEventFired", self.session)
        self._settle()

    def _settle(self) -> None:
        """A new tab's own about:blank can fire its load event late, after the drain above: wait
        until the document that is showing is a loaded page of ours, not the blank one."""
        deadline = time.monotonic() + DEADLINE
        while self.js("document.readyState === 'complete' && location.href !== 'about:blank'") is not True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page never finished loading ({self.url()})")
            time.sleep(0.02)

    def js(self, expression: str) -> Any:
        result = self.browser.send("Runtime.evaluate", {"expression": expression,
                                                         "returnByValue": True}, self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result.get("result", {}).get("value")

    def submit(self, fields: dict[str, str], button: str) -> None:
        """Fill inputs (CSS selectors), click the button (a selector); wait for the next load."""
        self._drain("Page.loadEventFired")
        setters = "".join(f"document.querySelector({json.dumps(k)}).value = {json.dumps(v)};"
                          for k, v in fields.items())
        self.js(setters + f"document.querySelector({json.dumps(button)}).click(); true")
        self.browser.wait_event("Page.loadEventFired", self.session)

    def text(self) -> str:
        return self.js("document.body ? document.body.innerText : ''") or ""

    def url(self) -> str:
        return self.js("location.href") or ""

    def close(self) -> None:
        try:
            self.browser.send("Target.detachFromTarget", {"sessionId": self.session})
        except Exception:
            pass
