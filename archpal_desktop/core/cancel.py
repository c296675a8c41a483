"""The one stop flag the app uses (a reply's Stop button, a window closing during a sync)."""
from __future__ import annotations

import threading
from typing import Callable


class OperationCancelled(Exception):
    """Raised inside a worker by :meth:`CancelToken.check` once cancel was requested."""


class CancelToken:
    """Thread-safe stop flag. ``cancel()`` may come from any thread; it also runs the hooks
    registered with :meth:`on_cancel` (a provider's hook wakes a read blocked on the network)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise OperationCancelled()

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            hooks = list(self._hooks)
        for hook in hooks:
            try:
                hook()
            except Exception:  # a hook on an already-closed stream; nothing left to stop
                pass

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Register ``hook``; returns a function that unregisters it. Runs now if already set."""
        with self._lock:
            already = self._event.is_set()
            if not already:
                self._hooks.append(hook)
        if already:
            hook()

        def remove() -> None:
            with self._lock:
                if hook in self._hooks:
                    self._hooks.remove(hook)
        return remove
