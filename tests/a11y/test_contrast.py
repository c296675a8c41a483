"""Contrast from the themes' actual colours (WCAG 2.1 1.4.3, 1.4.11, 2.4.7), both themes and the
high-contrast pair; and the painted focus ring and field borders as they come out on screen."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLineEdit, QPushButton, QVBoxLayout, QWidget

from archpal_desktop.ui import theme

UI = Path(__file__).resolve().parents[2] / "archpal_desktop" / "ui"


def luminance(hex_colour: str) -> float:
    c = QColor(hex_colour)

    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# (what, foreground field, background field, minimum): text 4.5:1; focus ring, field borders 3:1
PAIRS = [
    ("text", "text", "window", 4.5), ("text", "text", "base", 4.5), ("reply text", "text", "reply_bubble", 4.5),
    ("code", "text", "code_bg", 4.5), ("muted text", "muted", "window", 4.5), ("muted text", "muted", "base", 4.5),
    ("bubble meta", "muted", "reply_bubble", 4.5), ("student's text", "user_text", "user_bubble", 4.5),
    ("waiting bubble text", "user_text", "waiting_bubble", 4.5), ("primary button", "accent_text", "accent", 4.5),
    ("error", "error", "window", 4.5), ("error in a form", "error", "base", 4.5),
    ("warning", "warn", "window", 4.5), ("ok", "ok", "window", 4.5), ("link", "link", "reply_bubble", 4.5),
    ("link", "link", "base", 4.5), ("search highlight", "text", "highlight", 4.5),
    ("focus ring on the window", "focus", "window", 3.0), ("focus ring on a field", "focus", "base", 3.0),
    ("focus ring by a reply", "focus", "reply_bubble", 3.0), ("field border", "field_border", "base", 3.0),
    ("invalid field border", "error", "base", 3.0),
    # the message cards: the ring round a reply's words (inside its bubble), round the student's
    # own words (their text colour: the focus colour is too close to their bubble), the card's
    # buttons on the window, a selection inside a reply
    ("focus ring round a reply's text", "focus", "reply_bubble", 3.0),
    ("focus ring round the student's text", "user_text", "user_bubble", 3.0),
    ("focus ring round a waiting message's text", "user_text", "waiting_bubble", 3.0),
    ("message buttons", "text", "window", 4.5), ("selected words in a reply", "text", "highlight", 4.5),
]


@pytest.mark.parametrize("colors", theme.THEMES, ids=lambda c: c.name)
def test_every_pair_meets_its_minimum(colors):
    low = [(what, getattr(colors, fg), getattr(colors, bg), round(ratio(getattr(colors, fg), getattr(colors, bg)), 2))
           for what, fg, bg, least in PAIRS if ratio(getattr(colors, fg), getattr(colors, bg)) < least]
    assert low == []


def test_the_problems_of_the_issue_are_gone():
    # the waiting bubble was the student's bubble at alpha 170 (3.7:1 under white text); the dark
    # sign-in error was a fixed #b3261e on the dark window (2.5:1); the focus ring was the colour
    # of the student's own bubbles (1.0:1)
    assert ratio(theme.LIGHT.user_text, theme.LIGHT.waiting_bubble) >= 4.5
    assert ratio(theme.DARK.error, theme.DARK.window) >= 4.5
    assert theme.LIGHT.focus != theme.LIGHT.user_bubble and theme.DARK.focus != theme.DARK.user_bubble


def test_no_widget_paints_text_in_a_fixed_colour():
    """Colours come from the theme, so both themes (and high contrast) reach every label:
    a fixed ``color: #...`` in a widget's style sheet is what left the dark error at 2.5:1."""
    fixed = []
    for path in sorted(UI.glob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            # a sheet that fixes both its background and its text colour is a pair of its own
            if "setStyleSheet(" in line and re.search(r"(?<!-)color:\s*#[0-9a-fA-F]{3,6}", line) \
                    and "background" not in line:
                fixed.append(f"{path.name}:{n}: {line.strip()}")
    assert fixed == []


def _grab_colours(widget: QWidget) -> set[str]:
    img = widget.grab().toImage()
    return {QColor(img.pixel(x, y)).name() for x in range(0, img.width(), 1) for y in range(0, img.height(), 2)}


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_focus_ring_is_drawn_in_the_focus_colour(qtbot, qapp, mode):
    tm = theme.ThemeManager(qapp, mode)
    try:
        c = tm.colors
        host = QWidget()
        lay = QVBoxLayout(host)
        button, other = QPushButton("Send", host), QLineEdit(host)
        lay.addWidget(other)
        lay.addWidget(button)
        qtbot.addWidget(host)
        host.show()
        qtbot.waitExposed(host)
        other.setFocus()
        qtbot.waitUntil(other.hasFocus)
        assert c.focus in _grab_colours(other)          # a focused field: the ring's colour
        assert c.focus not in _grab_colours(button)     # an unfocused button: no ring
        qtbot.keyClick(other, Qt.Key.Key_Tab)
        qtbot.waitUntil(button.hasFocus)
        assert c.focus in _grab_colours(button)
        assert c.field_border in _grab_colours(other)   # the field it left keeps a visible border
    finally:
        tm.set_mode("light")


def test_high_contrast_follows_the_system(qapp):
    tm = theme.ThemeManager(qapp, "light")
    try:
        # offscreen has no contrast preference: the ordinary theme; the choice itself is the
        # system's (QAccessibilityHints.contrastPreference), read whenever the scheme changes
        assert tm.high_contrast() is False and tm.colors is theme.LIGHT
    finally:
        tm.set_mode("light")
