"""The search box's keys (issue 11, build 9): Esc clears it, Down enters the results.

Esc is also the window's "Stop the reply" shortcut; while the search box has text, Esc is the
box's own (the shortcut is overridden there), so it clears the search instead of doing nothing.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt


class SearchKeys(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        window.search_box.installEventFilter(self)

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
