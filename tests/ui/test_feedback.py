"""Feedback a student sees (issue 11, broken 1-4, build 7 and 9), driven through the real path:
menu actions from the real menu bar, keys sent with qtbot, clicks on the visible buttons."""
from __future__ import annotations

import json
from pathlib import Path
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit

from archpal_desktop.localstack.bedrock import Reply
from archpal_desktop.ui import a11y
from archpal_desktop.ui.chat_model import MessageRole
from tests.support.dialogs import answer_modal, click_message_box_button
from tests.ui.conftest import save_shot, wait_idle
from tests.ui.test_message_content import button_of


def menu_action(w, text: str) -> QAction:
    """The QAction shown in the window's menu bar with this text (mnemonic '&' ignored)."""
    for top in w.menuBar().actions():
        for act in top.menu().actions():
            if act.text().replace("&", "") == text:
                return act
    raise AssertionError(f"no menu item {text!r}")


def heard(qtbot):
    said: list[str] = []
    a11y.hub().announced.connect(lambda text, _polite: said.append(text))
    return said


def shown_on_screen(widget) -> bool:
    return widget.isVisible() and widget.width() > 100 and widget.height() > 20


def test_copy_shows_a_toast_that_is_seen_heard_and_goes(qtbot, make_window, state):
    conv = state.store.create_conversation("Copying")
    state.store.add_message(conv.conversation_id, "user", "What is a thesis?")
    reply = state.store.add_message(conv.conversation_id, "assistant", "A claim you argue for.")
    w = make_window()
    w.conversations.select(conv.conversation_id)
    wait_idle(qtbot, state)
    said = heard(qtbot)
    qtbot.mouseClick(button_of(qtbot, w, reply, "copy"), Qt.MouseButton.LeftButton)
    toast = w.toast
    assert toast.text() == "Message copied." and shown_on_screen(toast)
    # over the chat pane, inside it, above the composer: where the student is looking
    chat = w.chat.geometry()
    assert chat.contains(toast.geometry().center()) and toast.geometry().bottom() <= chat.bottom()
    assert "Message copied." in said
    for mode in ("light", "dark"):
        state.theme.set_mode(mode)
        qtbot.wait(10)
        for size in ((800, 600), (1920, 1080)):
            w.resize(*size)
            qtbot.wait(20)
            assert shown_on_screen(toast) and w.chat.geometry().contains(toast.geometry())
            save_shot(w, f"toast_copy_{mode}_{size[0]}x{size[1]}")
    state.theme.set_mode("light")
    # the pointer on it holds it; leaving lets it go; the close button hides it at once
    qtbot.mouseMove(toast, toast.rect().center())
    qtbot.waitUntil(lambda: toast.underMouse(), timeout=2000)
    assert not toast.timer.isActive()
    qtbot.mouseMove(w.composer.edit, w.composer.edit.rect().center())
    qtbot.waitUntil(lambda: toast.timer.isActive(), timeout=2000)
    qtbot.mouseClick(toast.close_button, Qt.MouseButton.LeftButton)
    assert not toast.isVisible()
    # and by itself after a few seconds
    qtbot.mouseClick(button_of(qtbot, w, reply, "copy"), Qt.MouseButton.LeftButton)
    assert toast.isVisible()
    qtbot.waitUntil(lambda: not toast.isVisible(), timeout=9000)


