"""The sidebar's conversation list: every conversation, newest first, uniform rows."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeySequence, QPainter
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu, QStyle, QStyledItemDelegate

from archpal_desktop.core import layout
from archpal_desktop.core.cache import Conversation
from archpal_desktop.ui import a11y, plain, theme

ConversationRole = Qt.ItemDataRole.UserRole + 2


def date_text(ts: str, now: datetime | None = None) -> str:
    try:
        dt = layout.parse_ts(ts).astimezone()
    except Exception:  # another client's odd timestamp must not break the list
        return ""
    now = now or datetime.now().astimezone()
    if dt.date() == now.date():
        return dt.strftime("%H:%M")
    if dt.year == now.year:
        return dt.strftime("%d %b")
    return dt.strftime("%d %b %Y")


class ConversationModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[Conversation] = []
        self._pos: dict[str, int] = {}
        self.shown_counts: dict[str, int] = {}   # what the chat shows (Store.shown_message_counts)

    def count_of(self, conv: Conversation) -> int:
        return self.shown_counts.get(conv.conversation_id, conv.message_count)

    def set_shown_counts(self, counts: dict[str, int], *, replace: bool = True) -> None:
        if replace:
            self.shown_counts = dict(counts)
        else:
            self.shown_counts.update(counts)
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        conv = self._rows[index.row()]
        if role == ConversationRole:
            return conv
        if role == Qt.ItemDataRole.DisplayRole:
            return conv.title
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{conv.title}, {date_text(conv.last_updated)}, {a11y.plural(self.count_of(conv), 'message')}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain.tip(conv.title)
        return None

    def set_conversations(self, convs: list[Conversation]) -> None:
        self.beginResetModel()
        self._rows = list(convs)
        self._pos = {c.conversation_id: i for i, c in enumerate(self._rows)}
        self.endResetModel()

    def conversations(self) -> list[Conversation]:
        return list(self._rows)

    def row_of(self, cid: str | None) -> int:
        return self._pos.get(cid, -1) if cid else -1

    def conversation(self, cid: str) -> Conversation | None:
        i = self.row_of(cid)
        return self._rows[i] if i >= 0 else None

    def upsert(self, conv: Conversation) -> None:
        """Keep newest first with a move, never remove+insert: the current row (and so the open
        conversation) must follow the item, not jump to a neighbour."""
        key = layout.ts_key(conv.last_updated)
        old = self.row_of(conv.conversation_id)
        others = [c for c in self._rows if c.conversation_id != conv.conversation_id]
        new = 0
        while new < len(others) and layout.ts_key(others[new].last_updated) > key:
            new += 1
        if old < 0:
            self.beginInsertRows(QModelIndex(), new, new)
            self._rows.insert(new, conv)
            self.endInsertRows()
        elif new == old:
            self._rows[old] = conv
            idx = self.index(old)
            self.dataChanged.emit(idx, idx)
        else:
            self.beginMoveRows(QModelIndex(), old, old, QModelIndex(), new if new < old else new + 1)
            self._rows.pop(old)
            self._rows.insert(new, conv)
            self.endMoveRows()
        self._pos = {c.conversation_id: i for i, c in enumerate(self._rows)}

    def remove(self, cid: str) -> None:
        i = self.row_of(cid)
        if i < 0:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        del self._rows[i]
        self._pos = {c.conversation_id: j for j, c in enumerate(self._rows)}
        self.endRemoveRows()


class ConversationDelegate(QStyledItemDelegate):
    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        fm = QFontMetrics(option.font)
        return QSize(200, fm.height() * 2 + 16)

    def paint(self, painter: QPainter, option, index) -> None:
        conv: Conversation = index.data(ConversationRole)
        c = theme.current()
        r = option.rect.adjusted(6, 2, -6, -2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(c.accent))
            painter.drawRoundedRect(r, 8, 8)
        elif hover:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(c.reply_border))
            painter.drawRoundedRect(r, 8, 8)
        fg = QColor(c.accent_text if selected else c.text)
        muted = QColor(c.accent_text if selected else c.muted)
        font = QFont(option.font)
        fm = QFontMetrics(font)
        inner = r.adjusted(10, 6, -10, -6)
        date = date_text(conv.last_updated)
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        sfm = QFontMetrics(small)
        title_rect = QRect(inner.left(), inner.top(), inner.width(), fm.height())
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(fg)
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(bold).elidedText(conv.title or "Untitled", Qt.TextElideMode.ElideRight,
                                                       title_rect.width()))
        painter.setFont(small)
        painter.setPen(muted)
        sub_rect = QRect(inner.left(), inner.bottom() - sfm.height() + 1, inner.width(), sfm.height())
        n = index.model().count_of(conv) if hasattr(index.model(), "count_of") else conv.message_count
        count = f"{n} message{'s' if n != 1 else ''}"
        extra = "  ·  draft" if conv.draft.strip() else ""
        painter.drawText(sub_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, count + extra)
        painter.drawText(sub_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, date)
        painter.restore()


class ConversationList(QListView):
    rename_requested = Signal(str)
    delete_requested = Signal(str)
    export_requested = Signal(str, str)   # conversation id, "pdf" | "md"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("conversationList")
        self.setAccessibleName("Conversations")
        self.setAccessibleDescription("F2 renames, Delete deletes the selected conversation.")
        self.conv_model = ConversationModel(self)
        self.setModel(self.conv_model)
        self.setItemDelegate(ConversationDelegate(self))
        self.setUniformItemSizes(True)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        a11y.current_item_on_focus(self)

    def current_id(self) -> str | None:
        idx = self.currentIndex()
        conv = idx.data(ConversationRole) if idx.isValid() else None
        return conv.conversation_id if conv else None

    def select(self, cid: str | None) -> bool:
        row = self.conv_model.row_of(cid)
        if row < 0:
            return False
        idx = self.conv_model.index(row)
        self.setCurrentIndex(idx)
        self.scrollTo(idx)
        return True

    def keyPressEvent(self, event) -> None:  # noqa: N802
        cid = self.current_id()
        if cid and event.key() == Qt.Key.Key_F2:
            self.rename_requested.emit(cid)
            return
        if cid and (event.matches(QKeySequence.StandardKey.Delete) or event.key() == Qt.Key.Key_Delete):
            self.delete_requested.emit(cid)
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        idx = self.indexAt(event.pos())
        if not idx.isValid():
            return
        self.setCurrentIndex(idx)
        cid = idx.data(ConversationRole).conversation_id
        menu = QMenu(self)
        a = menu.addAction("Rename…")
        a.setShortcut(QKeySequence(Qt.Key.Key_F2))
        a.triggered.connect(lambda: self.rename_requested.emit(cid))
        menu.addAction("Export as PDF…").triggered.connect(lambda: self.export_requested.emit(cid, "pdf"))
        menu.addAction("Export as Markdown…").triggered.connect(lambda: self.export_requested.emit(cid, "md"))
        menu.addSeparator()
        d = menu.addAction("Delete…")
        d.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        d.triggered.connect(lambda: self.delete_requested.emit(cid))
        menu.exec(event.globalPos())
