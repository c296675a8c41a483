"""CSV (and .xlsx) cells a spreadsheet shows as text, whatever a student typed.

OWASP's CSV-injection rule: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read as a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` sends data
out; ``=cmd|...`` once ran programs). Such a cell gets a leading apostrophe, which those programs
take as "this is text" and do not show. The full-width forms are included because some
spreadsheet programs fold them to their ASCII forms before parsing. Every CSV the app writes goes
through :func:`write_rows`.
"""
from __future__ import annotations

import csv
import io
from typing import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def safe_row(row: Sequence[object]) -> list[str]:
    return [safe_cell(v) for v in row]


def write_rows(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as UTF-8 CSV bytes (RFC 4180: CRLF, every field that needs it quoted)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(safe_row(r) for r in rows)
    return buf.getvalue().encode("utf-8")