def test_a_coach_error_shows_in_the_chat_with_its_action(qtbot, make_window, state, bedrock):
    # the model refuses this account (not retried: an administrator has to act)
    bedrock.script(Reply(http_error="access_denied"),
                   Reply(text="Here is my answer after all.", emotion="hello"))
    w = make_window()
    qtbot.keyClicks(w.composer.edit, "Help me with my outline")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    card = w.coach_card
    qtbot.waitUntil(lambda: card.isVisible(), timeout=30000)
    wait_idle(qtbot, state)
    assert shown_on_screen(card)
    assert "ArchPal could not answer" in card.title.text() and card.detail.text()
    assert "not allowed" in card.detail.text() and "Error" not in card.detail.text()  # words
    assert card.button.text() == "Open settings" and card.button.isVisible()
    # under the conversation, above the composer: where the reply would have been
    assert card.geometry().top() >= w.chat.geometry().bottom() - 1
    assert card.geometry().bottom() <= w.composer.geometry().top() + 1
    assert "Offline" not in w.status.online.text()      # a refusal is not a lost connection
    # a short conversation: the card comes right under the question, not at the pane's foot
    question = w.chat.chat_model.index(w.chat.chat_model.rowCount() - 1)

    def gap() -> int:   # from the question's bottom to the card's top, once the layout settled
        bottom = w.chat.mapTo(w.centralWidget(), w.chat.visualRect(question).bottomLeft()).y()
        return card.mapTo(w.centralWidget(), card.rect().topLeft()).y() - bottom
    qtbot.waitUntil(lambda: 0 <= gap() < 60, timeout=3000)
    # the room left goes under the card: the composer keeps its height, at the pane's foot
    assert w.composer.edit.height() < 120
    assert w.composer.geometry().bottom() >= w.centralWidget().height() - 40
    # and the question says it was not answered (not "answered when a connection is back")
    meta = w.chat.delegate.meta_text(question.data(MessageRole))
    assert "could not answer" in meta and "connection" not in meta
    for mode in ("light", "dark"):
        state.theme.set_mode(mode)
        for size in ((800, 600), (1920, 1080)):
            w.resize(*size)
            qtbot.wait(20)
            assert shown_on_screen(card)
            save_shot(w, f"coach_error_{mode}_{size[0]}x{size[1]}")
    state.theme.set_mode("light")
    # the action opens the settings; once they are closed ArchPal tries again
    from archpal_desktop.ui.settings_dialog import SettingsDialog
    opened: list = []
    answer_modal(qtbot, SettingsDialog, lambda dlg: (opened.append(dlg.windowTitle()), dlg.reject()))
    qtbot.mouseClick(card.button, Qt.MouseButton.LeftButton)
    assert opened
    qtbot.waitUntil(lambda: [m.content for m in w.chat.chat_model.messages()][-1:] ==
                    ["Here is my answer after all."], timeout=15000)
    wait_idle(qtbot, state)
    assert not card.isVisible()
    assert w.chat.maximumHeight() > 10_000     # the chat has the whole pane again


def test_export_all_my_data_from_the_file_menu(qtbot, make_window, state, tmp_path):
    conv = state.store.create_conversation("Exported")
    state.store.add_message(conv.conversation_id, "user", "Keep this safe")
    w = make_window()
    target = tmp_path / "chosen"
    target.mkdir()
    seen: list = []

    def pick(dlg):   # the folder box: the student types the folder and presses Enter
        seen.append(dlg.windowTitle())
        edit = dlg.findChild(QLineEdit, "fileNameEdit")
        edit.setText(str(target))
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    answer_modal(qtbot, QFileDialog, pick)
    menu_action(w, "Export all my data…").trigger()     # triggered(checked=False): no TypeError
    out = target / "archpal-export"
    qtbot.waitUntil(lambda: (out / "conversations.json").exists(), timeout=10000)
    wait_idle(qtbot, state)
    assert seen == ["Export all my data to…"]
    assert json.loads((out / "conversations.json").read_text("utf-8"))[0]["title"] == "Exported"
    assert (out / "conversations" / f"{conv.conversation_id}.json").exists()
    assert (out / "info.json").exists()
    assert w.toast.text() == f"Exported all your data to {out}" and shown_on_screen(w.toast)


