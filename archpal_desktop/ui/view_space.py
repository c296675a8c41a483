"""The window's space and text size: side panels that fold away, and zoom.

* The conversation list and the companion panel each fold away from the View menu, a shortcut
  or the small button beside the title, and fold away by themselves in a narrow window (the
  chat column gets the room). What the student chose is kept in ``window.ini``.
* On a wide screen the conversation is a centred column of readable width (the bubble
  delegate's :meth:`~archpal_desktop.ui.bubble_delegate.MessageDelegate.column`); the title row
  and the composer line up with it.
* Zoom (Ctrl+= / Ctrl+- / Ctrl+0) changes the text size setting; every size follows it: the
  title, the body, the bubbles, the composer's heights, the list rows, the dialogs.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QHBoxLayout, QToolButton, QWidget

from archpal_desktop.ui import theme
from archpal_desktop.ui.shortcuts import keys

log = logging.getLogger(__name__)

SIDEBAR_AUTO = 720      # below this window width the conversation list folds away by itself
COMPANION_AUTO = 1000   # below this the companion panel does
SIDEBAR_SHARE = 0.3     # in a window under COMPANION_AUTO, the list takes at most this share
HEAD_MARGIN = 14        # the title row's own side margins
COMPOSER_MARGIN = 12    # the composer's


@dataclass
class Panel:
    name: str
    widget: QWidget
    auto_below: int
    shown_words: str     # the toggle's words while the panel shows
    hidden_words: str
    wanted: bool = True  # the student's choice (kept)
    narrow: bool = False  # the window is too narrow for it
    forced: bool = False  # shown by the student although the window is narrow
    action: QAction | None = None
    button: QToolButton | None = None

    @property
    def should_show(self) -> bool:
        return self.wanted and (not self.narrow or self.forced)


class ViewControls(QObject):
    """Owns the window's panel toggles, zoom and the centred column."""

    def __init__(self, window, head: QHBoxLayout, center: QWidget):
        super().__init__(window)
        self.w = window
        self.center = center
        self.head = head
        self.panels = {
            "list": Panel("list", window.sidebar, SIDEBAR_AUTO, "Hide the conversation list",
                          "Show the conversation list"),
            "companion": Panel("companion", window.companion_panel, COMPANION_AUTO,
                               "Hide the companion", "Show the companion"),
        }
        self._button(self.panels["list"], 0)
        self._button(self.panels["companion"], head.count())
        # an explicit minimum: the title's inset (below) must never hold the window wide
        window.title_label.setMinimumWidth(40)
        window.installEventFilter(self)
        center.installEventFilter(self)
        self.apply_fonts()

    # -- building -------------------------------------------------------------------------------
    def _button(self, panel: Panel, at: int) -> None:
        b = QToolButton(self.center)
        b.setObjectName(f"toggle_{panel.name}")
        b.setAutoRaise(True)
        b.setMinimumSize(28, 28)
        b.clicked.connect(lambda: self.toggle(panel.name))
        panel.button = b
        self.head.insertWidget(at, b, 0, Qt.AlignmentFlag.AlignVCenter)

    def add_actions(self, menu) -> None:
        """The View menu's part: zoom, then the panels."""
        menu.addSeparator()
        for name, text, step in (("zoom_in", "&Bigger text", 1), ("zoom_out", "&Smaller text", -1),
                                 ("zoom_reset", "Text at its &usual size", 0)):
            act = QAction(text, self.w)
            act.setObjectName(f"action_{name}")
            act.setShortcuts(keys(name))
            act.triggered.connect(lambda _checked=False, s=step: self.zoom(s))
            menu.addAction(act)
        menu.addSeparator()
        for name, text in (("list", "Conversation &list"), ("companion", "&Companion")):
            act = QAction(text, self.w)
            act.setObjectName(f"action_toggle_{name}")
            act.setShortcuts(keys(f"toggle_{name}"))
            act.setCheckable(True)
            act.triggered.connect(lambda _checked=False, n=name: self.toggle(n))
            self.panels[name].action = act
            menu.addAction(act)
        self._refresh_controls()

    # -- panels -----------------------------------------------------------------------------------
    def toggle(self, name: str) -> None:
        p = self.panels[name]
        if not p.widget.isHidden():
            p.wanted, p.forced = False, False
        else:
            p.wanted, p.forced = True, p.narrow
        self._apply(p)
        self.save()
        what = "Conversation list" if name == "list" else "Companion"
        self.w.flash(f"{what} {'shown' if p.should_show else 'hidden'}.")

    def _apply(self, p: Panel) -> None:
        show = p.should_show
        if not show and not p.widget.isHidden() and p.widget.isAncestorOf(QApplication.focusWidget()):
            self.w.composer.edit.setFocus()   # never leave the keyboard in a hidden panel
        p.widget.setVisible(show)
        self._refresh_controls()

    def _refresh_controls(self) -> None:
        for p in self.panels.values():
            show = p.should_show
            words = p.shown_words if show else p.hidden_words
            seq = keys(f"toggle_{p.name}")[0].toString()
            if p.button is not None:
                # an arrow pointing where the panel goes (or comes from)
                left = p.name == "list"
                p.button.setText(("«" if show else "»") if left else ("»" if show else "«"))
                p.button.setToolTip(f"{words} ({seq})")
                p.button.setAccessibleName(words)
            if p.action is not None:
                p.action.setChecked(show)

    def fit_width(self) -> None:
        """Fold panels away in a narrow window (and back when it widens again)."""
        width = self.w.width()
        for p in self.panels.values():
            narrow = width < p.auto_below
            if narrow != p.narrow:
                p.narrow, p.forced = narrow, False
            if p.widget.isHidden() == p.should_show or (p.action and p.action.isChecked() != p.should_show):
                self._apply(p)
        side = self.panels["list"].widget
        if not side.isHidden() and width < COMPANION_AUTO:
            cap = max(side.minimumWidth(), int(width * SIDEBAR_SHARE))
            sizes = self.w.splitter.sizes()
            if sizes[0] > cap:
                sizes[1] += sizes[0] - cap
                sizes[0] = cap
                self.w.splitter.setSizes(sizes)

    def center_column(self) -> None:
        """The title row and the composer follow the conversation's centred column."""
        col = self.w.chat.delegate.column_width()
        spare = max(0, (self.center.width() - col) // 2)
        # the toggles stay at the pane's edges; the title moves into the column
        room = max((p.button.width() for p in self.panels.values() if p.button is not None), default=0)
        inset = max(0, spare - room)
        self.w.title_label.setContentsMargins(inset, 0, inset, 0)
        lay = self.w.composer.layout()
        m = lay.contentsMargins()
        lay.setContentsMargins(COMPOSER_MARGIN + spare, m.top(), COMPOSER_MARGIN + spare, m.bottom())

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize:
            if obj is self.w:
                self.fit_width()
            elif obj is self.center:
                self.center_column()
        return False

    # -- zoom -------------------------------------------------------------------------------------
    def zoom(self, step: int) -> None:
        from archpal_desktop.core import config as cfg
        tm = self.w.state.theme
        if tm is None:
            return
        settings = self.w.state.settings
        if settings.is_managed(cfg.FONT_SIZE):
            self.w.flash("The text size is set by your organisation.")
            return
        size = tm.zoomed(step)
        if size == tm.font_size and step != 0:
            self.w.flash("The text is as big as it gets." if step > 0 else "The text is as small as it gets.")
            return
        try:
            settings.set_user(cfg.FONT_SIZE, size)   # kept for next time (a small file, at once)
        except Exception as exc:  # the size still changes for this run
            log.warning("text size not saved: %s", exc)
        tm.set_font_size(size)   # theme.changed -> apply_fonts, the bubbles' refresh
        self.w.flash("Text at its usual size." if size == 0 else f"Text size {size} pt.")

    def apply_fonts(self, _colors=None) -> None:
        """Sizes set from the text size, recomputed when it changes."""
        base = QApplication.font()
        self.w.title_label.setFont(theme.scaled(base, theme.TITLE_SCALE, bold=True))
        for view in (self.w.conversations, self.w.results):
            view.doItemsLayout()
        self.w.composer.refit()
        self.center_column()

    # -- kept state -------------------------------------------------------------------------------
    def restore(self, qsettings) -> None:
        self._qsettings = qsettings
        for p in self.panels.values():
            value = qsettings.value(f"panels/{p.name}")
            if value is not None:
                p.wanted = str(value).lower() not in ("false", "0", "hidden")
        self.fit_width()
        for p in self.panels.values():
            self._apply(p)

    _qsettings = None

    def save(self) -> None:
        if self._qsettings is None:
            return
        for p in self.panels.values():
            self._qsettings.setValue(f"panels/{p.name}", "shown" if p.wanted else "hidden")
