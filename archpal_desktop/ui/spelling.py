"""Spell checking in the composer: red wavy underline, suggestions on right-click.

The word lists come from pyspellchecker (they ship inside the package, so the app checks the same
way on every OS and the installers carry them). Loading them takes ~0.5 s, on a worker; until then
nothing is underlined. pyspellchecker's own loader parses the list with one ``json.loads``, which
holds the GIL for ~270 ms (the window would freeze that long): :func:`load_checker` parses it in
steps instead (the longest hold measured on this shared machine: 274 ms with its loader, ~55 ms
this way). The list is read when the student first types, not at start-up.
"""
from __future__ import annotations

import re

from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat

WORD = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]")
LANGUAGE = "en"


SLICE = 300_000    # characters of the word list parsed per step


def load_checker(language: str = LANGUAGE):
    """A checker for ``language``, its word list read in steps that each hold the GIL briefly."""
    import json
    import zlib
    from importlib.resources import files

    from spellchecker import SpellChecker
    packed = (files("spellchecker") / "resources" / f"{language}.json.gz").read_bytes()
    unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts = [unzip.decompress(packed[i:i + 32_768]) for i in range(0, len(packed), 32_768)]
    parts.append(unzip.flush())
    text = b"".join(parts).decode("utf-8").strip()
    body = text[1:-1] if text.startswith("{") else text
    checker = SpellChecker(language=None, distance=1)
    pos = 0
    while pos < len(body):
        end = body.find(",\n", pos + SLICE)
        end = len(body) if end < 0 else end
        checker.word_frequency.load_json(json.loads("{" + body[pos:end] + "}"))
        pos = end + 1
    return checker


class SpellHighlighter(QSyntaxHighlighter):
    def __init__(self, document):
        super().__init__(document)
        self.checker = None
        self._known: dict[str, bool] = {}
        self.ignored: set[str] = set()
        self.fmt = QTextCharFormat()
        # a wave drawn by us: the style's spell-check underline is a plain line on some platforms
        self.fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self.fmt.setUnderlineColor(QColor("#d0312d"))

    def set_checker(self, checker) -> None:
        self.checker = checker
        self._known.clear()
        self.rehighlight()

    def is_wrong(self, word: str) -> bool:
        if self.checker is None or len(word) < 2 or word.isupper() or word.lower() in self.ignored:
            return False
        w = word.lower().strip("'")
        hit = self._known.get(w)
        if hit is None:
            hit = bool(self.checker.known([w])) or (w.endswith("'s") and bool(self.checker.known([w[:-2]])))
            self._known[w] = hit
        return not hit

    def suggestions(self, word: str, limit: int = 6) -> list[str]:
        if self.checker is None:
            return []
        found = self.checker.candidates(word.lower()) or set()
        ranked = sorted((c for c in found if c != word.lower()),
                        key=lambda c: -self.checker.word_usage_frequency(c))[:limit]
        if word[:1].isupper():
            ranked = [c[:1].upper() + c[1:] for c in ranked]
        return ranked

    def ignore(self, word: str) -> None:
        self.ignored.add(word.lower())
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802
        if self.checker is None or not text:
            return
        for m in WORD.finditer(text):
            if self.is_wrong(m.group()):
                self.setFormat(m.start(), m.end() - m.start(), self.fmt)

    def misspelled(self) -> list[str]:
        """The words underlined right now (for tests and the accessible description)."""
        doc = self.document()
        out = []
        block = doc.begin()
        while block.isValid():
            out += [m.group() for m in WORD.finditer(block.text()) if self.is_wrong(m.group())]
            block = block.next()
        return out

