"""Screens a student sees, grabbed (to $ARCHPAL_SHOTS, else a pytest temporary folder) for a human look, with checks on what shows."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from tests.ui.conftest import save_shot, wait_idle


REPLY = """Good question! A strong thesis does three things:

1. **States a claim** someone could disagree with.
2. Names the *reasons* you will develop.
3. Fits in one or two sentences.

| Draft | Problem |
|---|---|
| "Parks are nice." | No claim |
| "Cities should fund parks because they improve health." | Arguable ✔ |

```
Thesis = claim + because + reasons
```
Try writing yours, and I'll ask you questions about it."""


def seed(store, n_conversations=12, long_messages=0):
    convs = []
    for i in range(n_conversations):
        c = store.create_conversation(["Thesis for my urban parks essay", "MLA citation for a website",
                                       "Reflection on peer review", "Outline: climate policy paper",
                                       "Ελληνικά: δοκίμιο", "Исследование: эссе"][i % 6] + (f" #{i}" if i >= 6 else ""))
        store.add_message(c.conversation_id, "user", "How do I write a good thesis for my essay on city parks?")
        store.add_message(c.conversation_id, "assistant", REPLY, emotion=["smile", "point", "success"][i % 3])
        convs.append(c)
    if long_messages:
        c = convs[-1]
        for i in range(long_messages):
            store.add_message(c.conversation_id, "user" if i % 2 == 0 else "assistant",
                              f"Message {i}: " + ("short note" if i % 3 else REPLY), emotion="default")
    return convs


def save(widget, name):
    return save_shot(widget, name)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_main_window_themes(qtbot, make_window, state, mode):
    seed(state.store)
    state.theme.set_mode(mode)
    w = make_window()
    w.conversations.select(state.store.list_conversations()[0].conversation_id)
    wait_idle(qtbot, state)
    qtbot.waitUntil(lambda: w.chat.chat_model.total == 2, timeout=5000)
    img = save(w, f"main_{mode}")
    bg = QColor(img.pixel(w.chat.mapTo(w, w.chat.rect().bottomLeft()).x() + 5,
                          w.chat.mapTo(w, w.chat.rect().bottomLeft()).y() - 5))
    assert (bg.lightness() < 80) == (mode == "dark")
    assert w.conversations.conv_model.rowCount() == 12


def test_follows_system_scheme_live(qtbot, make_window, state, qapp):
    from PySide6.QtCore import Qt
    state.theme.set_mode("system")
    make_window()
    # offscreen has no system scheme to flip; drive the same signal the platform emits
    changes = []
    state.theme.changed.connect(changes.append)
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert len(changes) == 1            # on "system", a scheme change re-applies the look live
    state.theme.set_mode("light")
    changes.clear()
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert changes == []                # an explicit choice is not overridden by the system


def test_long_conversation(qtbot, make_window, state):
    seed(state.store, 3, long_messages=600)
    w = make_window()
    cid = state.store.list_conversations()[0].conversation_id
    w.conversations.select(cid)
    qtbot.waitUntil(lambda: w.chat.chat_model.total > 600, timeout=5000)
    wait_idle(qtbot, state)
    save(w, "long_conversation")
    # the newest message is at the bottom of the view, older ones load when scrolling up
    assert w.chat.verticalScrollBar().value() == w.chat.verticalScrollBar().maximum()
    before = w.chat.chat_model.rowCount()
    w.chat.verticalScrollBar().setValue(0)
    qtbot.waitUntil(lambda: w.chat.chat_model.rowCount() > before, timeout=3000)


