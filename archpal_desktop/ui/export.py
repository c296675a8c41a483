"""One conversation to PDF (Qt's own PDF writer: full Unicode) or Markdown, and printing.

The document is built from the cache in a worker as HTML (each reply's Markdown rendered
through the same safe path as the chat view: the model's HTML stays text, no resource is
loaded) and painted by QPdfWriter / the printer on the UI thread, which Qt requires.
"""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QFile, QIODevice, QMarginsF, QSizeF
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPdfWriter

from archpal_desktop.core import layout, paths
from archpal_desktop.ui import markdown

PDF_FONT = "DejaVu Sans"  # covers Greek, Cyrillic and much more; Qt falls back per glyph anyway


def _when(ts: str) -> str:
    try:
        return layout.parse_ts(ts).astimezone().strftime("%d %b %Y, %H:%M")
    except Exception:  # an odd timestamp from another client must not stop an export
        return ""


def profile_line(profile: dict | None, email: str = "") -> str:
    p = profile or {}
    name = " ".join(x for x in (p.get("first_name"), p.get("last_name")) if x)
    parts = [name, p.get("college_year", ""), p.get("major", ""), p.get("course_number", ""), email]
    return " · ".join(x for x in parts if x)


def conversation_html(title: str, profile: dict | None, messages: list, email: str = "") -> str:
    out = [f"<h1>{html.escape(title)}</h1>"]
    who = profile_line(profile, email)
    if who:
        out.append(f"<p style='color:#555'>{html.escape(who)}</p>")
    out.append("<hr/>")
    for m in messages:
        if m.local_state in ("streaming",):
            continue
        speaker = "You" if m.role == "user" else "ArchPal"
        out.append(f"<p style='color:#3b4a8c'><b>{speaker}</b> &nbsp; "
                   f"<span style='color:#777'>{html.escape(_when(m.timestamp))}</span></p>")
        if m.role == "assistant":
            body = markdown.markdown_to_html(m.content)
            # keep only the body of Qt's generated HTML page
            start, end = body.find("<body"), body.rfind("</body>")
            if start >= 0 and end > start:
                body = body[body.find(">", start) + 1:end]
            out.append(body)
        else:
            out.append("<p>" + html.escape(m.content).replace("\n", "<br/>") + "</p>")
    return "\n".join(out)


def load_conversation(store, cid: str, email: str = "") -> dict:
    """Worker side: everything the export needs, read from the cache."""
    conv = store.get_conversation(cid)
    if conv is None:
        from archpal_desktop.core.errors import NotFoundError
        raise NotFoundError("That conversation no longer exists.")
    messages = store.load_messages(cid)
    profile = store.get_profile()
    return {"title": conv.title, "profile": profile, "messages": messages, "email": email,
            "html": conversation_html(conv.title, profile, messages, email)}


def conversation_markdown(store, cid: str) -> str:
    from archpal_desktop.core import export
    return export.conversation_markdown(store, cid)


def write_markdown(path: Path, text: str) -> None:
    paths.atomic_write(Path(path), text.encode("utf-8"), mode=0o600)


def _document(html_text: str) -> markdown.SafeDocument:
    doc = markdown.SafeDocument()
    font = QFont(PDF_FONT)
    font.setPointSize(10)
    doc.setDefaultFont(font)
    doc.setDefaultStyleSheet("pre, code { background-color: #f0f1f4; } h1 { color: #1f2329; }")
    doc.setHtml(html_text)
    return doc


def write_pdf(path: Path, html_text: str, title: str = "ArchPal conversation") -> None:
    """UI thread (QPdfWriter paints): a few hundred ms even for long conversations.

    Qt writes into the already-open private temporary file (never reopened by name, so a file
    planted in a shared folder cannot receive the PDF); it replaces ``path`` only when complete."""
    with paths.atomic_target(Path(path)) as (fd, _tmp):
        out = QFile()
        if not out.open(fd, QIODevice.OpenModeFlag.WriteOnly, QFile.FileHandleFlag.DontCloseHandle):
            raise OSError(f"Could not write {path}: {out.errorString()}")
        writer = QPdfWriter(out)
        writer.setTitle(title)
        writer.setCreator("ArchPal Desktop")
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        writer.setPageMargins(QMarginsF(18, 18, 18, 18), QPageLayout.Unit.Millimeter)
        writer.setResolution(150)
        doc = _document(html_text)
        rect = writer.pageLayout().paintRectPixels(writer.resolution())
        doc.setPageSize(QSizeF(rect.width(), rect.height()))
        doc.print_(writer)
        del writer  # ends the PDF into the device
        out.close()


def print_conversation(html_text: str, parent=None) -> bool:
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print conversation")
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return False
    _document(html_text).print_(printer)
    return True


def safe_file_name(title: str, ext: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in " -_." else "_" for ch in title).strip(" ._")
    return f"{(keep or 'conversation')[:80]}.{ext}"
