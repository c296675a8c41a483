"""The signed-out page (core/auth/loopback.py) gives its port back: a sign-in that starts while
the page is closing itself (the browser has just shown it) still gets the port."""
from __future__ import annotations

import threading
import time
import urllib.request

from archpal_desktop.core.auth.loopback import SignedOutPage, _Server
from archpal_desktop.localstack.server import free_port


def test_a_sign_in_during_the_pages_own_close_still_gets_the_port():
    for _ in range(5):
        port = free_port()
        page = SignedOutPage(port, "/archpal/signed-out").start()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/archpal/signed-out", timeout=5) as r:
            assert b"You are signed out" in r.read()
        # the visit wakes the page's own closing thread; the next sign-in starts meanwhile
        time.sleep(0.01)
        SignedOutPage.close_all()      # what LoopbackListener.start does first
        server = _Server(("127.0.0.1", port), None)
        server.server_close()
        assert page.visited.is_set()


def test_closing_a_page_twice_at_once_returns_once_the_port_is_free():
    port = free_port()
    page = SignedOutPage(port, "/archpal/signed-out").start()
    other = threading.Thread(target=page.close)
    other.start()
    time.sleep(0.01)
    page.close()
    server = _Server(("127.0.0.1", port), None)
    server.server_close()
    other.join(5)


def test_a_page_that_found_its_port_busy_closes_at_once():
    port = free_port()
    holder = _Server(("127.0.0.1", port), None)
    try:
        page = SignedOutPage(port, "/archpal/signed-out").start()
        t0 = time.monotonic()
        page.close()
        assert time.monotonic() - t0 < 0.5
        assert page not in SignedOutPage.waiting()
    finally:
        holder.server_close()