def test_every_menu_action_runs_without_an_argument_error(qtbot, make_window, state):
    """Audit of _action: no slot receives triggered()'s checked=False as an argument."""
    w = make_window()
    names = []
    for top in w.menuBar().actions():
        for act in top.menu().actions():
            if not act.isSeparator():
                names.append(act.text())
    assert "Export &all my data…" in names
    # the export-as actions with no open conversation say so in the toast (no TypeError)
    menu_action(w, "Export as Markdown…").trigger()
    assert w.toast.text() == "Open a conversation to export it."


def test_deleting_offers_undo_before_anything_is_written(qtbot, make_window, state, s3, bucket):
    keep = state.store.create_conversation("Keep me")
    state.store.add_message(keep.conversation_id, "user", "An important draft")
    gone = state.store.create_conversation("Really delete")
    state.store.add_message(gone.conversation_id, "user", "Scrap")
    w = make_window()
    w.sync.sync_now("test")
    qtbot.waitUntil(lambda: not w.sync.running and w.status.state.online is True, timeout=15000)
    wait_idle(qtbot, state)
    prefix = f"users/{state.sub}/conversations/"

    def remote_keys():
        return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"users/{state.sub}/")
                .get("Contents", [])}
    assert f"{prefix}{keep.conversation_id}.json" in remote_keys()
    w.conversations.select(keep.conversation_id)
    wait_idle(qtbot, state)
    seen: list = []
    click_message_box_button(qtbot, "Delete", seen)
    menu_action(w, "Delete conversation…").trigger()
    assert seen and "Keep me" in seen[0]
    assert w.conversations.conv_model.conversation(keep.conversation_id) is None   # hidden at once
    toast = w.toast
    assert toast.text() == "Deleted “Keep me”." and toast.action.isVisible() and toast.action.text() == "Undo"
    for mode in ("light", "dark"):
        state.theme.set_mode(mode)
        for size in ((800, 600), (1920, 1080)):
            w.resize(*size)
            qtbot.wait(20)
            assert shown_on_screen(toast) and toast.action.isVisible()
            save_shot(w, f"toast_undo_{mode}_{size[0]}x{size[1]}")
    state.theme.set_mode("light")
    # a sync while the Undo is offered: nothing of the delete reaches S3, the list keeps it hidden
    w.sync.sync_now("test")
    qtbot.waitUntil(lambda: not w.sync.running, timeout=15000)
    wait_idle(qtbot, state)
    assert w.conversations.conv_model.conversation(keep.conversation_id) is None
    qtbot.mouseClick(toast.action, Qt.MouseButton.LeftButton)
    assert w.conversations.conv_model.conversation(keep.conversation_id) is not None
    wait_idle(qtbot, state)
    assert state.store.get_conversation(keep.conversation_id) is not None
    w.sync.sync_now("test")
    qtbot.waitUntil(lambda: not w.sync.running, timeout=15000)
    wait_idle(qtbot, state)
    keys = remote_keys()
    assert f"{prefix}{keep.conversation_id}.json" in keys
    tomb = f"users/{state.sub}/archpal-desktop/tombstones.json"
    assert tomb not in keys or keep.conversation_id not in s3.get_object(Bucket=bucket, Key=tomb)[
        "Body"].read().decode()
    # no Undo: when the toast goes (closed here), the delete is written as before, and synced
    w.conversations.select(gone.conversation_id)
    wait_idle(qtbot, state)
    click_message_box_button(qtbot, "Delete", [])
    menu_action(w, "Delete conversation…").trigger()
    qtbot.mouseClick(toast.close_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, state)
    assert state.store.get_conversation(gone.conversation_id) is None
    w.sync.sync_now("test")
    qtbot.waitUntil(lambda: not w.sync.running, timeout=15000)
    wait_idle(qtbot, state)
    assert f"{prefix}{gone.conversation_id}.json" not in remote_keys()
    assert f"{prefix}{keep.conversation_id}.json" in remote_keys()


