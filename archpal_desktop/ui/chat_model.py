"""The open conversation as a list model: all messages in memory, a window of them in the view.

A conversation can hold thousands of messages. The model keeps every :class:`Message` (plain
dataclasses, cheap) but exposes only the newest ``WINDOW`` rows at first; scrolling to the top asks for
older ones (:meth:`fetch_older`), so opening a conversation lays out a few hundred bubbles,
not five thousand (the lazy idea of Anki's browser model and spyder's fetchMore).

"Ask again" stores a second reply after the first, as an ordinary message (the web app shows
both, one after the other). Here consecutive replies are *alternatives*: one row shows one of
them (the newest unless the student picks another), with "‹ 1 / 2 ›" to switch.
"""
from __future__ import annotations

from bisect import bisect_left
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from archpal_desktop.core.assistant import provider_label
from archpal_desktop.core.cache import Message
from archpal_desktop.ui import a11y

MessageRole = Qt.ItemDataRole.UserRole + 1
WINDOW = 40     # shown when a conversation opens: more than a tall screen holds
PAGE = 100      # added each time the student scrolls to the top


def sprint_line(msg: Message) -> bool:
    """A writing sprint's own line ("Sprint started", "Sprint over"): always its own row, never
    an alternative answer (core/sprints)."""
    return msg.role == "assistant" and bool(msg.sprint) and (msg.sprint or {}).get("outcome") != "proposed"


def _in_run(msg: Message) -> bool:
    return msg.role == "assistant" and not sprint_line(msg)


class MessageModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.conversation_id: str | None = None
        self._all: list[Message] = []
        self._rows: list[int] = []        # indexes into _all of the messages shown, in order
        self._first = 0                   # the first of _rows the view holds
        self._pos: dict[str, int] = {}
        self._choice: dict[str, str] = {}  # first reply of a run of alternatives -> the one shown
        self.stopped: set[str] = set()    # failed replies the student stopped (not errors)
        self.answering = False   # a reply is being written for this conversation right now
        self.coach_refused = False   # the coach's error card is up: the waiting question says so

    # -- Qt -----------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows) - self._first

    def _at(self, row: int) -> Message:
        return self._all[self._rows[self._first + row]]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self.rowCount():
            return None
        msg = self._at(index.row())
        if role == MessageRole:
            return msg
        if role == Qt.ItemDataRole.DisplayRole:
            return msg.content
        if role == Qt.ItemDataRole.AccessibleTextRole:
            from archpal_desktop.ui.timetext import time_text
            state = "stopped" if msg.local_state == "failed" and msg.message_id in self.stopped \
                else msg.local_state
            return a11y.message_speech(msg.role, time_text(msg.timestamp), msg.content, state)
        if role == Qt.ItemDataRole.ToolTipRole and msg.local_state == "waiting":
            return "Saved on this computer; ArchPal will answer when a connection is back."
        return None

    def flags(self, index):
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable if index.isValid() else Qt.ItemFlag.NoItemFlags

    # -- content ----------------------------------------------------------------------------
    def set_messages(self, conversation_id: str | None, messages: list[Message]) -> None:
        self.beginResetModel()
        self.conversation_id = conversation_id
        if conversation_id != self.conversation_id:
            self._choice.clear()
        self.conversation_id = conversation_id
        self._all = list(messages)
        self._reindex()
        self._first = max(0, len(self._rows) - WINDOW)
        self.endResetModel()

    def _reindex(self) -> None:
        self._pos = {m.message_id: i for i, m in enumerate(self._all)}
        rows: list[int] = []
        run: list[int] = []

        def close() -> None:
            if run:
                chosen = self._choice.get(self._all[run[0]].message_id)
                pick = next((i for i in run if self._all[i].message_id == chosen), run[-1])
                rows.append(pick)
                run.clear()
        for i, m in enumerate(self._all):
            if _in_run(m):
                run.append(i)
            else:
                close()
                rows.append(i)
        close()
        self._rows = rows

    def alternatives(self, msg: Message) -> list[Message]:
        """The replies in ``msg``'s run (just ``[msg]`` when it has no alternative)."""
        i = self._pos.get(msg.message_id)
        if i is None or not _in_run(msg):
            return [msg]
        lo = i
        while lo > 0 and _in_run(self._all[lo - 1]):
            lo -= 1
        hi = i
        while hi + 1 < len(self._all) and _in_run(self._all[hi + 1]):
            hi += 1
        return self._all[lo:hi + 1]

    def is_last_run(self, msg: Message) -> bool:
        """True for a reply in the conversation's last run of replies (nothing asked since)."""
        i = self._pos.get(msg.message_id)
        return i is not None and msg.role == "assistant" and all(
            m.role == "assistant" for m in self._all[i + 1:])

    def question_of(self, msg: Message) -> Message | None:
        """The student's message a reply answers (the last one before its run)."""
        i = self._pos.get(msg.message_id)
        if i is None:
            return None
        for m in reversed(self._all[:i]):
            if m.role == "user":
                return m
        return None

    def choose(self, message_id: str) -> int:
        """Show this alternative in its run's row; returns the row (-1 if not shown)."""
        msg = self.message(message_id)
        if msg is None:
            return -1
        run = self.alternatives(msg)
        self._choice[run[0].message_id] = message_id
        i = self._pos[message_id]
        ids = {m.message_id for m in run}
        for k, idx in enumerate(self._rows):
            if self._all[idx].message_id in ids:
                self._rows[k] = i
                if k >= self._first:
                    mi = self.index(k - self._first)
                    self.dataChanged.emit(mi, mi)
                    return k - self._first
                return -1
        return -1

    def is_waiting(self, msg: Message) -> bool:
        """A student's message with no reply after it yet (from this or another device)."""
        if msg.role != "user":
            return False
        i = self._pos.get(msg.message_id, -1)
        # any reply after it (even a stopped one, which carries its own mark) answers it
        return all(not _in_run(m) for m in self._all[i + 1:]) \
            if i >= len(self._all) - 50 else msg.local_state == "waiting"

    @property
    def total(self) -> int:
        return len(self._all)

    def messages(self) -> list[Message]:
        return list(self._all)

    def shown(self) -> list[Message]:
        """The messages a row shows (one per run of alternatives), oldest first."""
        return [self._all[i] for i in self._rows]

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

    def _slot(self, i: int) -> int:
        """Position in _rows of _all[i] (-1 when it is a hidden alternative); _rows is sorted."""
        k = bisect_left(self._rows, i)
        return k if k < len(self._rows) and self._rows[k] == i else -1

    def row_of(self, message_id: str, *, reveal: bool = True) -> int:
        """The view row of a message (-1 if absent); with ``reveal`` older rows are exposed and a
        hidden alternative is switched to."""
        i = self._pos.get(message_id)
        if i is None:
            return -1
        k = self._slot(i)
        if k < 0:
            if not reveal:
                return -1
            self.choose(message_id)
            k = self._slot(i)
        if k < self._first:
            if not reveal:
                return -1
            self.fetch_older(self._first - k + 10)
        return k - self._first

    def append(self, msg: Message) -> None:
        if msg.message_id in self._pos:
            self.update(msg)
            return
        self._all.append(msg)
        i = len(self._all) - 1
        self._pos[msg.message_id] = i
        if _in_run(msg) and i > 0 and _in_run(self._all[i - 1]) and self._rows:
            # a new alternative (Ask again): it takes its run's row
            run = self.alternatives(msg)
            self._choice[run[0].message_id] = msg.message_id
            self._rows[-1] = i
            if len(self._rows) - 1 >= self._first:
                idx = self.index(len(self._rows) - 1 - self._first)
                self.dataChanged.emit(idx, idx)
            return
        row = self.rowCount()
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(i)
        self.endInsertRows()

    def update(self, msg: Message) -> None:
        i = self._pos.get(msg.message_id)
        if i is None:
            self.append(msg)
            return
        self._all[i] = msg
        k = self._slot(i)
        if k >= self._first:
            idx = self.index(k - self._first)
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
        k = self._slot(i)
        if k < self._first:
            return -1
        idx = self.index(k - self._first)
        self.dataChanged.emit(idx, idx)
        return idx.row()

    def remove(self, message_id: str) -> None:
        i = self._pos.get(message_id)
        if i is None:
            return
        self.beginResetModel()
        del self._all[i]
        shown = len(self._rows) - self._first
        self._reindex()
        self._first = max(0, len(self._rows) - shown)
        self.endResetModel()
