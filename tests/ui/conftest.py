"""Window fixtures: a real store, the local moto S3 and our local Bedrock endpoint over HTTP.

After every GUI test, napari-style checks fail the test if it left a thread, an active timer or a
visible top-level window behind (``_no_dangling_*`` below). Screenshots go to the folder named by
ARCHPAL_SHOTS, else to a per-run pytest temporary folder (``save_shot``)."""
from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication

from archpal_desktop.core import config as cfg
from archpal_desktop.core.aws import static_access
from archpal_desktop.core.cache import Store
from archpal_desktop.localstack.bedrock import LocalBedrock
from archpal_desktop.localstack.server import local_aws_env
from archpal_desktop.ui.state import AppState
from archpal_desktop.ui.tasks import TaskManager

# read at import: the autouse fresh_environment fixture clears ARCHPAL_* before each test
_SHOTS_ENV = os.environ.get("ARCHPAL_SHOTS")
_shots: list[Path] = []

PROFILE = {"first_name": "Ada", "last_name": "Lovelace", "college_year": "Second Year",
           "major": "Mathematics", "course_number": "ENGL 1101"}


@pytest.fixture(scope="session")
def bedrock_server():
    server = LocalBedrock().start()
    yield server
    server.stop()


@pytest.fixture
def bedrock(bedrock_server, local_aws, monkeypatch):
    bedrock_server.reset()
    for name, value in local_aws_env({**local_aws.endpoint_env(), **bedrock_server.endpoint_env()}).items():
        monkeypatch.setenv(name, value)
    yield bedrock_server
    bedrock_server.reset()


@pytest.fixture
def sub():
    return str(uuid.uuid4())


@pytest.fixture
def settings(tmp_path, bucket):
    return cfg.load_settings(cli_overrides={cfg.DATA_DIR: str(tmp_path / "data"),
                                            cfg.S3_BUCKET_NAME: bucket})


@pytest.fixture
def store(settings, sub):
    s = Store.open_for_user(settings.data_dir(), sub)
    s.save_profile(PROFILE, email="ada@example.edu")
    yield s
    s.close()


@pytest.fixture
def tasks(qapp):
    t = TaskManager()
    yield t
    assert t.shutdown(), "a worker outlived its test"


@pytest.fixture
def theme_manager(qapp):
    from archpal_desktop.ui.theme import ThemeManager
    tm = ThemeManager(qapp, "light")
    yield tm
    tm.set_mode("light")


@pytest.fixture
def state(settings, store, tasks, sub, bedrock, theme_manager):
    return AppState(settings=settings, store=store, tasks=tasks, sub=sub, email="ada@example.edu",
                    access=lambda: static_access(settings, sub), theme=theme_manager)


@pytest.fixture
def make_window(qtbot, state):
    from archpal_desktop.ui.main_window import MainWindow
    made = []

    def make(start_sync: bool = False, **kw):
        w = MainWindow(state, start_sync=start_sync, **kw)
        qtbot.addWidget(w)
        made.append(w)
        w.resize(1100, 720)
        w.show()
        wait_tasks_done(qtbot, state.tasks, 5000)
        return w
    yield make
    for w in made:
        w.close()
    wait_tasks_done(qtbot, state.tasks, 10000)


def wait_idle(qtbot, state, timeout=10000):
    wait_tasks_done(qtbot, state.tasks, timeout)


def wait_tasks_done(qtbot, tasks, timeout=10000):
    """Wait on the runner's ``all_done`` signal (no polling). Checking ``busy`` and then entering
    the wait cannot miss the signal: both happen on the UI thread, which emits it."""
    while tasks.busy:
        with qtbot.waitSignal(tasks.all_done, timeout=timeout):
            pass


@pytest.fixture(scope="session", autouse=True)
def _shots_folder(tmp_path_factory):
    _shots.append(Path(_SHOTS_ENV) if _SHOTS_ENV else tmp_path_factory.mktemp("shots"))
    yield


def save_shot(widget, name: str):
    """Grab ``widget`` to <shots>/<name>.png for a human look; returns the QImage."""
    folder = _shots[-1]
    folder.mkdir(parents=True, exist_ok=True)
    pixmap = widget.grab()
    pixmap.save(str(folder / f"{name}.png"))
    return pixmap.toImage()


# -- napari-style leak checks ----------------------------------------------------------------------
def _is_gui_test(request) -> bool:
    return "qapp" in request.fixturenames or "qtbot" in request.fixturenames


def threads_left(before: set, grace: float = 10) -> list[threading.Thread]:
    """Threads started since ``before`` and still running: the app's own (named archpal-*) and
    any non-daemon one. Pool threads that once ran Python show up as _DummyThread and are left
    to their pools (the task runner's own fixture checks those were drained)."""
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()
            and not isinstance(t, threading._DummyThread)
            and (t.name.startswith("archpal-") or not t.daemon)]
    for t in left:  # let a thread that is on its way out finish (a join, not a timing check)
        t.join(grace)
    return [t for t in left if t.is_alive()]


def timers_active(started: list) -> list:
    """The timers of ``started`` still running (a timer deleted with its owner is fine)."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    active = []
    for timer in started:
        try:
            if timer.isActive():
                active.append(timer)
        except RuntimeError:
            pass
    return active


def windows_shown(before: set[int]) -> list:
    """Top-level windows opened since ``before`` that are still shown."""
    app = QApplication.instance()
    if app is None:
        return []
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return [w for w in app.topLevelWidgets() if id(w) not in before and w.isVisible()]


@pytest.fixture(autouse=True)
def _no_dangling_threads(request):
    before = set(threading.enumerate())
    yield
    if _is_gui_test(request):
        left = threads_left(before)
        assert not left, f"threads left running after the test: {[t.name for t in left]}"


@pytest.fixture(autouse=True)
def _no_dangling_timers(request, monkeypatch):
    """Every QTimer started from Python during the test is stopped (or deleted) at its end."""
    if not _is_gui_test(request):
        yield
        return
    started: list = []
    original = QTimer.start

    def start(self, *args):
        started.append(self)
        return original(self, *args)
    monkeypatch.setattr(QTimer, "start", start)
    yield
    monkeypatch.setattr(QTimer, "start", original)
    # the application's own collector runs as long as the application (ui/tasks.py)
    active = [t for t in timers_active(started) if t.objectName() != "mainThreadCollector"]
    for timer in active:
        timer.stop()
    assert not active, f"{len(active)} QTimer(s) still active after the test: " + \
        ", ".join(f"{t.objectName() or 'unnamed'} (parent {type(t.parent()).__name__})" for t in active)


@pytest.fixture(autouse=True)
def _no_dangling_widgets(request):
    """No window the test opened is still shown once pytest-qt closed the ones it registered."""
    if not _is_gui_test(request):
        yield
        return
    app = QApplication.instance()
    before = set(map(id, app.topLevelWidgets())) if app else set()
    yield
    shown = windows_shown(before)
    for w in shown:
        w.close()
    assert not shown, "windows left open after the test: " + ", ".join(type(w).__name__ for w in shown)
