"""The window on ``--demo`` talks to the coach through the relay (the production path): a reply
arrives and shows; the visible Stop button stops the model call on the server."""
from __future__ import annotations

import json
import logging

from PySide6.QtCore import Qt

from archpal_desktop.cli import build_parser
from archpal_desktop.cli.context import Context
from archpal_desktop.core import config as cfg
from archpal_desktop.localstack.bedrock import Reply
from archpal_desktop.ui import app as ui_app
from archpal_desktop.ui.main_window import MainWindow
from archpal_desktop.ui.tasks import TaskManager


def _relay_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records
            if r.name == "archpal.relay" and r.getMessage().startswith("{")]


def test_demo_window_replies_and_stops_through_the_relay(qtbot, qapp, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="archpal.relay")
    ctx = Context(build_parser().parse_args(["--demo", "--data-dir", str(tmp_path / "demo")]))
    tasks = TaskManager()
    w = None
    try:
        state = ui_app.build_state(ctx, qapp, tasks)
        assert state.settings[cfg.COACH_RELAY_URL] == ctx.demo.relay.url
        w = MainWindow(state)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitUntil(lambda: w.status.state.online is True and not w.sync.running
                        and w.conversations.conv_model.rowCount() >= 1, timeout=30000)
        n = w.conversations.conv_model.rowCount()
        qtbot.mouseClick(w.new_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.conversations.conv_model.rowCount() == n + 1, timeout=5000)
        qtbot.keyClicks(w.composer.edit, "Can you help me outline my essay?")
        qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.chat.chat_model.total == 2
                        and w.chat.chat_model.last().local_state is None, timeout=20000)
        reply = w.chat.chat_model.last()
        assert reply.role == "assistant" and "outline" in reply.content and w.chat.isVisible()
        qtbot.waitUntil(lambda: len(_relay_lines(caplog)) == 1, timeout=5000)
        (line,) = _relay_lines(caplog)
        assert line["sub"] == ctx.demo.sub and line["outcome"] == "ok"
        (req,) = ctx.demo.bedrock.requests
        assert "Demo Student" in req.body["system"][0]["text"]   # the profile the relay read from S3

        ctx.demo.bedrock.script(Reply(text="word " * 400, piece_size=5, delay=0.03))
        qtbot.keyClicks(w.composer.edit, "Tell me everything about outlines")
        qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.composer.stop_button.isVisible() and len(ctx.demo.bedrock.requests) == 2
                        and ctx.demo.bedrock.requests[1].events_sent > 3, timeout=20000)
        qtbot.mouseClick(w.composer.stop_button, Qt.MouseButton.LeftButton)
        slow = ctx.demo.bedrock.requests[1]
        qtbot.waitUntil(lambda: slow.done.is_set(), timeout=10000)
        assert slow.disconnected and not slow.finished
        qtbot.waitUntil(lambda: not w.composer.stop_button.isVisible(), timeout=10000)

        # over today's quota: the student reads why and when, and the message waits
        ctx.demo.relay.reconfigure(student_daily_tokens=1)
        asked = len(ctx.demo.bedrock.requests)
        qtbot.keyClicks(w.composer.edit, "One more question please")
        qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
        # said in the chat, where the reply would have been (no button: nothing to press today)
        qtbot.waitUntil(lambda: w.coach_card.isVisible()
                        and "today's ArchPal time" in w.coach_card.detail.text(), timeout=20000)
        assert "your time" in w.coach_card.detail.text() and not w.coach_card.button.isVisible()
        assert w.chat.chat_model.last().content == "One more question please"
        assert w.chat.chat_model.last().local_state == "waiting"
        assert len(ctx.demo.bedrock.requests) == asked      # and no model call was made
    finally:
        if w is not None:
            w.close()
        qtbot.waitUntil(lambda: not tasks.busy, timeout=20000)
        assert tasks.shutdown()
        ctx.close()
