"""The whole student journey by keyboard alone (pytest-qt, offscreen, the embedded backend).

Every key goes to the widget that has focus, as a keyboard's do; dialogs are answered the same
way (a timer types into whatever modal dialog is up). An application-wide filter fails the test
on any mouse event.
"""
from __future__ import annotations

import types

import boto3
import pytest
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from archpal_desktop.core import config as cfg
from archpal_desktop.core import layout
from archpal_desktop.localstack.bedrock import Reply
from archpal_desktop.localstack.demo import start_demo
from archpal_desktop.ui import app as ui_app
from archpal_desktop.ui.auth_dialog import AuthDialog
from archpal_desktop.ui.auth_sign_out import SignOutDialog
from archpal_desktop.ui.profile_form import ProfileForm
from archpal_desktop.ui.settings_dialog import SettingsDialog
from archpal_desktop.ui.tasks import TaskManager
from tests.a11y.app_main import _focus_new_windows_class

pytestmark = [pytest.mark.gui]

Ctrl, Shift, Alt = (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier,
                    Qt.KeyboardModifier.AltModifier)


class NoMouse(QObject):
    KINDS = {QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
             QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel}

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() in self.KINDS:
            self.seen.append(f"{event.type().name} on {type(obj).__name__}")
        return False


class Keys:
    """A keyboard: keys go to the focus widget (or the active popup menu)."""

    def __init__(self, qtbot):
        self.qtbot = qtbot

    @staticmethod
    def target():
        return (QApplication.activePopupWidget() or QApplication.focusWidget()
                or QApplication.activeModalWidget() or QApplication.activeWindow())

    def press(self, key, mod=Qt.KeyboardModifier.NoModifier) -> None:
        # after a dialog closes the window below takes the keyboard back a moment later (a
        # person waits for it too): wait for it rather than press into nothing
        self.qtbot.waitUntil(lambda: self.target() is not None, timeout=3000)
        target = self.target()
        self.qtbot.keyClick(target, key, mod)

    def type(self, text: str) -> None:
        for ch in text:
            self.qtbot.keyClicks(self.target(), ch)


class Dialogs:
    """Answers modal dialogs by keyboard as they come up: (dialog class, steps(dialog))."""

    def __init__(self):
        self.todo: list = []
        self.done: list[str] = []
        self.timer = QTimer(interval=40)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def expect(self, kind, answer) -> None:
        self.todo.append((kind, answer))

    def _tick(self) -> None:
        dlg = QApplication.activeModalWidget()
        if dlg is None or not self.todo or dlg.property("answered"):
            return
        kind, answer = self.todo[0]
        # a dialog is shown a moment before it is the active window with a focused field: keys
        # typed before that went to the dialog itself and were lost, and exec() never returned
        # (the "hang offscreen": the sign-in dialog waited forever with its fields empty)
        focus = QApplication.focusWidget()
        ready = QApplication.activeWindow() is dlg and focus is not None and (focus is dlg or dlg.isAncestorOf(focus))
        if isinstance(dlg, kind) and dlg.isVisible() and ready:
            dlg.setProperty("answered", True)
            self.todo.pop(0)
            self.done.append(kind.__name__)
            answer(dlg)


