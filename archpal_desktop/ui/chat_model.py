"""The open conversation as a list model: all messages in memory, a window of them in the view.

A conversation can hold thousands of messages. The model keeps every :class:`Message` (plain
dataclasses, cheap) but exposes only the newest ``WINDOW`` rows at first; scrolling to the top asks for
older ones (:meth:`fetch_older`), so opening a conversation lays out a few hundred bubbles,
not five thousand (the lazy idea of Anki's browser model and spyder's fetchMore).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from archpal_desktop.core.store import Message
from archpal_desktop.ui import a11y

MessageRole = Qt.ItemDataRole.UserRole + 1
WINDOW = 40     # shown when a conversation opens: more than a tall screen holds
PAGE = 100      # added each time the student scrolls to the top


class MessageModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.conversation_id: str | None = None
        self._all: list[Message] = []
        self._first = 0
        self._pos: dict[str, int] = {}
        self.answering = False   # a reply is being written for this conversation right now

    # -- Qt -----------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._all) - self._first

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        msg = self._all[self._first + index.row()]
        if role == MessageRole:
            return msg
        if role == Qt.ItemDataRole.DisplayRole:
            return msg.content
        if role == Qt.ItemDataRole.AccessibleTextRole:
            from archpal_desktop.ui.chat_view import time_text
            return a11y.message_speech(msg.role, time_text(msg.timestamp), msg.content, msg.local_state)
        if role == Qt.ItemDataRole.ToolTipRole and msg.local_state == "waiting":
            return "Saved on this computer; ArchPal will answer when a connection is back."
        return None

    def flags(self, index):
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable if index.isValid() else Qt.ItemFlag.NoItemFlags

    # -- content ----------------------------------------------------------------------------
    def set_messages(self, conversation_id: str | None, messages: list[Message]) -> None:
        self.beginResetModel()
        self.conversation_id = conversation_id
        self._all = list(messages)
        self._first = max(0, len(self._all) - WINDOW)
        self._reindex()
        self.endResetModel()

    def _reindex(self) -> None:
        self._pos = {m.message_id: i for i, m in enumerate(self._all)}

    def is_waiting(self, msg: Message) -> bool:
        """A student's message with no reply after it yet (from this or another device)."""
        if msg.role != "user":
            return False
        i = self._pos.get(msg.message_id, -1)
        # any reply after it (even a stopped one, which carries its own mark) answers it
        return all(m.role != "assistant" for m in self._all[i + 1:]) \
            if i >= len(self._all) - 50 else msg.local_state == "waiting"

    @property
    def total(self) -> int:
        return len(self._all)

    def messages(self) -> list[Message]:
        return list(self._all)

    def can_fetch_older(self) -> bool:
        return self._first > 0

    def fetch_older(self, count: int = PAGE) -> int:
        n = min(count, self._first)
        if n <= 0:
            return 0
        self.beginInsertRows(QModelIndex(), 0, n - 1)
        self._first -= n
        self.endInsertRows()
        return n

    def message(self, message_id: str) -> Message | None:
        i = self._pos.get(message_id)
        return self._all[i] if i is not None else None

    def last(self) -> Message | None:
        return self._all[-1] if self._all else None

    def row_of(self, message_id: str, *, reveal: bool = True) -> int:
        """The view row of a message (-1 if absent); with ``reveal`` older rows are exposed."""
        i = self._pos.get(message_id)
        if i is None:
            return -1
        if i < self._first:
            if not reveal:
                return -1
            self.fetch_older(self._first - i + 10)
        return i - self._first

    def append(self, msg: Message) -> None:
        if msg.message_id in self._pos:
            self.update(msg)
            return
        row = self.rowCount()
        self.beginInsertRows(QModelIndex(), row, row)
        self._all.append(msg)
        self._pos[msg.message_id] = len(self._all) - 1
        self.endInsertRows()

    def update(self, msg: Message) -> None:
        i = self._pos.get(msg.message_id)
        if i is None:
            self.append(msg)
            return
        self._all[i] = msg
        if i >= self._first:
            idx = self.index(i - self._first)
            self.dataChanged.emit(idx, idx)

    def set_text(self, message_id: str, text: str, emotion: str | None = None) -> int:
        """Streaming: replace one message's text in place; returns its row (or -1)."""
        i = self._pos.get(message_id)
        if i is None:
            return -1
        msg = self._all[i]
        msg.content = text
        if emotion:
            msg.emotion = emotion
        if i < self._first:
            return -1
        idx = self.index(i - self._first)
        self.dataChanged.emit(idx, idx)
        return idx.row()

    def remove(self, message_id: str) -> None:
        i = self._pos.get(message_id)
        if i is None:
            return
        if i >= self._first:
            row = i - self._first
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._all[i]
            self._reindex()
            self.endRemoveRows()
        else:
            del self._all[i]
            self._first -= 1
            self._reindex()