def test_settings_dialog(qtbot, make_window, state, tmp_path, monkeypatch):
    from archpal_desktop.core import config as cfg
    from archpal_desktop.ui.settings_dialog import MANAGED, SettingsDialog
    site = Path(os.environ["ARCHPAL_SYSTEM_CONFIG"])
    site.parent.mkdir(parents=True, exist_ok=True)
    site.write_text('[managed]\nanthropic_model = "us.anthropic.claude-site-model"\n')
    state.settings = cfg.load_settings(cli_overrides={cfg.DATA_DIR: str(state.settings.data_dir()),
                                                      cfg.S3_BUCKET_NAME: state.settings[cfg.S3_BUCKET_NAME]})
    w = make_window()
    dlg = w.account.settings_dialog()
    assert isinstance(dlg, SettingsDialog)
    dlg.show()
    assert not dlg.model.isEnabled() and dlg.model.text() == "us.anthropic.claude-site-model"
    assert dlg.model.toolTip() == MANAGED
    dlg.theme.setCurrentIndex(dlg.theme.findData("dark"))
    dlg.interval.setValue(600)
    # Test connection runs in a worker and reports each part in words
    dlg.test_button.click()
    qtbot.waitUntil(lambda: dlg.test_button.isEnabled() and "Coach model" in dlg.test_result.text(),
                    timeout=20000)
    assert "Sign-in" in dlg.test_result.text() and "Cloud storage (S3)" in dlg.test_result.text()
    save(dlg, "settings")
    with qtbot.waitSignal(dlg.applied):
        dlg.save()
    assert state.settings[cfg.THEME] == "dark" and state.settings[cfg.SYNC_INTERVAL_SECONDS] == 600
    assert "sync_interval_seconds = 600" in state.settings.user_file.read_text()
    assert w.sync.timer.interval() == 600_000
    assert w.sync_driver.scheduler.intervals.background == 600   # the one schedule follows it


def test_sign_in_dialog_screen(qtbot, settings):
    from archpal_desktop.ui.auth_dialog import AuthDialog
    dlg = AuthDialog(settings)
    qtbot.addWidget(dlg)
    dlg.resize(460, 420)
    dlg.show()
    save(dlg, "sign_in")
    assert dlg.windowTitle() == "Sign in to ArchPal"


def test_help_and_about(qtbot, make_window, state):
    from archpal_desktop.ui.dialogs import AboutDialog
    from archpal_desktop.ui.shortcuts import ShortcutsDialog
    w = make_window()
    help_dlg = ShortcutsDialog(w)
    qtbot.addWidget(help_dlg)
    labels = [help_dlg.table.item(r, 0).text() for r in range(help_dlg.table.rowCount())]
    for must in ("New conversation", "Search all conversations", "Send the message", "Stop the reply",
                 "Sync now", "Next conversation", "Previous conversation", "Settings"):
        assert must in labels
    about = AboutDialog(state, w)
    qtbot.addWidget(about)
    assert str(state.data_dir) in about.text.text() and "Version" in about.text.text()
    # every action with a shortcut in the table is reachable from the menus
    names = {a.objectName() for a in w.findChildren(type(w.menuBar().actions()[0]))}
    for key in ("new", "search", "sync", "next", "prev", "settings", "stop", "help"):
        assert f"action_{key}" in names


def test_every_control_has_an_accessible_name(qtbot, make_window, state):
    from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QLineEdit, QPlainTextEdit, QWidget
    seed(state.store, 2)
    w = make_window()
    kinds = (QAbstractItemView, QLineEdit, QPlainTextEdit, QAbstractButton)
    controls = [c for c in w.findChildren(QWidget) if isinstance(c, kinds) and c.isVisible()
                and not type(c).__name__.startswith("QScroll")]
    assert len(controls) >= 5
    missing = [f"{type(c).__name__}:{c.objectName()}" for c in controls
               if not c.accessibleName() and not (isinstance(c, QAbstractButton) and c.text())]
    assert not missing
    # Tab walks search -> new -> list -> messages -> composer
    chain, start = [], w.search_box
    start.setFocus()
    cur = start
    for _ in range(5):
        chain.append(cur)
        cur = cur.nextInFocusChain()
        while not (cur.focusPolicy() & cur.focusPolicy().TabFocus) or not cur.isVisible():
            cur = cur.nextInFocusChain()
    assert chain[:4] == [w.search_box, w.new_button, w.conversations, w.chat]
