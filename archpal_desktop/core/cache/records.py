"""What the cache hands out: plain records, the local-only states, and the search query builder."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from archpal_desktop.core import layout, paths

DB_NAME = "archpal.sqlite3"
#: local states of messages that must never leave this device (the one definition)
LOCAL_ONLY_STATES = ("streaming", "failed")
#: the SQL condition for "this message may be uploaded", built from LOCAL_ONLY_STATES
PUSHABLE = "(local_state IS NULL OR local_state NOT IN ({}))".format(
    ",".join(f"'{s}'" for s in LOCAL_ONLY_STATES))


@dataclass
class Conversation:
    conversation_id: str
    title: str
    created_at: str
    last_updated: str
    message_count: int = 0
    file_missing: bool = False
    bad_remote: str | None = None
    draft: str = ""


@dataclass
class Message:
    message_id: str
    conversation_id: str
    role: str
    content: str
    emotion: str | None
    timestamp: str
    local_state: str | None = None
    raw: dict = field(default_factory=dict, repr=False)
    model: str | None = None  # metadata.model: who wrote a reply ("local:…" for a local model)
    sprint: dict | None = None  # metadata.sprint: a writing sprint's offer, start or end (core/sprints)


@dataclass
class SearchHit:
    conversation_id: str
    title: str
    message_id: str
    role: str
    timestamp: str
    snippet: str  # plain text with \x02 ... \x03 around matches

    @property
    def snippet_html(self) -> str:
        return html.escape(self.snippet).replace("\x02", "<b>").replace("\x03", "</b>")

    @property
    def snippet_text(self) -> str:
        return self.snippet.replace("\x02", "").replace("\x03", "")


def sprint_of(meta: object) -> dict | None:
    """A message's ``metadata.sprint``, when it is an object."""
    found = meta.get("sprint") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else None


def sprint_from_json(text: str) -> dict | None:
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def user_db_path(data_dir: Path, sub: str) -> Path:
    users = paths.ensure_private_dir(Path(data_dir) / "users")
    folder = paths.safe_child(users, layout.validate_sub(sub))
    return paths.ensure_private_dir(folder) / DB_NAME


def fts_query(text: str) -> str:
    """User text -> a safe FTS5 query: every word quoted, the last one as a prefix."""
    words = [w for w in "".join(ch if ch.isalnum() else " " for ch in text).split() if w]
    if not words:
        return ""
    parts = ['"' + w.replace('"', '""') + '"' for w in words]
    parts[-1] += "*"
    return " ".join(parts)
