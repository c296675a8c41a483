"""The sidebar's search as the window shows it (issue 11, build 9; issue 17 point 6): the box's
keys (Esc clears it, Down enters the results), the hits shown where the list was, a hit opened.

Esc is also the window's "Stop the reply" shortcut; while the search box has text, Esc is the
box's own (the shortcut is overridden there), so it clears the search instead of doing nothing.
The query itself runs in :class:`~archpal_desktop.ui.search.SearchController`.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt


class SearchPane(QObject):
    """Uses the window's ``search_box``, ``results``, ``results_label``, ``side_stack``,
    ``conversations``, ``chat``, ``current_cid`` and ``conversation_pane``."""

    def __init__(self, window, search):
        super().__init__(window)
        self.window = window
        self.search = search            # ui.search.SearchController
        box = window.search_box
        box.installEventFilter(self)
        box.textChanged.connect(self._search_changed)
        box.returnPressed.connect(self._open_first_hit)
        window.results.open_hit.connect(self.open_hit)
        search.results.connect(self._show_hits)

    def focus_search(self) -> None:
        self.window.search_box.setFocus()
        self.window.search_box.selectAll()

    def _search_changed(self, text: str) -> None:
        w = self.window
        self.search.set_query(text)
        if not text.strip():
            w.results_label.hide()
            w.side_stack.setCurrentWidget(w.conversations)

    def _show_hits(self, query: str, hits: list) -> None:
        if not query:
            return
        w = self.window
        w.results.hits_model.set_hits(hits)
        w.side_stack.setCurrentWidget(w.results)
        w.results_label.setText(f"{len(hits)} result{'s' if len(hits) != 1 else ''} for “{query}”"
                                if hits else f"Nothing found for “{query}”")
        w.results_label.show()

    def _open_first_hit(self) -> None:
        if self.window.results.hits_model.hits:
            self.open_hit(self.window.results.hits_model.hits[0])

    def open_hit(self, hit) -> None:
        if hit is None:
            return
        w = self.window
        if hit.conversation_id == w.current_cid and w.chat.chat_model.message(hit.message_id):
            w.chat.scroll_to_message(hit.message_id)
            return
        w.conversations.blockSignals(True)
        w.conversations.select(hit.conversation_id)
        w.conversations.blockSignals(False)
        w.conversation_pane.open_conversation(hit.conversation_id, scroll_to=hit.message_id)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        key, box = event.key(), self.window.search_box
        if key == Qt.Key.Key_Escape and box.text():
            if kind == QEvent.Type.ShortcutOverride:
                event.accept()          # the box takes Esc: no Stop shortcut while it has text
                return False
            box.clear()
            return True
        if key == Qt.Key.Key_Down and kind == QEvent.Type.KeyPress and not event.modifiers():
            w = self.window
            view = w.side_stack.currentWidget()
            if view in (w.results, w.conversations) and view.model().rowCount():
                if not view.currentIndex().isValid():
                    view.setCurrentIndex(view.model().index(0, 0))
                view.setFocus(Qt.FocusReason.TabFocusReason)
                return True
        return False
