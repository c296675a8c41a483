"""The progress line of the admin kit's long bucket reads (``admin export-research``, ``usage``)."""
from __future__ import annotations

import json
import sys
import time

from archpal_desktop.core.termsafe import escape, say


class ProgressPrinter:
    """The progress line on stderr: redrawn in place on a terminal, a line every few seconds
    otherwise (a log), JSON lines with --json, nothing with --quiet."""

    def __init__(self, args):
        self.quiet = getattr(args, "quiet", False)
        self.json = getattr(args, "json", False)
        self.tty = sys.stderr.isatty()
        self.every = 0.2 if self.tty else 1.0 if self.json else 5.0
        self._last = 0.0
        self._drawn = False

    def __call__(self, progress) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if not progress.finished and now - self._last < self.every:
            return
        self._last = now
        if self.json:
            print(json.dumps({"progress": progress.as_dict()}), file=sys.stderr, flush=True)
        elif self.tty:
            print("\r\x1b[K" + progress.line(), end="", file=sys.stderr, flush=True)
            self._drawn = True
        else:
            print(progress.line(), file=sys.stderr, flush=True)

    def problem(self, text: str) -> None:
        self.end_line()
        say(f"problem: {escape(text)}", file=sys.stderr)

    def end_line(self) -> None:
        if self._drawn:
            print(file=sys.stderr, flush=True)
            self._drawn = False
