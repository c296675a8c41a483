"""Code blocks in replies: Pygments colours applied to the Qt document, and where each block sits.

Pygments is imported on the first reply that holds code (not at start-up). Only the named
language is used (```python); a block without one stays plain rather than guessed, because
guessing is slow and often wrong on student prose.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PySide6.QtGui import (QBrush, QColor, QFont, QTextBlock, QTextCharFormat, QTextCursor, QTextDocument,
                           QTextFormat)

_LANG = QTextFormat.Property.BlockCodeLanguage

LIGHT_STYLE = "default"
DARK_STYLE = "monokai"


@dataclass
class CodeBlock:
    first: int           # block numbers in the document
    last: int
    language: str
    text: str


def find_blocks(doc: QTextDocument, is_code) -> list[CodeBlock]:
    """Runs of consecutive code lines, each with its fence language."""
    found: list[CodeBlock] = []
    block: QTextBlock = doc.begin()
    run: list[QTextBlock] = []

    def close() -> None:
        if run:
            lang = run[0].blockFormat().stringProperty(_LANG)
            found.append(CodeBlock(run[0].blockNumber(), run[-1].blockNumber(), lang or "",
                                   "\n".join(b.text() for b in run)))
            run.clear()
    while block.isValid():
        if is_code(block):
            if run and run[-1].blockFormat().stringProperty(_LANG) != block.blockFormat().stringProperty(_LANG):
                close()
            run.append(block)
        else:
            close()
        block = block.next()
    close()
    return found


@lru_cache(maxsize=64)
def _lexer(language: str):
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except (ClassNotFound, ImportError):   # unknown, or a language the installer left out
        return None


@lru_cache(maxsize=4)
def _style(dark: bool):
    from pygments.styles import get_style_by_name
    return get_style_by_name(DARK_STYLE if dark else LIGHT_STYLE)


@lru_cache(maxsize=512)
def _format(dark: bool, token) -> QTextCharFormat | None:
    spec = _style(dark).style_for_token(token)
    fmt = QTextCharFormat()
    used = False
    if spec.get("color"):
        fmt.setForeground(QBrush(QColor("#" + spec["color"])))
        used = True
    if spec.get("bold"):
        fmt.setFontWeight(QFont.Weight.Bold)
        used = True
    if spec.get("italic"):
        fmt.setFontItalic(True)
        used = True
    return fmt if used else None


def highlight(doc: QTextDocument, block: CodeBlock, dark: bool) -> bool:
    """Colour one code block in place; False when its language is unknown (left plain)."""
    if not block.language:
        return False
    lexer = _lexer(block.language.lower())
    if lexer is None:
        return False
    start = doc.findBlockByNumber(block.first).position()
    cursor = QTextCursor(doc)
    pos = 0
    for token, value in lexer.get_tokens(block.text):
        n = len(value)
        fmt = _format(dark, token) if n else None
        if fmt is not None and value.strip():
            cursor.setPosition(start + pos)
            cursor.setPosition(start + pos + n, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
        pos += n
    return True
