"""The message cards by keyboard: every part reached with Tab shows a focus ring, in sight, in
both themes and at a small and a large window (pytest-qt, offscreen; screenshots for a look)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QToolButton

from archpal_desktop.ui import theme
from archpal_desktop.ui.message_card import BubbleText
from tests.a11y.test_contrast import ratio
from tests.ui.conftest import (bedrock, bedrock_server, make_window, settings, state, store, sub,  # noqa: F401
                               tasks, theme_manager)

pytestmark = pytest.mark.gui
SHOTS = Path("/work/shots/a11y")
Shift = Qt.KeyboardModifier.ShiftModifier


def colours(widget) -> set[str]:
    img = widget.grab().toImage()
    return {QColor(img.pixel(x, y)).name() for x in range(img.width()) for y in range(img.height())}


def press(qtbot, key, mod=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(QApplication.focusWidget(), key, mod)
    qtbot.wait(30)
    return QApplication.focusWidget()


def in_sight(w, view) -> bool:
    r = QRect(w.mapTo(view.viewport(), w.rect().topLeft()), w.size())
    return w.isVisible() and r.width() > 8 and view.viewport().rect().contains(r)


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("size", [(800, 600), (1920, 1080)], ids=["800x600", "1920x1080"])
def test_every_part_of_a_card_shows_its_focus(qtbot, make_window, state, theme_manager, mode, size):
    c = state.store.create_conversation("Planning my essay")
    state.store.add_message(c.conversation_id, "user", "Help me plan my essay on urban parks")
    state.store.add_message(c.conversation_id, "assistant",
                            "# A plan\n\nStart with **your claim**, then the evidence.\n\n- one\n- two")
    SHOTS.mkdir(parents=True, exist_ok=True)
    w = make_window()
    theme_manager.set_mode(mode)
    colors = theme.current()
    w.resize(*size)
    w.conversations.select(c.conversation_id)
    qtbot.waitUntil(lambda: w.chat.chat_model.rowCount() == 2 and len(w.chat.cards) >= 1)
    w.composer.edit.setFocus()
    qtbot.waitUntil(w.composer.edit.hasFocus)
    # Shift+Tab from the message box: the reply's buttons from the last, then its text
    seen = []
    for _ in range(6):
        f = press(qtbot, Qt.Key.Key_Backtab, Shift)
        seen.append(f.accessibleName())
        assert in_sight(f, w.chat), f"{f.accessibleName()!r} is out of sight at {size}"
        if isinstance(f, QToolButton):
            assert colors.focus in colours(f), f"no focus ring on {f.accessibleName()!r}"
        if isinstance(f, BubbleText):
            assert colors.focus in colours(f), "no focus ring round the reply's text"
            break
    assert seen[:3] == ["Ask again: another answer to the same question", "Copy the reply as Markdown",
                        "Copy the reply"], seen
    assert seen[-1].startswith("ArchPal's reply, ")
    w.grab().save(str(SHOTS / f"card-reply-text-focused-{mode}-{size[0]}x{size[1]}.png"))
    # back to the list, up to the student's message: its card comes, Tab reaches its text, the
    # ring there is the student's text colour (the focus colour is too close to their bubble)
    f = press(qtbot, Qt.Key.Key_Backtab, Shift)
    assert f is w.chat
    press(qtbot, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: w.chat.current_message().role == "user")
    mine = w.chat.current_message().message_id
    qtbot.waitUntil(lambda: w.chat.card(mine) is not None)
    f = press(qtbot, Qt.Key.Key_Tab)
    assert isinstance(f, BubbleText) and f.accessibleName().startswith("Your message, "), f.accessibleName()
    assert in_sight(f, w.chat)
    assert colors.user_text in colours(f) and ratio(colors.user_text, colors.user_bubble) >= 3.0
    w.grab().save(str(SHOTS / f"card-your-text-focused-{mode}-{size[0]}x{size[1]}.png"))
    f = press(qtbot, Qt.Key.Key_Tab)
    assert isinstance(f, QToolButton) and f.accessibleName() == "Copy the message" and in_sight(f, w.chat)
    assert colors.focus in colours(f)
    w.grab().save(str(SHOTS / f"card-your-button-focused-{mode}-{size[0]}x{size[1]}.png"))


def test_the_keyboard_stays_on_the_reply_when_it_is_saved(qtbot, make_window, state, bedrock):
    """Focus on a streaming reply's Stop button; the reply ends and the conversation reloads
    (its cards are rebuilt): the keyboard is on that reply's text, not lost or elsewhere."""
    from archpal_desktop.localstack.bedrock import Reply
    bedrock.script(Reply(text=" ".join(f"word{i}" for i in range(120)), piece_size=8, delay=0.02))
    w = make_window()
    w.composer.edit.setFocus()
    qtbot.waitUntil(w.composer.edit.hasFocus)
    qtbot.keyClicks(w.composer.edit, "Help me plan my essay")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.replies.busy and w.chat.chat_model.last() is not None
                    and w.chat.chat_model.last().local_state == "streaming", timeout=10000)
    reply_id = w.chat.chat_model.last().message_id
    qtbot.waitUntil(lambda: w.chat.card(reply_id) is not None and "stop" in w.chat.card(reply_id).buttons)
    f = press(qtbot, Qt.Key.Key_Backtab, Shift)
    assert isinstance(f, QToolButton) and f.accessibleName() == "Stop the reply", f.accessibleName()
    qtbot.waitUntil(lambda: not w.replies.busy and w.chat.chat_model.message(reply_id) is not None
                    and w.chat.chat_model.message(reply_id).local_state is None, timeout=15000)
    qtbot.wait(200)     # the reload and the rebuilt cards
    f = QApplication.focusWidget()
    assert isinstance(f, BubbleText) and w.chat.card(reply_id) is not None and f is w.chat.card(reply_id).text, \
        (type(f).__name__, f.accessibleName() if f else None)
    assert f.accessibleName().startswith("ArchPal's reply, ") and in_sight(f, w.chat)
