"""Replies as Markdown, made safe (design section 8).

* The model's text is parsed as GitHub Markdown with HTML switched off (``MarkdownNoHTML``):
  any ``<tag>`` it writes shows as text, never as markup.
* :class:`SafeDocument` loads no resource at all: ``file:``, ``qrc:`` and remote images in a
  reply stay blank, so a reply cannot read a local file or ping a server.
* Links are only followed on the user's click, and only ``https:`` and ``mailto:``
  (:func:`is_openable_link`), outside the app through QDesktopServices.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import (QColor, QDesktopServices, QFont, QTextBlockFormat, QTextCharFormat, QTextCursor,
                           QTextDocument, QTextFormat, QTextOption)

from archpal_desktop.core import links
from archpal_desktop.ui import theme

OPENABLE_SCHEMES = ("https", "mailto")
_FLAGS = (QTextDocument.MarkdownFeature.MarkdownDialectGitHub
          | QTextDocument.MarkdownFeature.MarkdownNoHTML)


class SafeDocument(QTextDocument):
    """A text document that never loads an image, style sheet or any other resource."""

    def loadResource(self, kind: int, url: QUrl):  # noqa: N802 - Qt override
        return None


def _css(c: theme.Colors) -> str:
    return (f"a {{ color: {c.link}; }} "
            f"code {{ background-color: {c.code_bg}; }} "
            f"pre {{ background-color: {c.code_bg}; }} "
            f"th {{ background-color: {c.code_bg}; }} ")


def make_document(text: str, *, markdown: bool, width: float, font: QFont,
                  colors: theme.Colors | None = None) -> SafeDocument:
    colors = colors or theme.current()
    doc = SafeDocument()
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    doc.setDefaultStyleSheet(_css(colors))
    opt = QTextOption()
    opt.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    doc.setDefaultTextOption(opt)
    if markdown:
        doc.setMarkdown(text, _FLAGS)
        if "```" in text or "~~~" in text or "\n    " in text:
            _shade_code_blocks(doc, colors)
    else:
        doc.setPlainText(text)
    doc.setTextWidth(width)
    return doc


def _shade_code_blocks(doc: QTextDocument, colors: theme.Colors) -> None:
    """Qt's Markdown import marks code blocks but gives them no background; add one."""
    fmt = QTextBlockFormat()
    fmt.setBackground(QColor(colors.code_bg))
    block = doc.begin()
    while block.isValid():
        bf = block.blockFormat()
        if bf.hasProperty(QTextFormat.Property.BlockCodeFence) or bf.nonBreakableLines():
            QTextCursor(block).mergeBlockFormat(fmt)
        block = block.next()


def markdown_to_html(text: str) -> str:
    """A reply's Markdown as (safe) HTML, for export: the model's own HTML stays text, and only
    links the chat view would open at once stay links (a PDF cannot ask first); images become
    their alt text."""
    doc = SafeDocument()
    doc.setMarkdown(text, _FLAGS)
    _keep_safe_links(doc)
    return doc.toHtml()


def _keep_safe_links(doc: QTextDocument) -> None:
    cursor = QTextCursor(doc)
    block = doc.begin()
    edits = []
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            if fmt.isImageFormat():
                edits.append((frag.position(), frag.length(), "image", fmt.toImageFormat().name()))
            elif fmt.isAnchor() and links.check(fmt.anchorHref(), _anchor_text(block, fmt)).verdict != links.OPEN:
                edits.append((frag.position(), frag.length(), "anchor", ""))
            it += 1
        block = block.next()
    for pos, length, kind, _name in reversed(edits):
        cursor.setPosition(pos)
        cursor.setPosition(pos + length, QTextCursor.MoveMode.KeepAnchor)
        if kind == "image":
            cursor.insertText("[image]", QTextCharFormat())
        else:
            plain = cursor.charFormat()
            plain.setAnchor(False)
            plain.setAnchorHref("")
            plain.setFontUnderline(False)
            plain.clearForeground()
            cursor.setCharFormat(plain)


def _anchor_text(block, fmt) -> str:
    href, parts = fmt.anchorHref(), []
    it = block.begin()
    while not it.atEnd():
        f = it.fragment()
        if f.charFormat().isAnchor() and f.charFormat().anchorHref() == href:
            parts.append(f.text())
        it += 1
    return "".join(parts)


def anchor_text_at(doc: QTextDocument, point) -> str:
    """The whole text of the link under ``point`` (document coordinates)."""
    pos = doc.documentLayout().hitTest(point, Qt.HitTestAccuracy.FuzzyHit)
    if pos < 0:
        return ""
    cursor = QTextCursor(doc)
    cursor.setPosition(min(pos + 1, doc.characterCount() - 1))
    fmt = cursor.charFormat()
    return _anchor_text(cursor.block(), fmt) if fmt.isAnchor() else ""


def is_openable_link(href: str) -> bool:
    """Could this be followed at all (perhaps after asking)? The rule is core.links'."""
    return links.followable(href)


def open_link(href: str) -> bool:
    """Open ``href`` in the system's browser/mail app if allowed; True if it was opened."""
    if not is_openable_link(href):
        return False
    return QDesktopServices.openUrl(QUrl(href))
