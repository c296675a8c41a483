"""``admin export-research``: every user's conversations for the study team, anonymised, as the
web app's research export did.

Two files: ``research_conversations.csv`` (no names: the student's first and last name are
replaced by ``[NAME]`` in every message; rows carry only the profile's unique identifier,
college year and major) and ``research_identifiers.csv`` (first name, last name, unique
identifier), which the study keeps apart from the data.

Conversation *files* are the truth: an orphan file with no index entry is exported, a stale
``message_count`` is ignored. A malformed object is reported and skipped; the export goes on.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from archpal_desktop.core import layout, paths
from archpal_desktop.core.errors import ArchPalError, BadDataError, map_exception

CONVERSATION_COLUMNS = ("unique_identifier", "college_year", "major", "user_message",
                        "user_message_time", "assistant_message", "assistant_message_time")
IDENTIFIER_COLUMNS = ("first_name", "last_name", "unique_identifier")
CONVERSATIONS_FILE = "research_conversations.csv"
IDENTIFIERS_FILE = "research_identifiers.csv"
NAME_PLACEHOLDER = "[NAME]"


@dataclass
class ResearchExport:
    rows: list[tuple[str, ...]] = field(default_factory=list)
    identifiers: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    users: int = 0
    conversations: int = 0


def anonymise(text: str, names: list[str]) -> str:
    """Replace whole-word, case-insensitive occurrences of the student's names."""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", NAME_PLACEHOLDER, text, flags=re.IGNORECASE)
    return text


def pair_messages(messages: list[dict]) -> list[tuple[dict | None, dict | None]]:
    """Each user message with the assistant reply that follows it (None where there is none)."""
    pairs: list[tuple[dict | None, dict | None]] = []
    pending: dict | None = None
    for m in messages:
        if m.get("role") == "user":
            if pending is not None:
                pairs.append((pending, None))
            pending = m
        else:
            pairs.append((pending, m))
            pending = None
    if pending is not None:
        pairs.append((pending, None))
    return pairs


def _list_users(s3, bucket: str) -> dict[str, list[str]]:
    """sub -> its keys, from one paged listing of users/."""
    keys: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                             Prefix=layout.USERS_PREFIX):
        for obj in page.get("Contents", []):
            parts = obj["Key"].split("/")
            if len(parts) >= 3 and parts[1]:
                keys.setdefault(parts[1], []).append(obj["Key"])
    return keys


def _get(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def collect(s3, bucket: str) -> ResearchExport:
    out = ResearchExport()
    try:
        users = _list_users(s3, bucket)
    except Exception as exc:
        raise map_exception(exc, key=bucket) from exc
    for sub in sorted(users):
        try:
            layout.validate_sub(sub)
        except BadDataError:
            out.problems.append(f"users/{sub}/: not a valid user folder name; skipped.")
            continue
        out.users += 1
        keys = set(users[sub])
        profile = _profile(s3, bucket, sub, keys, out)
        names = [profile.get("first_name", ""), profile.get("last_name", "")]
        ident = str(profile.get("unique_identifier", "") or "")
        if profile:
            out.identifiers.append((str(profile.get("first_name", "")),
                                    str(profile.get("last_name", "")), ident))
        _check_index(s3, bucket, sub, keys, out)
        docs = []
        for key in sorted(keys):
            kind, cid = layout.classify_key(sub, key)
            if kind == "bad":
                out.problems.append(f"{key}: not a conversation id; skipped.")
            if kind != "conversation":
                continue
            try:
                docs.append(layout.parse_conversation(_get(s3, bucket, key), sub, cid, key))
            except ArchPalError as err:
                out.problems.append(f"{key}: {err.message}; skipped.")
            except Exception as exc:
                out.problems.append(f"{key}: {map_exception(exc, key=key).message}; skipped.")
        docs.sort(key=lambda d: (layout.ts_key(d.get("created_at")), d["conversation_id"]))
        for doc in docs:
            out.conversations += 1
            for user_msg, reply in pair_messages(doc["messages"]):
                out.rows.append((ident, str(profile.get("college_year", "")),
                                 str(profile.get("major", "")),
                                 *_cells(user_msg, names), *_cells(reply, names)))
    return out


def _cells(message: dict | None, names: list[str]) -> tuple[str, str]:
    if message is None:
        return "", ""
    text, _emotion = layout.message_view(message)  # drops legacy inline {"emotion": ...}
    return anonymise(text, names), str(message.get("timestamp", ""))


def _profile(s3, bucket: str, sub: str, keys: set[str], out: ResearchExport) -> dict:
    key = layout.info_key(sub)
    if key not in keys:
        out.problems.append(f"{key}: missing; this user's rows have no identifier and names "
                            "could not be removed from the text.")
        return {}
    try:
        return layout.parse_info(_get(s3, bucket, key), key)
    except ArchPalError as err:
        out.problems.append(f"{key}: {err.message}; this user's rows have no identifier.")
    except Exception as exc:
        out.problems.append(f"{key}: {map_exception(exc, key=key).message}")
    return {}


def _check_index(s3, bucket: str, sub: str, keys: set[str], out: ResearchExport) -> None:
    """The index is not needed for the export; reading it only reports what it gets wrong."""
    key = layout.index_key(sub)
    if key not in keys:
        return
    try:
        entries = layout.parse_index(_get(s3, bucket, key), key)
    except ArchPalError as err:
        out.problems.append(f"{key}: {err.message}")
        return
    except Exception as exc:
        out.problems.append(f"{key}: {map_exception(exc, key=key).message}")
        return
    for e in entries:
        cid = e.get("conversation_id")
        if layout.is_conversation_id(cid) and layout.conversation_key(sub, cid) not in keys:
            out.problems.append(f"{key}: lists conversation {cid}, whose file is missing.")


def _csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_export(result: ResearchExport, out_dir: Path) -> tuple[Path, Path]:
    """Both files 0600: the identifiers file is personal data and the data file is the study's."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / CONVERSATIONS_FILE
    ids = out_dir / IDENTIFIERS_FILE
    paths.atomic_write(data, _csv(CONVERSATION_COLUMNS, result.rows))
    paths.atomic_write(ids, _csv(IDENTIFIER_COLUMNS, result.identifiers))
    return data, ids


def export_research(s3, bucket: str, out_dir: Path) -> tuple[ResearchExport, Path, Path]:
    result = collect(s3, bucket)
    data, ids = write_export(result, out_dir)
    return result, data, ids