def test_rename_box_is_wide_enough_for_a_long_title(qtbot, make_window, state):
    long = "Comparing the narrative voice of three Victorian novels: Middlemarch, Bleak House, Jane Eyre"
    conv = state.store.create_conversation(long)
    w = make_window()
    w.conversations.select(conv.conversation_id)
    wait_idle(qtbot, state)
    widths: list = []

    def look(dlg):
        edit = dlg.findChild(QLineEdit)
        widths.append((edit.width(), edit.fontMetrics().horizontalAdvance(long)))
        save_shot(dlg, "rename_long_title")
        dlg.reject()
    answer_modal(qtbot, QInputDialog, look, name="renameDialog")
    menu_action(w, "Rename conversation…").trigger()
    assert widths and widths[0][0] >= widths[0][1]      # the whole title is in view


# -- the first-run profile form (broken 3) -----------------------------------------------------
def _no_profile_state(settings, tasks, tmp_path, theme_manager):
    import uuid

    from archpal_desktop.core.aws import static_access
    from archpal_desktop.core.cache import Store
    from archpal_desktop.ui.state import AppState
    sub = str(uuid.uuid4())
    store = Store.open_for_user(settings.data_dir(), sub)
    return AppState(settings=settings, store=store, tasks=tasks, sub=sub, email="new@example.edu",
                    access=lambda: static_access(settings, sub), theme=theme_manager)


def test_esc_on_the_first_run_profile_form_says_why_and_comes_back(qtbot, settings, tasks, tmp_path,
                                                                  theme_manager, local_aws):
    from archpal_desktop.ui import app as ui_app
    from archpal_desktop.ui.profile_form import ProfileForm
    state = _no_profile_state(settings, tasks, tmp_path, theme_manager)
    steps: list = []

    def drive(form):
        first = form.inputs["first_name"]
        qtbot.keyClick(first, Qt.Key.Key_Escape)          # Esc: not a quit
        steps.append(("after esc", form.isVisible(), form.why_page.isVisible(), form.form_page.isVisible()))
        for mode in ("light", "dark"):
            theme_manager.set_mode(mode)
            save_shot(form, f"profile_why_{mode}")
        theme_manager.set_mode("light")
        form.close()                                      # the window's close button: still here
        steps.append(("after close", form.isVisible(), form.why_page.isVisible()))
        qtbot.mouseClick(form.back_button, Qt.MouseButton.LeftButton)
        steps.append(("back", form.form_page.isVisible(), form.focusWidget() is first))
        inputs = form.inputs
        qtbot.keyClicks(inputs["first_name"], "Grace")
        qtbot.keyClicks(inputs["last_name"], "Hopper")
        inputs["college_year"].setCurrentIndex(inputs["college_year"].findData("Second Year"))
        qtbot.keyClicks(inputs["major"], "History")
        qtbot.keyClicks(inputs["course_number"], "ENGL 1102")
        qtbot.keyClick(inputs["course_number"], Qt.Key.Key_Return)
    answer_modal(qtbot, ProfileForm, drive)
    try:
        assert ui_app._need_profile(state) is True          # the real startup step
        assert steps[0] == ("after esc", True, True, False)
        assert steps[1] == ("after close", True, True)
        assert steps[2] == ("back", True, True)
        assert state.store.get_profile()["first_name"] == "Grace"
    finally:
        qtbot.waitUntil(lambda: not tasks.busy, timeout=10000)
        state.store.close()


def test_sign_out_from_the_first_run_profile_form(qtbot, settings, tasks, tmp_path, theme_manager,
                                                  local_aws):
    from archpal_desktop.ui import app as ui_app
    from archpal_desktop.ui.profile_form import WHY, ProfileForm
    state = _no_profile_state(settings, tasks, tmp_path, theme_manager)
    said: list = []

    def drive(form):
        qtbot.keyClick(form.inputs["first_name"], Qt.Key.Key_Escape)
        said.append(form.back_button.text() if form.back_button.isVisible() else "")
        qtbot.mouseClick(form.sign_out_button, Qt.MouseButton.LeftButton)
    answer_modal(qtbot, ProfileForm, drive)
    try:
        assert ui_app._need_profile(state) is False   # run_app then signs out (said, chosen)
        assert said == ["Fill in my profile"]
        assert "course" in WHY and state.store.get_profile() is None
    finally:
        qtbot.waitUntil(lambda: not tasks.busy, timeout=10000)
        state.store.close()


