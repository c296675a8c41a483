"""Export (PDF with non-Latin text, Markdown), safe Markdown, and offline -> back online."""
from __future__ import annotations


import pypdf
from PySide6.QtCore import Qt

from archpal_desktop.localstack.bedrock import Reply
from archpal_desktop.ui import markdown
from tests.ui.conftest import save_shot, wait_idle

GREEK = "Η γραφή είναι σκέψη"
CYRILLIC = "Письмо — это мышление"


def test_export_pdf_and_markdown_with_unicode(qtbot, make_window, state, tmp_path):
    conv = state.store.create_conversation("Ελληνικά and русский")
    state.store.add_message(conv.conversation_id, "user", f"My thesis: {GREEK}")
    state.store.add_message(conv.conversation_id, "assistant", f"**Good start.** {CYRILLIC}\n\n- point one",
                            emotion="smile")
    w = make_window()
    w.conversations.select(conv.conversation_id)
    wait_idle(qtbot, state)
    pdf, md = tmp_path / "out.pdf", tmp_path / "out.md"
    w.conversation_actions.export_conversation(conv.conversation_id, "pdf", str(pdf))
    w.conversation_actions.export_conversation(conv.conversation_id, "md", str(md))
    qtbot.waitUntil(lambda: pdf.exists() and md.exists(), timeout=10000)
    wait_idle(qtbot, state)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(str(pdf)).pages)
    flat = " ".join(text.split())
    assert GREEK in flat and CYRILLIC in flat
    assert "Ada Lovelace" in flat and "Mathematics" in flat      # the profile header
    assert "Ελληνικά and русский" in flat and "point one" in flat
    assert "?" not in flat       # the web export turned non-Latin letters into "?"
    mtext = md.read_text("utf-8")
    assert GREEK in mtext and CYRILLIC in mtext and "**Good start.**" in mtext


def test_replies_render_markdown_safely(qtbot, make_window, state, monkeypatch):
    conv = state.store.create_conversation("Safety")
    evil = ("<b>not bold</b> <img src='file:///etc/passwd'> ![x](https://tracker.example/p.png)\n\n"
            "[local](file:///etc/passwd) [web](https://example.edu/guide) [js](javascript:alert(1))\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode block\n```")
    state.store.add_message(conv.conversation_id, "assistant", evil)
    w = make_window()
    w.conversations.select(conv.conversation_id)
    wait_idle(qtbot, state)
    msg = w.chat.chat_model.messages()[0]
    doc = w.chat.delegate.document(msg, w.chat.viewport().width())
    plain = doc.toPlainText()
    assert "<b>not bold</b>" in plain            # the model's HTML is shown as text
    assert "code block" in plain and "1" in plain
    html = doc.toHtml()
    assert "<table" in html                      # tables render
    loaded = []
    monkeypatch.setattr(type(doc), "loadResource", lambda self, kind, url: loaded.append(url.toString()))
    assert markdown.is_openable_link("https://example.edu/guide")
    assert markdown.is_openable_link("mailto:tutor@example.edu")
    for bad in ("file:///etc/passwd", "javascript:alert(1)", "http://example.edu", "qrc:/x"):
        assert not markdown.is_openable_link(bad)
    # clicking a refused link opens nothing and says so; QDesktopServices is replaced so the
    # test never launches a browser (no local stand-in for the desktop's URL handler)
    opened = []
    monkeypatch.setattr(markdown.QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    refused = []
    w.chat.link_refused.connect(refused.append)
    assert not w.chat.activate_link("file:///etc/passwd")
    assert w.chat.activate_link("https://example.edu/guide")
    assert refused == ["file:///etc/passwd"] and [u.toString() for u in opened] == ["https://example.edu/guide"]
    assert SafeDocumentLoadsNothing()


def SafeDocumentLoadsNothing() -> bool:
    from PySide6.QtCore import QUrl
    doc = markdown.SafeDocument()
    return doc.loadResource(2, QUrl("file:///etc/passwd")) is None


def test_offline_then_back_online(qtbot, make_window, state, bedrock, local_aws, monkeypatch):
    from archpal_desktop.localstack.server import free_port
    live_s3 = local_aws.endpoint_env()
    live_bedrock = bedrock.endpoint_env()
    dead = f"http://127.0.0.1:{free_port()}"
    for name in list(live_s3) + list(live_bedrock):
        monkeypatch.setenv(name, dead)
    w = make_window()
    w.sync.sync_now("test")
    qtbot.waitUntil(lambda: w.status.state.online is False, timeout=15000)
    wait_idle(qtbot, state, 15000)
    assert "Offline" in w.status.online.text()
    assert w.status.action.isVisible() and w.status.action.text() == "Try again"
    # writing offline: saved at once, marked waiting, nothing lost
    qtbot.keyClicks(w.composer.edit, "Written on the train")
    qtbot.keyClick(w.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.chat.chat_model.total == 1, timeout=5000)
    wait_idle(qtbot, state, 15000)
    msg = w.chat.chat_model.messages()[0]
    assert msg.local_state == "waiting"
    assert "Offline" in w.composer.hint.text()
    assert w.status.pending.isVisible() and "waiting to upload" in w.status.pending.text()
    save_shot(w, "offline_waiting")
    # the network is back
    for name, value in {**live_s3, **live_bedrock}.items():
        monkeypatch.setenv(name, value)
    bedrock.script(Reply(text="Welcome back! Let's look at it.", emotion="hello"))
    qtbot.mouseClick(w.status.action, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.status.state.online is True and w.chat.chat_model.total == 2, timeout=15000)
    wait_idle(qtbot, state, 15000)
    qtbot.waitUntil(lambda: not w.sync.running, timeout=15000)
    msgs = w.chat.chat_model.messages()
    assert msgs[0].local_state is None and msgs[1].content == "Welcome back! Let's look at it."
    assert "Online" in w.status.online.text()
    assert not w.status.error.isVisible()


def test_print_goes_through_the_system_dialog(qtbot, make_window, state, tmp_path):
    """Ctrl+P opens the print dialog; the student picks a destination (here Qt's own
    print-to-PDF, as no printer exists offscreen) and accepts; the pages carry the text."""
    from PySide6.QtCore import QTimer
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter
    from PySide6.QtWidgets import QApplication

    conv = state.store.create_conversation("Printing")
    state.store.add_message(conv.conversation_id, "user", f"Print this: {GREEK}")
    w = make_window()
    w.conversations.select(conv.conversation_id)
    wait_idle(qtbot, state)
    target = tmp_path / "printed.pdf"
    seen = []

    def answer_dialog():
        dialog = next((d for d in QApplication.topLevelWidgets()
                       if isinstance(d, QPrintDialog) and d.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(50, answer_dialog)
            return
        seen.append(dialog.windowTitle())
        printer = dialog.printer()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        dialog.done(QPrintDialog.DialogCode.Accepted)

    QTimer.singleShot(50, answer_dialog)
    w.conversation_actions.print_conversation()
    qtbot.waitUntil(lambda: target.exists() and target.stat().st_size > 0, timeout=10000)
    wait_idle(qtbot, state)
    assert seen == ["Print conversation"]
    text = " ".join("".join(p.extract_text() for p in pypdf.PdfReader(str(target)).pages).split())
    assert GREEK in text and "Printing" in text
