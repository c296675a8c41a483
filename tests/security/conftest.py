"""The window fixtures of tests/ui (a real store, moto S3, our local Bedrock endpoint)."""
from __future__ import annotations

from tests.ui.conftest import (bedrock, bedrock_server, make_window, settings, state, store,  # noqa: F401
                               sub, tasks, theme_manager)
