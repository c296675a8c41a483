"""`archpal-desktop --demo`: the window opens signed in to the demo account (real Cognito sign-in
on the embedded backend), pulls the seeded history, and the demo coach answers."""
from __future__ import annotations

from PySide6.QtCore import Qt

from archpal_desktop.cli import build_parser
from archpal_desktop.cli.context import Context
from archpal_desktop.ui import app as ui_app
from archpal_desktop.ui.main_window import MainWindow
from archpal_desktop.ui.tasks import TaskManager


def test_demo_window_signed_in_with_history(qtbot, qapp, tmp_path):
    ctx = Context(build_parser().parse_args(["--demo", "--data-dir", str(tmp_path / "demo")]))
    tasks = TaskManager()
    w = None
    try:
        state = ui_app.build_state(ctx, qapp, tasks)
        assert state.auth is not None and state.auth.verified
        assert state.sub == ctx.demo.sub and state.email == ctx.demo.email
        assert ui_app._need_profile(state)          # the seeded info.json skips the form
        assert state.store.get_profile()["first_name"]
        w = MainWindow(state)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitUntil(lambda: w.status.state.online is True and not w.sync.running
                        and w.conversations.conv_model.rowCount() >= 1, timeout=30000)
        assert "Online" in w.status.online.text()
        assert w.status.last.text().startswith("Synced")
        n = w.conversations.conv_model.rowCount()
        qtbot.mouseClick(w.new_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() == n + 1, timeout=5000)
        qtbot.keyClicks(w.composer.edit, "Can you help me outline my essay?")
        qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
        flashes = []
        w.status_message.connect(flashes.append)
        try:
            qtbot.waitUntil(lambda: w.chat.chat_model.total == 2
                            and w.chat.chat_model.last().local_state is None, timeout=20000)
        except Exception:
            raise AssertionError(f"{[(m.role, m.content[:40], m.local_state) for m in w.chat.chat_model.messages()]} {flashes} cur={w.current_cid} shown={w.chat.chat_model.conversation_id} convs={[(c.conversation_id[:8], c.title, c.message_count) for c in w.conversations.conv_model.conversations()]}")
        assert w.chat.chat_model.last().role == "assistant" and w.chat.chat_model.last().content
    finally:
        if w is not None:
            w.close()
        qtbot.waitUntil(lambda: not tasks.busy, timeout=20000)
        assert tasks.shutdown()
        ctx.close()
