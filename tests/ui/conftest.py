"""Window fixtures: a real store, the local moto S3 and our local Bedrock endpoint over HTTP."""
from __future__ import annotations

import uuid

import pytest

from archpal_desktop.core import config as cfg
from archpal_desktop.core.aws import static_access
from archpal_desktop.core.store import Store
from archpal_desktop.localstack.bedrock import LocalBedrock
from archpal_desktop.localstack.server import local_aws_env
from archpal_desktop.ui.state import AppState
from archpal_desktop.ui.tasks import TaskManager

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
        qtbot.waitUntil(lambda: not state.tasks.busy, timeout=5000)
        return w
    yield make
    for w in made:
        w.close()
    qtbot.waitUntil(lambda: not state.tasks.busy, timeout=10000)


def wait_idle(qtbot, state, timeout=10000):
    qtbot.waitUntil(lambda: not state.tasks.busy, timeout=timeout)
