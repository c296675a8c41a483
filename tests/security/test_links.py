"""Points 12 and 13: the chat view's link rule (https, and mailto with an address and at most a
subject) holds in the PDF and Markdown exports too; a link whose text names another host, or
with user info, shows the real host and asks before opening.

Opening a link goes through QDesktopServices; the tests register Qt's own URL handlers for
https and mailto (QDesktopServices.setUrlHandler) so nothing launches a browser."""
from __future__ import annotations

import pypdf
import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox

from archpal_desktop.core import links
from tests.support.dialogs import answer_message_box
from tests.ui.conftest import wait_idle

EVIL = ("Read <script>alert(1)</script> and <iframe src='https://evil.example/'></iframe>.\n\n"
        "![pixel](https://tracker.example/p.gif?who=student) [local](file:///etc/passwd) "
        "[js](javascript:alert(1)) [data](data:text/html,hi) [smb](smb://host/share) "
        "[plain http](http://example.edu/) [qrc](qrc:/x) [mail](mailto:tutor@example.edu?attach=/etc/passwd) "
        "[guide](https://example.edu/guide) [ask](mailto:tutor@example.edu?subject=Essay)")


class Opened(QObject):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def opened():
    catcher = Opened()
    for scheme in ("https", "mailto", "http", "file"):
        QDesktopServices.setUrlHandler(scheme, catcher, "open")
    yield catcher
    for scheme in ("https", "mailto", "http", "file"):
        QDesktopServices.unsetUrlHandler(scheme)


def _open_conversation(qtbot, make_window, state, text):
    conv = state.store.create_conversation("Links")
    state.store.add_message(conv.conversation_id, "user", "Any sources?")
    state.store.add_message(conv.conversation_id, "assistant", text)
    w = make_window()
    w.conversations.select(conv.conversation_id)
    wait_idle(qtbot, state)
    return w, conv


def _export(qtbot, w, state, monkeypatch, target, key, mods):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.keyClick(w, key, mods)
    qtbot.waitUntil(target.exists, timeout=10000)
    wait_idle(qtbot, state)


def test_pdf_export_keeps_only_https_and_plain_mailto_links(qtbot, make_window, state, tmp_path,
                                                            monkeypatch):
    w, _ = _open_conversation(qtbot, make_window, state, EVIL)
    pdf = tmp_path / "c.pdf"
    _export(qtbot, w, state, monkeypatch, pdf, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    uris = []
    for page in pypdf.PdfReader(str(pdf)).pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action and "/URI" in action:
                uris.append(str(action["/URI"]))
    assert sorted(uris) == ["https://example.edu/guide", "mailto:tutor@example.edu?subject=Essay"]
    text = " ".join("".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages).split())
    assert "local" in text and "plain http" in text  # the words stay, as text


def test_markdown_export_has_no_raw_html_images_or_bad_links(qtbot, make_window, state, tmp_path,
                                                             monkeypatch):
    w, _ = _open_conversation(qtbot, make_window, state, EVIL)
    md = tmp_path / "c.md"
    _export(qtbot, w, state, monkeypatch, md, Qt.Key.Key_E,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    text = md.read_text("utf-8")
    for bad in ("<script", "<iframe", "![", "](file:", "](javascript:", "](data:", "](smb:",
                "](http:", "](qrc:", "attach="):
        assert bad not in text, bad
    assert "[guide](https://example.edu/guide)" in text
    assert "[ask](mailto:tutor@example.edu?subject=Essay)" in text
    assert "&lt;script>alert(1)&lt;/script>" in text  # shown, as text, by any viewer


def _point_of(w, href: str) -> QPoint:
    """Where a person would click to hit the link ``href`` in the chat view."""
    view = w.chat
    for row in range(view.model().rowCount()):
        rect = view.visualRect(view.model().index(row, 0))
        for y in range(rect.top(), rect.bottom(), 2):
            for x in range(rect.left(), rect.right(), 3):
                if view.anchor_at(QPoint(x, y)) == href:
                    return QPoint(x + 1, y)
    raise AssertionError(f"no link to {href} on screen")


def _click(qtbot, w, href):
    qtbot.mouseClick(w.chat.viewport(), Qt.MouseButton.LeftButton, pos=_point_of(w, href))


def test_mailto_with_more_than_a_subject_is_refused(qtbot, make_window, state, opened):
    w, _ = _open_conversation(qtbot, make_window, state,
                              "[tutor](mailto:tutor@example.edu?attach=/etc/passwd) and "
                              "[desk](mailto:desk@example.edu?subject=Essay%20help)")
    _click(qtbot, w, "mailto:tutor@example.edu?attach=/etc/passwd")
    assert opened.urls == []
    assert "not opened" in w.toast.text() and w.toast.isVisible()
    _click(qtbot, w, "mailto:desk@example.edu?subject=Essay%20help")
    assert opened.urls == ["mailto:desk@example.edu?subject=Essay help"]


@pytest.mark.parametrize("text,href", [("https://good.edu", "https://evil.example/login"),
                                       ("the library", "https://good.edu@evil.example/")])
def test_a_deceptive_link_shows_the_real_host_and_asks(qtbot, make_window, state, opened, text, href):
    w, _ = _open_conversation(qtbot, make_window, state, f"See [{text}]({href}).")
    seen: list = []
    answer_message_box(qtbot, QMessageBox.StandardButton.Cancel, seen)
    _click(qtbot, w, href)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert "evil.example" in seen[0][0] and seen[0][1] == Qt.TextFormat.PlainText
    assert opened.urls == []
    answer_message_box(qtbot, QMessageBox.StandardButton.Open, seen)
    _click(qtbot, w, href)
    qtbot.waitUntil(lambda: len(seen) == 2 and bool(opened.urls), timeout=5000)
    assert QUrl(opened.urls[0]).host() == "evil.example"


def test_an_honest_link_opens_at_once(qtbot, make_window, state, opened):
    w, _ = _open_conversation(qtbot, make_window, state,
                              "[example.edu/guide](https://example.edu/guide) and [the guide](https://example.edu/g2)")
    _click(qtbot, w, "https://example.edu/guide")
    _click(qtbot, w, "https://example.edu/g2")
    assert opened.urls == ["https://example.edu/guide", "https://example.edu/g2"]


def test_link_rule():
    assert links.check("https://example.edu/x").verdict == links.OPEN
    assert links.check("mailto:a@example.edu?subject=Hi").verdict == links.OPEN
    for bad in ("mailto:a@example.edu?attach=/etc/passwd", "mailto:a@example.edu?subject=a&body=b",
                "mailto:a@example.edu,b@example.edu", "https://evil.example\\@good.edu/",
                "http://example.edu/", "javascript:alert(1)", "file:///etc/passwd"):
        assert links.check(bad).verdict == links.REFUSE, bad
