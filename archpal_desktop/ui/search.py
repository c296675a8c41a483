"""Search as you type: debounced, run in a worker, stale results dropped, hits highlighted."""
from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QTextDocument
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate

from archpal_desktop.ui import theme
from archpal_desktop.ui.conversation_list import date_text
from archpal_desktop.ui.tasks import Latest, TaskManager

HitRole = Qt.ItemDataRole.UserRole + 3
DEBOUNCE_MS = 200


class SearchController(QObject):
    results = Signal(str, list)    # query, hits

    def __init__(self, tasks: TaskManager, store, parent=None):
        super().__init__(parent)
        self._tasks = tasks
        self._store = store
        self._latest = Latest()
        self._query = ""
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._run)

    def set_query(self, text: str) -> None:
        self._query = text.strip()
        self._latest.next()   # anything in flight is now stale
        if not self._query:
            self._timer.stop()
            self.results.emit("", [])
            return
        self._timer.start()

    def _run(self) -> None:
        query, store = self._query, self._store
        handler = self._latest.guard(lambda hits: self.results.emit(query, hits))
        self._tasks.run_in_background(lambda: store.search(query, limit=200), handler,
                                      lambda e: handler([]))


class SearchModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.hits: list = []

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.hits)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        hit = self.hits[index.row()]
        if role == HitRole:
            return hit
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{hit.title}: {hit.snippet_text}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            # as the row shows it: the conversation, the message's date, who wrote the match
            who = "You" if hit.role == "user" else "ArchPal"
            return ", ".join(p for p in (hit.title, date_text(hit.timestamp)) if p) + f", {who}: {hit.snippet_text}"
        return None

    def set_hits(self, hits: list) -> None:
        self.beginResetModel()
        self.hits = list(hits)
        self.endResetModel()


class SearchDelegate(QStyledItemDelegate):
    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        fm = QFontMetrics(option.font)
        return QSize(200, fm.height() * 3 + 18)

    def paint(self, painter: QPainter, option, index) -> None:
        hit = index.data(HitRole)
        c = theme.current()
        r = option.rect.adjusted(6, 2, -6, -2)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(c.reply_border))
            painter.drawRoundedRect(r, 8, 8)
        inner = r.adjusted(10, 5, -10, -5)
        bold = QFont(option.font)
        bold.setBold(True)
        fm = QFontMetrics(bold)
        painter.setFont(bold)
        painter.setPen(QColor(c.text))
        title_rect = QRect(inner.left(), inner.top(), inner.width(), fm.height())
        date = date_text(hit.timestamp)
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(hit.title, Qt.TextElideMode.ElideRight, inner.width() - 60))
        painter.setFont(option.font)
        painter.setPen(QColor(c.muted))
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignRight, date)
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(0)
        who = "You" if hit.role == "user" else "ArchPal"
        # snippet_html is escaped by the store; only its <b> marks are markup
        doc.setHtml(f"<span style='color:{c.muted}'>{who}:</span> "
                    f"<span style='color:{c.text}'>{hit.snippet_html}</span>"
                    .replace("<b>", f"<b style='background-color:{c.highlight}'>"))
        doc.setTextWidth(inner.width())
        painter.translate(inner.left(), title_rect.bottom() + 3)
        painter.setClipRect(QRect(0, 0, inner.width(), inner.height() - fm.height() - 3))
        doc.drawContents(painter)
        painter.restore()


class SearchResults(QListView):
    open_hit = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("searchResults")
        self.setAccessibleName("Search results")
        self.hits_model = SearchModel(self)
        self.setModel(self.hits_model)
        self.setItemDelegate(SearchDelegate(self))
        self.setUniformItemSizes(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.activated.connect(lambda idx: self.open_hit.emit(idx.data(HitRole)))
        self.clicked.connect(lambda idx: self.open_hit.emit(idx.data(HitRole)))
