"""The window fixtures of tests/ui (a real store, moto S3, our local Bedrock endpoint), and its
autouse checks that a GUI test leaves no thread, timer or window behind."""
from __future__ import annotations

from tests.ui.conftest import (_no_dangling_threads, _no_dangling_timers,  # noqa: F401
                               _no_dangling_widgets, _shots_folder, bedrock, bedrock_server,
                               make_window, settings, state, store, sub, tasks, theme_manager)
