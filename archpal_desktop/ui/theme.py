"""Light and dark looks, and following the system's scheme live.

One :class:`Colors` set per scheme drives the palette, the style sheet and the painted bubbles,
so every surface changes together when the system (or the user) switches.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
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
    # accessibility (issue 12): the focus ring, >= 3:1 against window, base and reply bubbles;
    # field borders, >= 3:1 against base (WCAG 1.4.11); a waiting message's own bubble colour
    # (a translucent bubble fell to 3.7:1 under its text)
    focus: str = "#1a56c4"
    field_border: str = "#7d8390"
    waiting_bubble: str = "#56659f"


LIGHT = Colors("light", window="#f4f5f8", base="#ffffff", text="#1f2329", muted="#5f6672",
               accent="#3b4a8c", accent_text="#ffffff", user_bubble="#3b4a8c", user_text="#ffffff",
               reply_bubble="#ffffff", reply_border="#d9dce3", code_bg="#f0f1f4", warn="#8a5a00",
               error="#b3261e", ok="#1e7a45", link="#1a56c4", highlight="#ffe9a8",
               focus="#1a56c4", field_border="#7d8390", waiting_bubble="#56659f")
DARK = Colors("dark", window="#1e1f22", base="#2a2b2f", text="#e8e9ec", muted="#a3a8b3",
              accent="#8ea2ff", accent_text="#11131a", user_bubble="#46579e", user_text="#ffffff",
              reply_bubble="#2f3136", reply_border="#41444b", code_bg="#3a3c42", warn="#f0c060",
              error="#ff8a80", ok="#7ad69c", link="#9ab8ff", highlight="#6b5a1e",
              focus="#ffd166", field_border="#80868f", waiting_bubble="#3a4782")
# the system's high-contrast preference (QAccessibilityHints.contrastPreference): black on white
# and white on black, every pair far above 7:1
HIGH_CONTRAST_LIGHT = Colors(
    "high-contrast-light", window="#ffffff", base="#ffffff", text="#000000", muted="#303030",
    accent="#00007a", accent_text="#ffffff", user_bubble="#00007a", user_text="#ffffff",
    reply_bubble="#ffffff", reply_border="#000000", code_bg="#f0f0f0", warn="#6b3f00",
    error="#9c0000", ok="#005a1e", link="#0000c8", highlight="#ffff00", focus="#c00060",
    field_border="#000000", waiting_bubble="#303070")
HIGH_CONTRAST_DARK = Colors(
    "high-contrast-dark", window="#000000", base="#000000", text="#ffffff", muted="#e0e0e0",
    accent="#ffff00", accent_text="#000000", user_bubble="#1a1a5e", user_text="#ffffff",
    reply_bubble="#000000", reply_border="#ffffff", code_bg="#1c1c1c", warn="#ffd75e",
    error="#ff9e9e", ok="#7dff9e", link="#7fd4ff", highlight="#5e4d00", focus="#00ffff",
    field_border="#ffffff", waiting_bubble="#2e2e6e")
THEMES = (LIGHT, DARK, HIGH_CONTRAST_LIGHT, HIGH_CONTRAST_DARK)


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
    QListView#conversationList {{ background: {c.window}; border: 2px solid transparent; }}
    QListView#chatView {{ background: {c.window}; border: 2px solid transparent; }}
    QListView#conversationList:focus, QListView#chatView:focus {{ border: 2px solid {c.focus}; }}
    QLineEdit, QPlainTextEdit {{ background: {c.base}; color: {c.text};
        border: 1px solid {c.field_border}; border-radius: 8px; padding: 5px; }}
    QLineEdit:focus, QPlainTextEdit:focus {{ border: 2px solid {c.focus}; padding: 4px; }}
    QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border: 2px solid {c.error};
        padding: 4px; }}
    QLineEdit[invalid="true"]:focus {{ border: 3px solid {c.error}; padding: 3px; }}
    QComboBox:focus, QSpinBox:focus, QToolButton:focus {{ border: 2px solid {c.focus};
        border-radius: 4px; }}
    QCheckBox:focus, QRadioButton:focus {{ border: 2px solid {c.focus}; border-radius: 4px; }}
    QListView:focus, QTreeView:focus, QTableView:focus, QTextBrowser:focus {{
        border: 2px solid {c.focus}; }}
    QLabel[a11yError="true"] {{ color: {c.error}; }}
    QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled {{ color: {c.muted};
        background: {c.window}; border: 1px dashed {c.reply_border}; }}
    QPushButton {{ padding: 5px 12px; border-radius: 6px; border: 1px solid {c.reply_border};
        background: {c.base}; color: {c.text}; }}
    QPushButton:hover {{ border-color: {c.accent}; }}
    QPushButton:focus {{ border: 2px solid {c.focus}; }}
    QPushButton#primary {{ background: {c.accent}; color: {c.accent_text}; border-color: {c.accent}; }}
    QPushButton#primary:focus {{ border: 3px solid {c.focus}; }}
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

    @property
    def font_size(self) -> int:
        """The chosen text size in points; 0 is the system's size."""
        return self._font_size if self._font_size > 5 else 0

    def point_size(self) -> float:
        """The text size in effect now, in points."""
        return float(self._font_size) if self._font_size > 5 else system_point_size(self._base_font)

    def zoomed(self, step: int) -> int:
        """The size one zoom step up (``step`` > 0) or down from now; 0 for ``step`` 0 (the
        system's size). Steps follow :data:`ZOOM_SIZES` and stop at its ends."""
        if step == 0:
            return 0
        now = self.point_size()
        if step > 0:
            return next((z for z in ZOOM_SIZES if z > now + 0.01), ZOOM_SIZES[-1])
        return next((z for z in reversed(ZOOM_SIZES) if z < now - 0.01), ZOOM_SIZES[0])

    def high_contrast(self) -> bool:
        """The system asks for high contrast (GNOME/KDE/Windows/macOS setting, Qt 6.10+)."""
        # read afresh each time: PySide 6.12 invalidates the hints' wrapper once a signal of it is
        # connected, so the window re-reads this whenever the system's scheme changes instead
        try:
            pref = self._app.styleHints().accessibility().contrastPreference()
        except (AttributeError, RuntimeError):   # Qt < 6.10 has no contrast preference
            return False
        return pref == Qt.ContrastPreference.HighContrast

    def _system_changed(self, _scheme) -> None:
        if self._mode == "system" or self.high_contrast() != self.colors.name.startswith("high"):
            self.apply()

    def apply(self) -> None:
        if self._mode == "dark":
            dark = True
        elif self._mode == "light":
            dark = False
        else:
            scheme = self._app.styleHints().colorScheme()
            dark = scheme == Qt.ColorScheme.Dark
        if self.high_contrast():
            self.colors = HIGH_CONTRAST_DARK if dark else HIGH_CONTRAST_LIGHT
        else:
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


#: the text sizes zoom steps through (points), about 10% apart like a browser's zoom
ZOOM_SIZES = (7, 8, 9, 10, 11, 12, 13, 14, 16, 18, 20, 22, 24, 28, 32)
#: the conversation title's size against the body text, kept whatever the text size
TITLE_SCALE = 1.25


def system_point_size(font: QFont) -> float:
    size = font.pointSizeF()
    if size <= 0:   # a pixel-sized system font: its size in points at 96 dpi
        size = font.pixelSize() * 72 / 96
    return size


def scaled(font: QFont, factor: float, *, bold: bool | None = None) -> QFont:
    """``font`` at ``factor`` times its size (a title, a caption): recomputed from the current
    application font whenever it changes, so every size scales together."""
    out = QFont(font)
    out.setPointSizeF(max(6.0, system_point_size(font) * factor))
    if bold is not None:
        out.setBold(bold)
    return out


_current: Colors = LIGHT


def current() -> Colors:
    return _current


def set_current(c: Colors) -> None:
    global _current
    _current = c
