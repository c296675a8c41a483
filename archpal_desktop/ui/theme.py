"""Light and dark looks, and following the system's scheme live.

One :class:`Colors` set per scheme drives the palette, the style sheet and the painted bubbles,
so every surface changes together when the system (or the user) switches.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Colors:
    name: str
    window: str
    base: str
    text: str
    muted: str
    accent: str
    accent_text: str
    user_bubble: str
    user_text: str
    reply_bubble: str
    reply_border: str
    code_bg: str
    warn: str
    error: str
    ok: str
    link: str
    highlight: str


LIGHT = Colors("light", window="#f4f5f8", base="#ffffff", text="#1f2329", muted="#5f6672",
               accent="#3b4a8c", accent_text="#ffffff", user_bubble="#3b4a8c", user_text="#ffffff",
               reply_bubble="#ffffff", reply_border="#d9dce3", code_bg="#f0f1f4", warn="#8a5a00",
               error="#b3261e", ok="#1e7a45", link="#1a56c4", highlight="#ffe9a8")
DARK = Colors("dark", window="#1e1f22", base="#2a2b2f", text="#e8e9ec", muted="#a3a8b3",
              accent="#8ea2ff", accent_text="#11131a", user_bubble="#46579e", user_text="#ffffff",
              reply_bubble="#2f3136", reply_border="#41444b", code_bg="#3a3c42", warn="#f0c060",
              error="#ff8a80", ok="#7ad69c", link="#9ab8ff", highlight="#6b5a1e")


def system_is_dark(app: QGuiApplication | None = None) -> bool:
    app = app or QGuiApplication.instance()
    if app is None:
        return False
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    # unknown (e.g. offscreen): fall back to the palette's window lightness
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def palette_for(c: Colors) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, value in ((role.Window, c.window), (role.Base, c.base), (role.AlternateBase, c.window),
                     (role.Text, c.text), (role.WindowText, c.text), (role.Button, c.base),
                     (role.ButtonText, c.text), (role.Highlight, c.accent),
                     (role.HighlightedText, c.accent_text), (role.ToolTipBase, c.base),
                     (role.ToolTipText, c.text), (role.PlaceholderText, c.muted),
                     (role.Link, c.link), (role.BrightText, c.error)):
        p.setColor(r, QColor(value))
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(c.muted))
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(c.muted))
    p.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor(c.muted))
    return p


def style_sheet(c: Colors) -> str:
    return f"""
    QListView#conversationList {{ background: {c.window}; border: none; }}
    QListView#chatView {{ background: {c.window}; border: none; }}
    QLineEdit, QPlainTextEdit {{ background: {c.base}; color: {c.text};
        border: 1px solid {c.reply_border}; border-radius: 8px; padding: 5px; }}
    QLineEdit:focus, QPlainTextEdit:focus {{ border: 1px solid {c.accent}; }}
    QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled {{ color: {c.muted};
        background: {c.window}; border: 1px dashed {c.reply_border}; }}
    QPushButton {{ padding: 5px 12px; border-radius: 6px; border: 1px solid {c.reply_border};
        background: {c.base}; color: {c.text}; }}
    QPushButton:hover {{ border-color: {c.accent}; }}
    QPushButton:focus {{ border: 2px solid {c.accent}; }}
    QPushButton#primary {{ background: {c.accent}; color: {c.accent_text}; border-color: {c.accent}; }}
    QPushButton:disabled, QPushButton#primary:disabled {{ color: {c.muted}; background: {c.window};
        border-color: {c.reply_border}; }}
    QLabel#muted {{ color: {c.muted}; }}
    QLabel#composerHint {{ color: {c.muted}; }}
    QLabel#statusError {{ color: {c.error}; }}
    QLabel#statusWarn {{ color: {c.warn}; }}
    QLabel#statusOk {{ color: {c.ok}; }}
    QFrame#sidebar {{ background: {c.window}; }}
    QFrame#companionPanel {{ background: {c.window}; }}
    QSplitter::handle {{ background: {c.reply_border}; }}
    QSplitter::handle:horizontal {{ width: 1px; }}
    """


class ThemeManager(QObject):
    """Applies "system" | "light" | "dark" and follows the system while on "system"."""

    changed = Signal(object)  # Colors

    def __init__(self, app: QApplication, mode: str = "system", font_size: int = 0):
        super().__init__(app)
        self._app = app
        self._mode = mode if mode in ("system", "light", "dark") else "system"
        self._font_size = font_size
        self._base_font = QFont(app.font())
        self.colors: Colors = LIGHT
        app.styleHints().colorSchemeChanged.connect(self._system_changed)
        self.apply()

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        self._mode = mode if mode in ("system", "light", "dark") else "system"
        self.apply()

    def set_font_size(self, size: int) -> None:
        self._font_size = int(size or 0)
        self.apply()

    def _system_changed(self, _scheme) -> None:
        if self._mode == "system":
            self.apply()

    def apply(self) -> None:
        if self._mode == "dark":
            dark = True
        elif self._mode == "light":
            dark = False
        else:
            scheme = self._app.styleHints().colorScheme()
            dark = scheme == Qt.ColorScheme.Dark
        self.colors = DARK if dark else LIGHT
        self._app.setStyle("Fusion")
        self._app.setPalette(palette_for(self.colors))
        font = QFont(self._base_font)
        if self._font_size and self._font_size > 5:
            font.setPointSize(self._font_size)
        self._app.setFont(font)
        self._app.setStyleSheet(style_sheet(self.colors))
        log.debug("theme %s (mode %s)", self.colors.name, self._mode)
        self.changed.emit(self.colors)


_current: Colors = LIGHT


def current() -> Colors:
    return _current


def set_current(c: Colors) -> None:
    global _current
    _current = c
