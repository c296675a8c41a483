"""Text from S3 (keys, titles, profile fields, error text quoting them) made safe to print.

A terminal obeys control characters: ESC starts sequences that recolour, move the cursor, set
the window title, rewrite the clipboard (OSC 52) or, on some terminals, answer back as typed
input; a CR or a newline inside a key can overwrite a line or forge a "problem:" line. Every CLI
print path goes through :func:`escape` (or :func:`say`, which uses it): C0 and C1 controls, DEL
and the bidirectional-override characters are written as visible ``\\xNN`` / ``\\uNNNN``
escapes, so what the admin reads is what the bucket holds.
"""
from __future__ import annotations

import re
import sys
from typing import TextIO

# C0 (but tab and newline, handled below), DEL, C1, and the bidi embeddings/overrides/isolates
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\t\n\u2028\u2029\x85]")


def _visible(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: object, *, multiline: bool = False) -> str:
    """``text`` with every control character shown as an escape. With ``multiline`` newlines
    and tabs are kept (a whole formatted report); without it (one value, one line) they are
    escaped too, so one line printed is one line seen."""
    out = _UNSAFE.sub(_visible, str(text))
    if not multiline:
        out = _LINE_BREAKS.sub(_visible, out)
    else:
        out = re.sub("[\u2028\u2029\x85]", _visible, out)
    return out


def say(text: object = "", *, file: TextIO | None = None, multiline: bool = True,
        end: str = "\n", flush: bool = False) -> None:
    """``print`` for anything that may carry S3-derived text."""
    print(escape(text, multiline=multiline), file=file or sys.stdout, end=end, flush=flush)
