"""Helpers for the admin tests: run the real CLI in-process and capture what the admin sees."""
from __future__ import annotations

import pytest

from archpal_desktop.cli import main


class CliRun:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys):
    def run(*argv: str) -> CliRun:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)
    return run
