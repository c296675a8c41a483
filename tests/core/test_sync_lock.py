"""One sync per cache at a time, across processes (issue 18, point 18): a second sync waits for
the first, or says plainly that one is running; it never merges into the cache alongside it."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from archpal_desktop.core.aws import static_access
from archpal_desktop.core.sync import SyncEngine, SyncRunningError, make_remote
from archpal_desktop.core.sync.engine import WAITING
from tests.support.s3fixtures import ADA

HOLDER = textwrap.dedent("""
    import sys
    from archpal_desktop.core.sync.lock import SyncLock
    with SyncLock(sys.argv[1], wait=0):
        print("held", flush=True)
        sys.stdin.readline()   # hold the lock until the test says so
""")


def _holder(cache_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(cache_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _engine(desk, **kw):
    access = static_access(desk.settings, ADA)
    return SyncEngine(desk.store, make_remote(access, desk.settings), **kw)


def test_a_second_sync_says_a_sync_is_running(desktops, fixture_bucket):
    bucket, _ = fixture_bucket
    desk = desktops(ADA, bucket)
    other = _holder(desk.store.path)       # another process is syncing this cache
    try:
        with pytest.raises(SyncRunningError) as info:
            _engine(desk, lock_wait=0).sync()
        assert "syncing this account right now" in str(info.value)
        assert desk.store.list_conversations() == []   # nothing merged alongside it
    finally:
        other.communicate("\n", timeout=30)
    assert _engine(desk, lock_wait=0).sync().ok


def test_a_second_sync_waits_for_the_first_then_runs(desktops, fixture_bucket):
    bucket, _ = fixture_bucket
    desk = desktops(ADA, bucket)
    other = _holder(desk.store.path)
    phases = []

    def progress(done, total, phase):
        phases.append(phase)
        if phase == WAITING and other.poll() is None:
            other.communicate("\n", timeout=30)   # the first sync finishes while we wait

    result = _engine(desk, progress=progress, lock_wait=60).sync()
    assert phases[0] == WAITING and "list" in phases
    assert result.ok and desk.store.list_conversations()