def test_the_whole_journey_by_keyboard(qtbot, qapp, tmp_path):
    demo = start_demo(tmp_path / "demo", announce=False)
    tasks = TaskManager()
    keys, dialogs, mouse = Keys(qtbot), Dialogs(), NoMouse()
    qapp.installEventFilter(mouse)
    # offscreen has no window manager: when a dialog closes nothing gives the window below the
    # keyboard back, and every later key went nowhere. The AT-SPI app's stand-in for a window
    # manager does that (and activates a newly shown window), as a desktop would.
    wm = _focus_new_windows_class()(qapp)
    qapp.installEventFilter(wm)
    w = None
    try:
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.delete_object(Bucket=demo.bucket, Key=layout.info_key(demo.sub))   # a new student
        settings = cfg.load_settings(cli_overrides=demo.settings_overrides())

        # -- sign in: focus starts in E-mail; Tab, Enter ---------------------------------------
        def sign_in(dlg):
            keys.type(demo.email)
            keys.press(Qt.Key.Key_Tab)
            keys.type(demo.password)
            keys.press(Qt.Key.Key_Return)
        dialogs.expect(AuthDialog, sign_in)
        sub, email, access, session = ui_app.resolve_user(types.SimpleNamespace(demo=None), settings, tasks)
        assert session.verified

        # -- the profile form: Tab through, the year with the arrow key ------------------------
        def profile(dlg):
            for text in ("Ada", "Lovelace", None, "Mathematics", "ENGL 1101"):
                if text is None:
                    keys.press(Qt.Key.Key_Down)      # the college year: the first one
                else:
                    keys.type(text)
                keys.press(Qt.Key.Key_Tab)
            keys.press(Qt.Key.Key_Return)            # on Save
        dialogs.expect(ProfileForm, profile)
        from archpal_desktop.core.cache import Store
        from archpal_desktop.ui.state import AppState
        store = Store.open_for_user(settings.data_dir(), sub)
        state = AppState(settings=settings, store=store, tasks=tasks, sub=sub, email=email,
                         access=access, auth=session)
        assert ui_app._need_profile(state)
        assert store.get_profile()["first_name"] == "Ada"

        from archpal_desktop.ui.main_window import MainWindow
        w = MainWindow(state)
        qtbot.addWidget(w)
        w.show()
        w.activateWindow()
        qtbot.waitActive(w)
        qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() >= 3 and not w.sync.running,
                        timeout=30000)

        # -- new conversation, send, stop ------------------------------------------------------
        n = w.conversations.conv_model.rowCount()
        keys.press(Qt.Key.Key_N, Ctrl)
        qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() == n + 1 and w.composer.edit.hasFocus())
        demo.bedrock.script(Reply(text=" ".join(f"word{i}" for i in range(400)), piece_size=6, delay=0.02),
                            Reply(text="A **complete** answer.", emotion="success"))
        keys.type("Help me plan my essay")
        keys.press(Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.chat.chat_model.total == 2
                        and len(w.chat.chat_model.last().content) > 30, timeout=10000)
        keys.press(Qt.Key.Key_Escape)                # stop the reply
        qtbot.waitUntil(lambda: not w.replies.busy and w.chat.chat_model.last().local_state == "failed",
                        timeout=10000)

        # -- ask again, from the stopped reply's own card: Shift+Tab back from the message box
        # to its "Ask again" button, Space presses it ----------------------------------------
        stopped_id = w.chat.chat_model.last().message_id
        assert w.chat.delegate.state(w.chat.chat_model.last()) == "stopped"
        reached = []
        for _ in range(10):
            keys.press(Qt.Key.Key_Backtab, Shift)
            focus = QApplication.focusWidget()
            reached.append(focus.accessibleName() if focus is not None else "")
            if reached[-1].startswith("Ask again"):
                break
        assert reached[-1].startswith("Ask again"), reached
        assert w.chat.isAncestorOf(focus) and focus.isVisible() and focus.width() > 0
        keys.press(Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: (m := w.chat.chat_model.last()) is not None and m.message_id != stopped_id
                        and m.content == "A **complete** answer." and m.local_state is None
                        and not w.replies.busy, timeout=10000)
        # both answers are kept: the card offers the switch between them
        assert len(w.chat.chat_model.alternatives(w.chat.chat_model.last())) == 2

        # -- search and open a hit --------------------------------------------------------------
        keys.press(Qt.Key.Key_F, Ctrl)
        assert w.search_box.hasFocus()
        keys.type("urban parks")
        qtbot.waitUntil(lambda: w.results.hits_model.rowCount() >= 1, timeout=5000)
        keys.press(Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.title_label.text() == "Thesis for my urban parks essay", timeout=5000)
        hit_cid = w.current_cid

        # -- rename: to the list (Escape clears the search), F2, type, Enter ---------------------
        keys.press(Qt.Key.Key_A, Ctrl)
        keys.press(Qt.Key.Key_Backspace)             # the list comes back
        keys.press(Qt.Key.Key_Tab)                   # New conversation
        keys.press(Qt.Key.Key_Tab)                   # the conversations
        qtbot.waitUntil(w.conversations.hasFocus)
        assert w.conversations.current_id() == hit_cid

        def rename(dlg):
            keys.press(Qt.Key.Key_A, Ctrl)
            keys.type("Parks thesis, renamed")
            keys.press(Qt.Key.Key_Return)
        dialogs.expect(QInputDialog, rename)
        keys.press(Qt.Key.Key_F2)
        qtbot.waitUntil(lambda: w.conversations.conv_model.conversation(hit_cid).title == "Parks thesis, renamed",
                        timeout=5000)

        # -- delete (and undo, when it exists) --------------------------------------------------
        dialogs.expect(QMessageBox, lambda dlg: keys.press(Qt.Key.Key_D, Alt))   # "&Delete"
        qtbot.waitUntil(w.conversations.hasFocus)
        keys.press(Qt.Key.Key_Delete)
        qtbot.waitUntil(lambda: w.conversations.conv_model.conversation(hit_cid) is None, timeout=5000)
        # the toast offers Undo; Ctrl+Z (Edit > Undo delete) takes it: the conversation is back
        qtbot.waitUntil(lambda: w.toast.isVisible() and "Deleted" in w.toast.text(), timeout=5000)
        keys.press(Qt.Key.Key_Z, Ctrl)
        qtbot.waitUntil(lambda: w.conversations.conv_model.conversation(hit_cid) is not None, timeout=5000)

        # -- export the open conversation as Markdown: Ctrl+Shift+E, a file name, Enter ---------
        target = tmp_path / "journey.md"

        def save_as(dlg):
            keys.press(Qt.Key.Key_A, Ctrl)
            keys.type(str(target))
            keys.press(Qt.Key.Key_Return)
        dialogs.expect(QFileDialog, save_as)
        open_title = w.title_label.text()
        assert open_title
        keys.press(Qt.Key.Key_E, Ctrl | Shift)
        qtbot.waitUntil(lambda: target.exists() and open_title in target.read_text(), timeout=10000)

        # -- export all my data: File (Alt+F), "Export &all my data…" (a), a folder, Enter -----
        folder = tmp_path / "all"
        folder.mkdir()

        def export_here(dlg):
            keys.press(Qt.Key.Key_A, Ctrl)
            keys.type(str(folder))
            keys.press(Qt.Key.Key_Return)
        dialogs.expect(QFileDialog, export_here)
        keys.press(Qt.Key.Key_F, Alt)
        qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=5000)
        keys.press(Qt.Key.Key_A)
        qtbot.waitUntil(lambda: (folder / "archpal-export" / "conversations.json").exists(), timeout=10000)
        qtbot.waitUntil(lambda: w.toast.isVisible() and str(folder) in w.toast.text(), timeout=5000)

        # -- settings: Ctrl+, opens them with focus in the first field; Escape closes ------------
        seen_focus = []
        dialogs.expect(SettingsDialog, lambda dlg: (seen_focus.append(QApplication.focusWidget()),
                                                    keys.press(Qt.Key.Key_Escape)))
        keys.press(Qt.Key.Key_Comma, Ctrl)
        assert dialogs.done[-1] == "SettingsDialog" and seen_focus[0] is not None
        assert seen_focus[0].window().windowTitle() == "Settings"

        # -- sign out: Alt+F opens File, "o" is Sign out; Enter confirms -----------------------
        dialogs.expect(SignOutDialog, lambda dlg: keys.press(Qt.Key.Key_Return))
        keys.press(Qt.Key.Key_F, Alt)
        qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None
                        and QApplication.activePopupWidget().isVisible(), timeout=3000)
        menu = QApplication.activePopupWidget()
        assert "Sign &out" in [a.text() for a in menu.actions()]
        keys.press(Qt.Key.Key_O)                     # runs the sign-out dialog, answered above
        qtbot.waitUntil(lambda: not w.isVisible(), timeout=15000)
        assert not session.signed_in
        assert dialogs.todo == [] and dialogs.done == ["AuthDialog", "ProfileForm", "QInputDialog", "QMessageBox",
                                                       "QFileDialog", "QFileDialog", "SettingsDialog",
                                                       "SignOutDialog"]
        assert mouse.seen == [], "the journey used the mouse"
    finally:
        qapp.removeEventFilter(mouse)
        qapp.removeEventFilter(wm)
        dialogs.timer.stop()
        if w is not None:
            w.close()
        qtbot.waitUntil(lambda: not tasks.busy, timeout=20000)
        assert tasks.shutdown()
        demo.close()
