"""Point 11: strings from S3 (a title, an id in a malformed file) are shown as text: the title
label, the sync-error label and its tooltip, the conversation list's tooltip and the delete
confirmation never render markup, so ``<img src="file:///…">`` loads no file."""
from __future__ import annotations

import json
import uuid

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel, QMessageBox

from archpal_desktop.core import layout
from tests.support.dialogs import answer_message_box
from tests.ui.conftest import wait_idle


def _big_image(tmp_path) -> str:
    """A 400x400 picture: a label that loads it grows to its size."""
    img = QImage(400, 400, QImage.Format.Format_RGB32)
    img.fill(QColor("red"))
    path = tmp_path / "probe.png"
    assert img.save(str(path))
    return path.as_uri()


def test_a_markup_title_is_shown_as_text_everywhere(qtbot, make_window, state, tmp_path):
    title = f'<img src="{_big_image(tmp_path)}">Essay'
    conv = state.store.create_conversation(title)
    w = make_window()
    w.conversations.select(conv.conversation_id)
    wait_idle(qtbot, state)
    label = w.title_label
    assert label.isVisible() and label.text() == title
    assert label.textFormat() == Qt.TextFormat.PlainText
    # as tall as the same words set as plain text (the title wraps), far from the 400 px picture
    plain = QLabel(title)
    plain.setTextFormat(Qt.TextFormat.PlainText)
    plain.setWordWrap(label.wordWrap())
    plain.setFont(label.font())
    width = max(label.width(), 1)

    def height(lab) -> int:
        return lab.heightForWidth(width) if lab.wordWrap() else lab.sizeHint().height()
    assert 0 < height(label) == height(plain) < 400, \
        "the label loaded and drew the file"
    index = w.conversations.conv_model.index(w.conversations.conv_model.row_of(conv.conversation_id))
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert "&lt;img" in tip and "<img" not in tip

    seen: list = []
    answer_message_box(qtbot, QMessageBox.StandardButton.Cancel, seen)
    qtbot.keyClick(w.conversations, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    text, fmt = seen[0]
    assert title in text and fmt == Qt.TextFormat.PlainText
    assert state.store.get_conversation(conv.conversation_id) is not None  # cancelled: kept


def test_a_sync_error_quoting_s3_text_is_plain(qtbot, make_window, state, s3, bucket, tmp_path):
    bad_id = f'<img src="{_big_image(tmp_path)}">'
    cid = str(uuid.uuid4())
    ts = layout.format_ts(layout.parse_ts("2026-11-01T10:00:00Z"))
    msg = layout.new_message("user", "hello", message_id=str(uuid.uuid4()), timestamp=ts,
                             course_number="ENGL 1101", message_index=0)
    msg["message_id"] = bad_id
    doc = layout.conversation_doc(cid, state.sub, ts, [msg], ts)
    s3.put_object(Bucket=bucket, Key=layout.conversation_key(state.sub, cid), Body=json.dumps(doc))
    s3.put_object(Bucket=bucket, Key=layout.index_key(state.sub),
                  Body=json.dumps([layout.index_entry(cid, ts, ts, 1, "Planted")]))
    w = make_window()
    with qtbot.waitSignal(w.sync.sync_finished, timeout=30000):
        qtbot.keyClick(w, Qt.Key.Key_F5)
    wait_idle(qtbot, state)
    error = w.status.error
    assert error.isVisible() and "<img" in error.text()
    assert error.textFormat() == Qt.TextFormat.PlainText
    assert error.sizeHint().height() < 100
    assert "&lt;img" in error.toolTip() and "<img" not in error.toolTip()


def test_tray_notifications_escape_markup_on_linux(monkeypatch):
    from archpal_desktop.ui import plain
    monkeypatch.setattr("sys.platform", "linux")
    assert plain.notification('<img src="file:///etc/passwd"> & more') == \
        '&lt;img src="file:///etc/passwd"&gt; &amp; more'
    monkeypatch.setattr("sys.platform", "win32")
    assert plain.notification("<b>x</b>") == "<b>x</b>"
