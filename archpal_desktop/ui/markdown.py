"""Replies as Markdown, made safe (design section 8).

* The model's text is parsed as GitHub Markdown with HTML switched off (``MarkdownNoHTML``):
  any ``<tag>`` it writes shows as text, never as markup.
* :class:`SafeDocument` loads no resource at all: ``file:``, ``qrc:`` and remote images in a
  reply stay blank, so a reply cannot read a local file or ping a server.
* Links are only followed on the user's click, and only ``https:`` and ``mailto:``
  (:func:`is_openable_link`), outside the app through QDesktopServices.

Qt's Markdown import needs three repairs (checked in tests/ui/test_message_content.py): a task
list's check mark leaks onto the blocks after the list, block quotes get only an indent, and a
table's header row is not marked. Code blocks get a background and Pygments colours
(:mod:`~archpal_desktop.ui.code_blocks`). Very long content is shown in part
(:func:`display_source`): laying out a 1 MB line takes Qt seconds on the UI thread.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from dataclasses import dataclass, field

from PySide6.QtGui import (QColor, QDesktopServices, QFont, QTextBlockFormat, QTextCharFormat, QTextCursor,
                           QTextDocument, QTextFormat, QTextOption, QTextTable)

from archpal_desktop.core import attachments, links
from archpal_desktop.ui import theme

#: characters laid out in a bubble; the rest is one click away ("Show all")
DISPLAY_LIMIT = 6_000   # ~1.5 ms to lay out even as one unbroken line (12,000: ~8 ms)

_FLAGS = (QTextDocument.MarkdownFeature.MarkdownDialectGitHub
          | QTextDocument.MarkdownFeature.MarkdownNoHTML)


@dataclass
class Source:
    """What a bubble lays out for a message's content."""

    text: str
    truncated: bool = False
    attachments: list[tuple[str, str]] = field(default_factory=list)   # (file name, its text)


def display_source(content: str, *, limit: int = DISPLAY_LIMIT) -> Source:
    """Attached drafts become one line each (opened on request); long text is cut at ``limit``."""
    found: list[tuple[str, str]] = []
    text = content
    if "📎" in content[:limit * 4]:
        pieces = []
        for kind, a, b in attachments.split_blocks(content):
            if kind == "attachment":
                found.append((a, b))
                words = attachments.count_words(b)
                pieces.append(f"Attached: {a} · {words:,} word{'s' if words != 1 else ''}")
            else:
                pieces.append(a)
        text = "".join(pieces)
    if len(text) > limit:
        cut = text.rfind(" ", limit - 200, limit)
        return Source(text[:cut if cut > 0 else limit] + " …", True, found)
    return Source(text, False, found)


class SafeDocument(QTextDocument):
    """A text document that never loads an image, style sheet or any other resource."""

    code_blocks: list = []   # set per document by make_document (where the "Copy code" buttons go)

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
    doc.code_blocks = []
    if markdown:
        doc.setMarkdown(text, _FLAGS)
        _repair(doc, colors)
        if "```" in text or "~~~" in text or "\n    " in text:
            _code_blocks(doc, colors)
    else:
        doc.setPlainText(text)
    doc.setTextWidth(width)
    return doc


def _is_code(block) -> bool:
    bf = block.blockFormat()
    return bf.hasProperty(QTextFormat.Property.BlockCodeFence) or bf.nonBreakableLines()


def _repair(doc: QTextDocument, colors: theme.Colors) -> None:
    quote = QTextBlockFormat()
    quote.setBackground(QColor(colors.code_bg))
    quote.setLeftMargin(12)
    quote.setRightMargin(0)
    quote_chars = QTextCharFormat()
    quote_chars.setForeground(QColor(colors.muted))
    quote_chars.setFontItalic(True)
    block = doc.begin()
    while block.isValid():
        bf = block.blockFormat()
        if bf.marker() != QTextBlockFormat.MarkerType.NoMarker and block.textList() is None:
            fix = QTextBlockFormat()
            fix.setMarker(QTextBlockFormat.MarkerType.NoMarker)
            QTextCursor(block).mergeBlockFormat(fix)
        if bf.hasProperty(QTextFormat.Property.BlockQuoteLevel) and bf.intProperty(
                QTextFormat.Property.BlockQuoteLevel) > 0:
            cur = QTextCursor(block)
            cur.mergeBlockFormat(quote)
            cur.select(QTextCursor.SelectionType.BlockUnderCursor)
            cur.mergeCharFormat(quote_chars)
        block = block.next()
    for frame in doc.rootFrame().childFrames():
        if isinstance(frame, QTextTable) and frame.rows():
            _table_header(frame, colors)


def _table_header(table: QTextTable, colors: theme.Colors) -> None:
    fmt = table.format()
    fmt.setHeaderRowCount(1)
    fmt.setBorderCollapse(True)
    fmt.setBorder(1)
    fmt.setBorderBrush(QColor(colors.reply_border))
    fmt.setCellPadding(4)
    table.setFormat(fmt)
    bold = QTextCharFormat()
    bold.setFontWeight(QFont.Weight.Bold)
    normal = QTextCharFormat()
    normal.setFontWeight(QFont.Weight.Normal)
    flat = QTextBlockFormat()   # the first cell inherits the paragraph's margins: line them all up
    flat.setTopMargin(0)
    flat.setBottomMargin(0)
    for row in range(table.rows()):
        for col in range(table.columns()):
            cell = table.cellAt(row, col)
            cur = cell.firstCursorPosition()
            cur.setPosition(cell.lastCursorPosition().position(), QTextCursor.MoveMode.KeepAnchor)
            cur.mergeCharFormat(bold if row == 0 else normal)
            cur.mergeBlockFormat(flat)
            if row == 0:
                cf = cell.format()
                cf.setBackground(QColor(colors.code_bg))
                cell.setFormat(cf)


def _code_blocks(doc: QTextDocument, colors: theme.Colors) -> None:
    """Qt's Markdown import marks code blocks but gives them no background or colours; add both."""
    from archpal_desktop.ui import code_blocks
    fmt = QTextBlockFormat()
    fmt.setBackground(QColor(colors.code_bg))
    blocks = code_blocks.find_blocks(doc, _is_code)
    for cb in blocks:
        for n in range(cb.first, cb.last + 1):
            QTextCursor(doc.findBlockByNumber(n)).mergeBlockFormat(fmt)
        code_blocks.highlight(doc, cb, colors.name == "dark")
    doc.code_blocks = blocks


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


def plain_text(text: str) -> str:
    """A reply as the reader sees it, without Markdown marks (for Copy)."""
    if len(text) > 200_000:   # converting a huge reply would stall the window; it is text already
        return text
    doc = SafeDocument()
    doc.setMarkdown(text, _FLAGS)
    return doc.toPlainText()