# -- only the model unreachable (broken 4) -------------------------------------------------------
def test_model_unreachable_while_sync_is_online_is_said_once_without_flapping(
        qtbot, make_window, state, bedrock, monkeypatch):
    from archpal_desktop.localstack.server import free_port
    from archpal_desktop.ui import coach_state
    for name in bedrock.endpoint_env():          # the model's endpoint refuses; S3 (moto) is up
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(coach_state, "COACH_RETRY_MS", 300)   # several coach retries in the test
    w = make_window()
    online_texts: list[str] = []
    busy: list[bool] = []
    w.sync.state_changed.connect(lambda s: online_texts.append(w.status.online.text()))
    w.replies.busy_changed.connect(busy.append)
    said = heard(qtbot)
    qtbot.keyClicks(w.composer.edit, "Is my thesis arguable?")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.status.coach.isVisible(), timeout=15000)
    qtbot.waitUntil(lambda: not w.sync.running, timeout=15000)
    # Sync now from the menu, twice, and several coach retries meanwhile
    for _ in range(2):
        menu_action(w, "Sync now").trigger()
        qtbot.waitUntil(lambda: not w.sync.running, timeout=15000)
        qtbot.wait(700)
    wait_idle(qtbot, state)
    assert len(w.replies.runner.pending()) == 1           # the question still waits, saved
    assert w.status.online.text() == "● Online"           # sync is online, and says so
    assert not any("Offline" in t for t in online_texts)  # never flapped to Offline
    assert w.status.coach.isVisible() and "can't be reached" in w.status.coach.text()
    assert busy == []                                     # never "writing… [Stop]" with no bubble
    assert not w.composer.stop_button.isVisible() and w.composer.send_button.isVisible()
    assert [m.role for m in w.chat.chat_model.messages()] == ["user"]   # no empty reply bubble
    assert sum(coach_state.UNREACHABLE in s for s in said) == 1          # said once
    assert not w.coach_card.isVisible()     # unreachable is not an error card: it just waits
    save_shot(w, "coach_unreachable_online")
    # the model is back: the next coach retry answers, the note goes
    for name, value in bedrock.endpoint_env().items():
        monkeypatch.setenv(name, value)
    bedrock.script(Reply(text="Yes, it takes a side.", emotion="smile"))
    qtbot.waitUntil(lambda: len(w.chat.chat_model.messages()) == 2, timeout=15000)
    wait_idle(qtbot, state)
    qtbot.waitUntil(lambda: not w.status.coach.isVisible(), timeout=5000)


