"""What a write changed, announced once it is committed (after anki's ``OpChanges``).

Every write the cache makes records what it touched in the current transaction's
:class:`Changes`; when the outermost transaction commits, the store hands the record to its
listeners (``Store.subscribe``). The window turns that into one Qt signal (ui/changes.py) that
refreshes the list and the status bar and schedules an upload; nobody polls."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger(__name__)


@dataclass
class Changes:
    conversations: set[str] = field(default_factory=set)  # list rows to show again
    messages: set[str] = field(default_factory=set)
    profile: bool = False
    #: something the student did that must reach S3 (sync's own writes leave it False)
    upload: bool = False

    def __bool__(self) -> bool:
        return bool(self.conversations or self.messages or self.profile or self.upload)

    def merge(self, other: "Changes") -> None:
        self.conversations |= other.conversations
        self.messages |= other.messages
        self.profile |= other.profile
        self.upload |= other.upload


Listener = Callable[[Changes], None]


class ChangeLog:
    """Per-thread pending changes of one store, published on commit, dropped on rollback."""

    def __init__(self) -> None:
        self._pending = threading.local()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def current(self) -> Changes:
        pending = getattr(self._pending, "changes", None)
        if pending is None:
            pending = self._pending.changes = Changes()
        return pending

    def note(self, *, conversation: str | None = None, message: str | None = None,
             profile: bool = False, upload: bool = False) -> None:
        changes = self.current()
        if conversation:
            changes.conversations.add(conversation)
        if message:
            changes.messages.add(message)
        changes.profile |= profile
        changes.upload |= upload

    def committed(self) -> Changes:
        changes, self._pending.changes = self.current(), None
        if changes:
            for listener in list(self._listeners):
                try:
                    listener(changes)
                except Exception:  # noqa: BLE001 - a listener never undoes a commit
                    log.exception("a change listener failed")
        return changes

    def rolled_back(self) -> None:
        self._pending.changes = None
