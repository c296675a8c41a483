"""The research export's output while it is being written: two ``*.csv.partial`` files and the
state file that makes them resumable.

At each checkpoint both files are flushed and fsynced, then the state (last user written, both
files' lengths at that user, counts, problems) is replaced atomically: the state never counts a
row that is not on disk. A run started again with the same options cuts the files back to the
recorded lengths (whatever a killed run appended after its last checkpoint goes) and goes on
after the recorded user, so no row is written twice or lost.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, BinaryIO

from archpal_desktop.core import paths
from archpal_desktop.core.admin import csvsafe, scan
from archpal_desktop.core.errors import ConfigError

CONVERSATION_COLUMNS = ("unique_identifier", "college_year", "major", "user_message",
                        "user_message_time", "assistant_message", "assistant_message_time")
IDENTIFIER_COLUMNS = ("first_name", "last_name", "unique_identifier")
CONVERSATIONS_FILE = "research_conversations.csv"
IDENTIFIERS_FILE = "research_identifiers.csv"
PARTIAL_SUFFIX = ".partial"
STATE_FILE = ".research-export.state.json"
#: a checkpoint (fsync both files, then the state: three fsyncs) at most this often; a resumed
#: run redoes at most this much work
CHECKPOINT_SECONDS = 2.0
#: problems kept in the state file for the final report of a resumed run
MAX_KEPT_PROBLEMS = 1000


class PartialExport:
    """The two ``.partial`` files and the state file that makes them resumable."""

    def __init__(self, out_dir: Path, params: dict[str, Any], *, restart: bool):
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data_path = self.dir / (CONVERSATIONS_FILE + PARTIAL_SUFFIX)
        self.ids_path = self.dir / (IDENTIFIERS_FILE + PARTIAL_SUFFIX)
        self.state_path = self.dir / STATE_FILE
        self.params = params
        found = self._load_state()
        if found is not None and found.get("params") != params and not restart:
            raise ConfigError(f"{self.dir} holds an unfinished export made with other options "
                              f"({_describe(found.get('params'))}).",
                              "Run it again with the same options to finish it, or add "
                              "--restart to start this one from the beginning.")
        if restart or found is None or found.get("params") != params:
            found = None
        self.resumed = found is not None
        self._last_checkpoint = 0.0
        self.state: dict[str, Any]
        if found is None:
            self.data = self._create(self.data_path, csvsafe.write_rows([CONVERSATION_COLUMNS]))
            self.ids = self._create(self.ids_path, csvsafe.write_rows([IDENTIFIER_COLUMNS]))
            self.state = {"version": 1, "params": params, "after": "", "users": 0,
                          "conversations": 0, "rows": 0, "identifiers": 0, "objects": 0,
                          "problems": [], "problem_count": 0,
                          "offsets": {"data": self.data.tell(), "ids": self.ids.tell()}}
            self.checkpoint(force=True)
        else:
            self.state = found
            # whatever was appended after the last checkpoint is cut: it is written again
            self.data = self._reopen(self.data_path, found["offsets"]["data"])
            self.ids = self._reopen(self.ids_path, found["offsets"]["ids"])
        self._last_checkpoint = time.monotonic()

    def _load_state(self) -> dict | None:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable: the export starts over (the partial files are rewritten)
        if not (isinstance(state, dict) and state.get("version") == 1 and
                self.data_path.exists() and self.ids_path.exists()):
            return None
        return state

    @staticmethod
    def _create(path: Path, header: bytes) -> BinaryIO:
        # 0600 from the first byte: the identifiers are personal data
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        fh = os.fdopen(fd, "wb")
        fh.write(header)
        return fh

    @staticmethod
    def _reopen(path: Path, offset: int) -> BinaryIO:
        fh = open(path, "r+b")
        fh.truncate(offset)
        fh.seek(offset)
        return fh

    def add_user(self, sub: str, rows: list[tuple], ident: tuple | None, conversations: int,
                 objects: int, problems: list[str]) -> None:
        if rows:
            self.data.write(csvsafe.write_rows(rows))
        if ident is not None:
            self.ids.write(csvsafe.write_rows([ident]))
        st = self.state
        st["after"] = scan.user_marker(sub)
        st["users"] += 1
        st["conversations"] += conversations
        st["rows"] += len(rows)
        st["identifiers"] += ident is not None
        st["objects"] += objects
        st["problem_count"] += len(problems)
        st["problems"] = (st["problems"] + problems)[:MAX_KEPT_PROBLEMS]
        # the lengths that go with "after": a checkpoint forced mid-way through the next user
        # (Ctrl+C) must not count that user's first rows
        st["offsets"] = {"data": self.data.tell(), "ids": self.ids.tell()}
        self.checkpoint()

    def checkpoint(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_checkpoint < CHECKPOINT_SECONDS:
            return
        for fh in (self.data, self.ids):
            fh.flush()
            os.fsync(fh.fileno())
        # the rows are on disk before the state that counts them
        paths.atomic_write(self.state_path, json.dumps(self.state).encode("utf-8"))
        self._last_checkpoint = now

    def finish(self) -> tuple[Path, Path]:
        self.checkpoint(force=True)
        self.data.close()
        self.ids.close()
        data, ids = self.dir / CONVERSATIONS_FILE, self.dir / IDENTIFIERS_FILE
        os.replace(self.data_path, data)
        os.replace(self.ids_path, ids)
        self.state_path.unlink(missing_ok=True)
        return data, ids

    def close(self) -> None:
        for fh in (self.data, self.ids):
            if not fh.closed:
                fh.close()


def _describe(params: Any) -> str:
    if not isinstance(params, dict):
        return "unknown options"
    shown = [f"{k}={v}" for k, v in sorted(params.items()) if v not in (None, [], "")]
    return ", ".join(shown) or "no filters"