# -- focus, search keys, window title, one delete shortcut (build 9) ---------------------------------
def test_focus_search_keys_title_and_one_delete_shortcut(qtbot, make_window, state, bedrock):
    from archpal_desktop.ui.shortcuts import SHORTCUTS, ShortcutsDialog
    from PySide6.QtGui import QKeySequence
    for title in ("Alpha essay", "Beta essay"):
        conv = state.store.create_conversation(title)
        state.store.add_message(conv.conversation_id, "user", f"notes on {title}")
    w = make_window()
    assert w.focusWidget() is w.composer.edit               # focus starts in the composer
    assert w.windowTitle().startswith(w.title_label.text()) and w.title_label.text()
    # Esc in the search box clears it; Down enters the results
    w.search_box.setFocus()
    qtbot.keyClicks(w.search_box, "essay")
    qtbot.waitUntil(lambda: w.results.hits_model.rowCount() == 2, timeout=5000)
    qtbot.keyClick(w.search_box, Qt.Key.Key_Down)
    assert w.focusWidget() is w.results and w.results.currentIndex().row() == 0
    w.search_box.setFocus()
    qtbot.keyClick(w.search_box, Qt.Key.Key_Escape)
    assert w.search_box.text() == "" and w.side_stack.currentWidget() is w.conversations
    # the window title follows the open conversation
    beta = next(c for c in w.conversations.conv_model.conversations() if c.title == "Beta essay")
    rect = w.conversations.visualRect(w.conversations.conv_model.index(w.conversations.conv_model.row_of(
        beta.conversation_id)))
    qtbot.mouseClick(w.conversations.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: w.windowTitle() == "Beta essay — ArchPal", timeout=5000)
    # a new conversation named from its first message: the window title too
    bedrock.script(Reply(text="Let's plan it.", emotion="smile"))
    menu_action(w, "New conversation").trigger()
    wait_idle(qtbot, state)
    qtbot.keyClicks(w.composer.edit, "Planning my research paper")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Planning my research paper" in w.windowTitle(), timeout=5000)
    wait_idle(qtbot, state)
    # one delete shortcut: the menu, the F1 list and the README say the same key
    keys = SHORTCUTS["delete"][1]
    assert [k.toString() for k in keys] == ["Del"]
    assert menu_action(w, "Delete conversation…").shortcuts() == keys
    dlg = ShortcutsDialog(w)
    qtbot.addWidget(dlg)
    rows = {dlg.table.item(r, 0).text(): dlg.table.item(r, 1).text() for r in range(dlg.table.rowCount())}
    assert rows["Delete the conversation"] == keys[0].toString(QKeySequence.SequenceFormat.NativeText)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    assert "Delete deletes the conversation" in readme and "Ctrl+Shift+Delete" not in readme


# -- message counts (build 5, second half) ----------------------------------------------------------
def test_list_counts_the_messages_the_chat_shows(qtbot, make_window, state, bedrock):
    from archpal_desktop.ui.conversation_list import ConversationRole  # noqa: F401 - the row's data
    store = state.store

    def fill(title):
        conv = store.create_conversation(title)
        cid = conv.conversation_id
        store.add_message(cid, "user", "Q1")
        for text in ("A1", "A1 again", "A1 a third time"):   # Ask again: one bubble, three answers
            store.add_message(cid, "assistant", text)
        store.add_message(cid, "user", "Q2")
        store.add_message(cid, "assistant", "half a rep", local_state="failed")   # a stopped reply
        store.add_message(cid, "user", "Q3", local_state="waiting")              # queued
        return conv
    opened, other = fill("Opened"), fill("Not opened yet")
    assert store.get_conversation(opened.conversation_id).message_count == 6   # the S3 index's count
    w = make_window()
    model = w.conversations.conv_model

    def row_text(cid):
        return model.data(model.index(model.row_of(cid)), Qt.ItemDataRole.AccessibleTextRole)
    qtbot.waitUntil(lambda: "5 messages" in row_text(other.conversation_id), timeout=5000)
    rect = w.conversations.visualRect(model.index(model.row_of(opened.conversation_id)))
    qtbot.mouseClick(w.conversations.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: w.chat.chat_model.conversation_id == opened.conversation_id, timeout=5000)
    wait_idle(qtbot, state)
    assert len(w.chat.chat_model.shown()) == 5
    assert "5 messages" in row_text(opened.conversation_id)
    # a new question: the row follows what is shown
    bedrock.script(Reply(text="An answer.", emotion="smile"))
    qtbot.keyClicks(w.composer.edit, "Q4")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(w.chat.chat_model.shown()) >= 6, timeout=10000)
    wait_idle(qtbot, state)
    qtbot.waitUntil(lambda: f"{len(w.chat.chat_model.shown())} messages" in row_text(opened.conversation_id),
                    timeout=5000)


