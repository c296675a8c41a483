"""What the window needs to know about the signed-in student, in one object."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from archpal_desktop.ui.tasks import TaskManager

if TYPE_CHECKING:
    from archpal_desktop.core.auth import AuthSession
    from archpal_desktop.core.aws import AwsAccess
    from archpal_desktop.core.cache import Store
    from archpal_desktop.core.config import Settings
    from archpal_desktop.ui.theme import ThemeManager


@dataclass
class AppState:
    settings: Settings
    store: Store
    tasks: TaskManager
    sub: str
    email: str = ""
    access: Callable[[], AwsAccess] | None = None   # may use the network: call it in a worker
    auth: AuthSession | None = None                  # when signed in through Cognito
    theme: ThemeManager | None = None
    clock: Any = None        # writing sprints' clock (core.sprints.Clock); None: the system's

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir())
