"""What the window needs to know about the signed-in student, in one object."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from archpal_desktop.ui.tasks import TaskManager


@dataclass
class AppState:
    settings: Any                     # core.config.Settings
    store: Any                        # core.store.Store
    tasks: TaskManager
    sub: str
    email: str = ""
    access: Callable[[], Any] | None = None   # -> AwsAccess; may use the network: call in a worker
    auth: Any = None                  # core.auth.AuthSession when signed in through Cognito
    theme: Any = None                 # ui.theme.ThemeManager
    demo: Any = None
    extra: dict = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir())