def test_delete_key_in_the_composer_edits_text_and_in_the_list_deletes(qtbot, make_window, state):
    from PySide6.QtWidgets import QApplication, QMessageBox
    a = state.store.create_conversation("Alpha")
    state.store.create_conversation("Beta")
    w = make_window()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)   # shortcuts are live
    boxes: list = []
    answer_modal(qtbot, QMessageBox, lambda box: (boxes.append(box.text()), box.reject()))
    w.composer.edit.setFocus()
    qtbot.keyClicks(w.composer.edit, "abc")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Home)
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Delete)
    assert w.composer.edit.toPlainText() == "bc"            # Delete edits the text there
    qtbot.wait(100)
    assert boxes == [] and w.conversations.conv_model.rowCount() == 2
    # in the list, the same key is the menu's Delete: it asks (cancelled here), then nothing is lost
    w.conversations.setFocus()
    qtbot.keyClick(w.conversations, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: len(boxes) == 1, timeout=3000)
    assert "Delete “" in boxes[0]
    wait_idle(qtbot, state)
    assert state.store.get_conversation(a.conversation_id) is not None


def test_undo_delete_from_the_keyboard(qtbot, make_window, state):
    from PySide6.QtWidgets import QApplication
    state.store.create_conversation("Keep")
    conv = state.store.create_conversation("Oops")
    w = make_window()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
    undo = menu_action(w, "Undo delete")
    assert not undo.isEnabled()                       # nothing to undo yet
    w.conversations.setFocus()
    qtbot.waitUntil(lambda: w.conversations.current_id() == conv.conversation_id, timeout=3000)
    click_message_box_button(qtbot, "Delete", [])
    qtbot.keyClick(w.conversations, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() == 1, timeout=3000)
    # the confirmation has gone: the window is active again (the window manager's part offscreen)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w.conversations, timeout=3000)
    assert undo.isEnabled() and "Ctrl+Z" in undo.shortcut().toString()
    qtbot.keyClick(w.conversations, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.conversations.conv_model.conversation(conv.conversation_id) is not None
    assert not undo.isEnabled() and w.toast.text() == "“Oops” is back."
    wait_idle(qtbot, state)
    assert state.store.get_conversation(conv.conversation_id) is not None


def test_the_window_never_imports_the_start_up_module():
    """issue 17 point 6, first step: app.py -> main_window.py -> window_actions.py -> app.py is
    open (the window's account steps live in ui/account.py)."""
    import grimp
    graph = grimp.build_graph("archpal_desktop")
    assert graph.find_shortest_chain(importer="archpal_desktop.ui.main_window",
                                     imported="archpal_desktop.ui.app") is None
    assert graph.find_shortest_chain(importer="archpal_desktop.ui.app",
                                     imported="archpal_desktop.ui.main_window") is not None


def test_a_new_toast_replaces_the_undo_and_the_delete_goes_through(qtbot, make_window, state):
    gone = state.store.create_conversation("Old notes")
    keep = state.store.create_conversation("Current essay")
    reply = state.store.add_message(keep.conversation_id, "assistant", "Keep going.")
    w = make_window()
    w.conversations.select(gone.conversation_id)
    wait_idle(qtbot, state)
    click_message_box_button(qtbot, "Delete", [])
    menu_action(w, "Delete conversation…").trigger()
    assert w.toast.action.isVisible()
    w.conversations.select(keep.conversation_id)
    wait_idle(qtbot, state)
    qtbot.mouseClick(button_of(qtbot, w, reply, "copy"), Qt.MouseButton.LeftButton)
    # one toast at a time: the newest words are shown, the replaced Undo is over (written)
    assert w.toast.text() == "Message copied." and not w.toast.action.isVisible()
    wait_idle(qtbot, state)
    assert state.store.get_conversation(gone.conversation_id) is None
    assert state.store.get_conversation(keep.conversation_id) is not None
    assert not menu_action(w, "Undo delete").isEnabled()
