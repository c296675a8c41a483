"""Writing sprints driven as a student would: the coach (our local Bedrock endpoint's demo coach,
over HTTP) offers one, the student presses Start on its card, the countdown runs on a fake clock,
Pause/+5/Stop on the visible bar, the end notification (window minimised too) and the coach's
reflection question; a restart mid-sprint; a sprint that ended while the app was closed, reported
once; My sprints and the export; the web app's replay reading the conversation."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout
from archpal_desktop.core.sprints import RUNNING_KEY
from archpal_desktop.ui.sprint_controller import END_TITLE
from tests.ui.conftest import save_shot, wait_idle

PLAN = "Can you help me plan a writing session for my introduction?"


class FakeClock:
    """The sprints' clock, and the cache's timestamps too, so the messages around a sprint keep
    their real order: each reading moves it on by a millisecond (never two equal instants)."""

    def __init__(self):
        self.t = datetime.now(timezone.utc).replace(microsecond=0)

    def now(self) -> datetime:
        self.t += timedelta(milliseconds=1)
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


@pytest.fixture
def clock(state, monkeypatch):
    state.clock = FakeClock()
    monkeypatch.setattr(layout, "now_ts", lambda: layout.format_ts(state.clock.now()))
    return state.clock


@pytest.fixture
def spies(monkeypatch):
    """What reached the person: notifications and beeps (recorded, and still shown/played)."""
    seen = {"notify": [], "beep": 0}
    from archpal_desktop.ui.main_window import MainWindow
    original = MainWindow.notify

    def notify(self, title, text):
        seen["notify"].append((title, text, self.isMinimized()))
        return original(self, title, text)
    monkeypatch.setattr(MainWindow, "notify", notify)
    beep = QApplication.beep

    def count_beep():
        seen["beep"] += 1
        beep()
    monkeypatch.setattr(QApplication, "beep", staticmethod(count_beep))
    return seen


def send(qtbot, w, text):
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, text)
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)


def offer_card(w):
    for card in w.chat.cards.values():
        b = card.buttons.get("sprint_start")
        if b is not None and b.isVisible():
            return card
    return None


def menu_action(w, name):
    for act in w.menu_chat.actions():
        if act.objectName() == name:
            return act
    raise AssertionError(name)


def bar_left(w) -> str:
    return w.sprints.bar.left.text()


def sprint_lines(store, cid):
    return [m for m in store.load_messages(cid, with_raw=True) if m.raw.get("metadata", {}).get("sprint")]


def get_offer(qtbot, w, state):
    send(qtbot, w, PLAN)
    qtbot.waitUntil(lambda: offer_card(w) is not None, timeout=8000)
    wait_idle(qtbot, state)
    return offer_card(w)


def test_coach_offers_student_starts_countdown_pause_extend_and_the_end_even_minimised(
        qtbot, make_window, state, bedrock, clock, spies):
    w = make_window()
    card = get_offer(qtbot, w, state)
    assert "Would you like me to set a 25-minute writing sprint" in card.msg.content
    assert not w.sprints.bar.isVisible()          # nothing starts unasked
    assert card.buttons["sprint_decline"].isVisible() and card.buttons["sprint_decline"].text() == "Not now"
    qtbot.mouseClick(card.buttons["sprint_start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.sprints.bar.isVisible() and bar_left(w) == "25:00 left", timeout=5000)
    bar = w.sprints.bar
    assert bar.geometry().height() > 20 and bar.geometry().width() > 300
    assert "Draft your introduction" in bar.title.text()
    assert offer_card(w) is None                                   # answered: its buttons are gone
    cid = w.current_cid
    wait_idle(qtbot, state)
    assert [m.raw["metadata"]["sprint"]["outcome"] for m in sprint_lines(state.store, cid)] == ["proposed", "started"]
    # the chat and the message box stay usable: write during the sprint
    clock.advance(10 * 60)
    qtbot.waitUntil(lambda: bar_left(w) == "15:00 left", timeout=3000)
    assert "left" in w.sprints.tray_text and "15:00" in w.sprints.tray_text
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, "My opening sentence about parks")
    qtbot.waitUntil(lambda: "5 this sprint" in w.composer.words.text(), timeout=3000)
    assert w.composer.edit.hasFocus()
    # pause: the clock runs, the sprint does not
    qtbot.mouseClick(bar.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar_left(w) == "15:00 paused" and bar.pause_button.text() == "Resume", timeout=3000)
    clock.advance(5 * 60)
    qtbot.wait(700)
    assert bar_left(w) == "15:00 paused"
    qtbot.mouseClick(bar.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar_left(w) == "15:00 left", timeout=3000)
    qtbot.mouseClick(bar.extend_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar_left(w) == "20:00 left", timeout=3000)
    # the end, with the window minimised
    w.showMinimized()
    clock.advance(20 * 60 + 1)
    qtbot.waitUntil(lambda: w.sprints.sprint is None and bool(spies["notify"]), timeout=5000)
    wait_idle(qtbot, state)
    assert spies["notify"][0][0] == END_TITLE == "Sprint over: how did it go?"
    assert spies["notify"][0][2] is True       # it fired while the window was minimised
    assert spies["beep"] == 1
    w.showNormal()
    qtbot.waitUntil(lambda: bar.isVisible() and "Sprint over: how did it go?" in bar.title.text(), timeout=3000)
    assert not bar.pause_button.isVisible() and bar.close_button.isVisible()
    last = w.chat.chat_model.last()
    assert last.role == "assistant" and last.content.startswith("Sprint over: how did it go?")
    assert "30 minutes are up" in last.content and "wrote 5 words" in last.content
    assert w.chat.chat_model.row_of(last.message_id) >= 0          # its own row, not an alternative
    assert w.composer.sprint_words is None and "this sprint" not in w.composer.words.text()
    end = sprint_lines(state.store, cid)[-1].raw["metadata"]["sprint"]
    assert end["outcome"] == "completed" and end["minutes"] == 30 and end["words"] == 5
    assert end["started_at"] and end["ended_at"] and end["active_minutes"] == 30.0
    qtbot.mouseClick(bar.close_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()


def test_student_starts_one_from_the_menu_and_stops_it_the_sound_can_be_off(
        qtbot, make_window, state, bedrock, clock, spies):
    w = make_window()
    sound = menu_action(w, "action_sprint_sound")
    assert sound.isChecked()
    sound.trigger()
    assert state.settings[cfg.SPRINT_SOUND] is False
    act = menu_action(w, "action_sprint")
    assert act.text().replace("&", "") == "Start a writing sprint…"
    assert any(s.toString() == "Ctrl+Shift+S" for s in act.shortcuts())
    w.activateWindow()
    w.composer.edit.setFocus()
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_S,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: getattr(w.sprints, "_dialog", None) is not None, timeout=3000)
    dlg = w.sprints._dialog
    qtbot.waitUntil(dlg.isVisible, timeout=3000)
    dlg.minutes.setValue(10)
    qtbot.keyClicks(dlg.goal, "Outline part two")
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar_left(w) == "10:00 left", timeout=5000)
    qtbot.waitUntil(lambda: w.current_cid is not None and w.chat.chat_model.rowCount() == 1,
                    timeout=5000)                          # a conversation was made for it
    clock.advance(130)
    qtbot.waitUntil(lambda: bar_left(w) == "7:50 left", timeout=3000)
    qtbot.mouseClick(w.sprints.bar.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.sprints.sprint is None and bool(spies["notify"]), timeout=5000)
    wait_idle(qtbot, state)
    last = w.chat.chat_model.last()
    assert "You stopped the sprint after 2 minutes" in last.content and "Outline part two" in last.content
    assert last.sprint["outcome"] == "stopped"
    assert spies["beep"] == 0                          # turned off


def test_not_now_is_remembered_and_the_shortcut_is_listed_in_f1(qtbot, make_window, state, bedrock, clock):
    w = make_window()
    card = get_offer(qtbot, w, state)
    qtbot.mouseClick(card.buttons["sprint_decline"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: offer_card(w) is None, timeout=3000)
    wait_idle(qtbot, state)
    assert not w.sprints.bar.isVisible()
    w.close()
    w2 = make_window()
    qtbot.waitUntil(lambda: w2.chat.chat_model.rowCount() == 2, timeout=5000)
    wait_idle(qtbot, state)
    qtbot.wait(100)
    assert offer_card(w2) is None
    from archpal_desktop.ui.shortcuts import ShortcutsDialog
    dlg = ShortcutsDialog(w2)
    labels = [dlg.table.item(r, 0).text() for r in range(dlg.table.rowCount())]
    assert "Start a writing sprint" in labels


def test_a_sprint_survives_a_restart_mid_way(qtbot, make_window, state, bedrock, clock):
    w = make_window()
    card = get_offer(qtbot, w, state)
    qtbot.mouseClick(card.buttons["sprint_start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar_left(w) == "25:00 left", timeout=5000)
    clock.advance(5 * 60)
    qtbot.waitUntil(lambda: bar_left(w) == "20:00 left", timeout=3000)
    w.close()
    wait_idle(qtbot, state)
    clock.advance(4 * 60)
    w2 = make_window()
    qtbot.waitUntil(lambda: w2.sprints.bar.isVisible() and bar_left(w2) == "16:00 left", timeout=5000)
    assert offer_card(w2) is None
    clock.advance(16 * 60)
    qtbot.waitUntil(lambda: w2.sprints.sprint is None, timeout=5000)
    wait_idle(qtbot, state)
    assert w2.chat.chat_model.last().content.startswith("Sprint over: how did it go?")


def test_a_sprint_that_ended_while_closed_is_reported_once(qtbot, make_window, state, bedrock, clock, spies):
    w = make_window()
    menu_action(w, "action_sprint").trigger()
    dlg = w.sprints._dialog
    dlg.minutes.setValue(15)
    qtbot.keyClicks(dlg.goal, "Revise the second paragraph")
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar_left(w) == "15:00 left", timeout=5000)
    # with no conversation open the sprint starts a new one, which the list then opens
    qtbot.waitUntil(lambda: w.current_cid is not None
                    and w.current_cid == w.sprints.sprint.conversation_id, timeout=5000)
    cid = w.current_cid
    w.close()
    wait_idle(qtbot, state)
    clock.advance(3 * 3600)
    w2 = make_window()
    qtbot.waitUntil(lambda: len(spies["notify"]) == 1, timeout=5000)
    wait_idle(qtbot, state)
    assert "ended while ArchPal was closed" in w2.sprints.bar.title.text()
    qtbot.waitUntil(lambda: w2.chat.chat_model.last() is not None
                    and "ended while ArchPal was closed" in w2.chat.chat_model.last().content, timeout=5000)
    end = sprint_lines(state.store, cid)[-1].raw["metadata"]["sprint"]
    started = datetime.fromisoformat(end["started_at"].rstrip("Z"))
    ended = datetime.fromisoformat(end["ended_at"].rstrip("Z"))
    assert (ended - started) == timedelta(minutes=15)      # it ended on time, not at the restart
    assert end["outcome"] == "completed" and end["while_closed"] is True
    assert state.store.kv_get(RUNNING_KEY) is None
    w2.close()
    wait_idle(qtbot, state)
    w3 = make_window()
    wait_idle(qtbot, state)
    qtbot.wait(200)
    assert len(spies["notify"]) == 1 and not w3.sprints.bar.isVisible()
    assert [m.raw["metadata"]["sprint"]["outcome"] for m in sprint_lines(state.store, cid)] == ["started", "completed"]


def test_my_sprints_and_the_export_and_the_web_apps_replay(qtbot, make_window, state, bedrock, clock,
                                                          s3, bucket, sub, tmp_path):
    w = make_window()
    card = get_offer(qtbot, w, state)
    qtbot.mouseClick(card.buttons["sprint_start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar_left(w) == "25:00 left", timeout=5000)
    send(qtbot, w, "Here is my first try at the opening line")
    wait_idle(qtbot, state)
    clock.advance(25 * 60)
    qtbot.waitUntil(lambda: w.sprints.sprint is None, timeout=5000)
    wait_idle(qtbot, state)
    cid = w.current_cid
    # My sprints: this week's minutes and words, per conversation
    menu_action(w, "action_my_sprints").trigger()
    qtbot.waitUntil(lambda: getattr(w.sprints, "_dialog", None) is not None and w.sprints._dialog.isVisible(),
                    timeout=3000)
    dlg = w.sprints._dialog
    table = dlg.table
    assert table.isVisible() and table.rowCount() == 1
    assert [table.item(0, c).text() for c in (1, 2, 3)] == ["1", "25", "9"]
    assert "1 sprint, 25 minutes" in dlg.total.text()
    save_shot(dlg, "sprint_my_sprints")
    dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close).click()
    # the export carries them too
    w.conversation_actions.export_all(str(tmp_path))
    wait_idle(qtbot, state)
    exported = json.loads((tmp_path / "archpal-export" / "sprints.json").read_text())
    assert [(e["conversation_id"], e["minutes"], e["words"], e["outcome"]) for e in exported] == [
        (cid, 25, 9, "completed")]
    # upload, then the web app reads the conversation and writes to it as it always does
    from archpal_desktop.core.aws import static_access
    from archpal_desktop.core.sync import sync_once
    sync_once(state.store, static_access(state.settings, sub), state.settings)
    from tests.support.webapp import WebAppWriter
    web = WebAppWriter(s3, bucket, sub)
    doc = web._get(web._key(cid))
    for m in doc["messages"]:
        assert set(m) == {"message_id", "role", "content", "timestamp", "metadata"}
        assert isinstance(m["content"], str) and m["content"]
        if m["role"] == "assistant":
            assert list(m["metadata"])[:3] == ["model", "course_number", "emotion"]
        assert m["metadata"]["message_index"] == doc["messages"].index(m)
    sprints = [m for m in doc["messages"] if "sprint" in m["metadata"]]
    assert [s["metadata"]["sprint"]["outcome"] for s in sprints] == ["proposed", "started", "completed"]
    assert set(sprints[-1]["metadata"]["sprint"]) >= {"minutes", "goal", "started_at", "ended_at", "outcome", "words"}
    assert web.append(cid, "user", "It went well: I wrote my opening.")
    sync_once(state.store, static_access(state.settings, sub), state.settings)
    texts = [m.content for m in state.store.load_messages(cid)]
    assert "It went well: I wrote my opening." in texts and any(t.startswith("Sprint over") for t in texts)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_screenshots_of_the_offer_the_running_bar_and_the_end(qtbot, make_window, state, bedrock, clock, mode):
    state.theme.set_mode(mode)
    w = make_window()
    card = get_offer(qtbot, w, state)
    for size in ((800, 600), (1920, 1080)):
        w.resize(*size)
        qtbot.wait(150)
        save_shot(w, f"sprint_offer_{mode}_{size[0]}x{size[1]}")
    qtbot.mouseClick(offer_card(w).buttons["sprint_start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bar_left(w) == "25:00 left", timeout=5000)
    clock.advance(7 * 60 + 18)
    qtbot.waitUntil(lambda: bar_left(w) == "17:42 left", timeout=3000)
    qtbot.keyClicks(w.composer.edit, "Parks are where a city breathes")
    for size in ((800, 600), (1920, 1080)):
        w.resize(*size)
        qtbot.wait(150)
        save_shot(w, f"sprint_running_{mode}_{size[0]}x{size[1]}")
    clock.advance(18 * 60)
    qtbot.waitUntil(lambda: w.sprints.sprint is None, timeout=5000)
    wait_idle(qtbot, state)
    for size in ((800, 600), (1920, 1080)):
        w.resize(*size)
        qtbot.wait(150)
        save_shot(w, f"sprint_end_{mode}_{size[0]}x{size[1]}")
    state.theme.set_mode("light")
