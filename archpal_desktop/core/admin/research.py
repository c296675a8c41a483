"""``admin export-research``: every user's conversations for the study team, anonymised, as the
web app's research export did, at the scale of a university's bucket.

Two files: ``research_conversations.csv`` (no names: the student's first and last name are
replaced by ``[NAME]`` in every message; rows carry only the profile's unique identifier,
college year and major) and ``research_identifiers.csv`` (first name, last name, unique
identifier), which the study keeps apart from the data. Every cell is formula-safe
(:mod:`.csvsafe`): students wrote them, and the files are opened in spreadsheets.

Conversation *files* are the truth: an orphan file with no index entry is exported, a stale
``message_count`` is ignored. A malformed object is reported and skipped; the export goes on.

The bucket is read by :mod:`.scan` (a bounded pool of the sync's GETs, users in listing order)
and each user's rows are appended to ``*.csv.partial`` files as the user completes. A small
state file beside them records, at each checkpoint, the last user written and both files'
lengths: a run that is killed and started again cuts the files back to that point and goes on
after that user, so no row is written twice or lost. The finished files are renamed into place.
"""
from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from archpal_desktop.core import layout
from archpal_desktop.core.admin import scan
from archpal_desktop.core.admin.partial import (CONVERSATION_COLUMNS, CONVERSATIONS_FILE,
                                                IDENTIFIER_COLUMNS, IDENTIFIERS_FILE,
                                                MAX_KEPT_PROBLEMS, PARTIAL_SUFFIX, STATE_FILE,
                                                PartialExport)
from archpal_desktop.core.errors import ArchPalError, BadDataError, ConfigError

__all__ = ["CONVERSATION_COLUMNS", "CONVERSATIONS_FILE", "IDENTIFIER_COLUMNS", "IDENTIFIERS_FILE",
           "PARTIAL_SUFFIX", "STATE_FILE", "Filters", "ResearchExport", "anonymise",
           "export_research", "pair_messages", "parse_date"]
NAME_PLACEHOLDER = "[NAME]"


def normalise_course(text: str) -> str:
    """``ENGL1102``, ``engl 1102`` and ``ENGL 1102`` are one course."""
    return re.sub(r"\s+", "", str(text or "")).casefold()


def parse_date(text: str, *, end_of_day: bool = False) -> datetime:
    """``YYYY-MM-DD`` (the day's start, or with ``end_of_day`` the next day's start) or a full
    ISO-8601 time; naive times are UTC."""
    value = (text or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            return day + timedelta(days=1) if end_of_day else day
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{value!r} is not a date.", "Give a date as YYYY-MM-DD, e.g. "
                          "2026-09-01, or a time as 2026-09-01T14:00:00Z.") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Filters:
    """What the study asked for. ``date_to`` is exclusive (the end of the ``--to`` day)."""

    courses: tuple[str, ...] = ()
    college_years: tuple[str, ...] = ()
    date_from: datetime | None = None
    date_to: datetime | None = None
    #: only conversations whose file changed since (LastModified in the listing)
    since: datetime | None = None

    def __post_init__(self) -> None:
        known = {y.casefold(): y for y in layout.COLLEGE_YEARS}
        for year in self.college_years:
            if year.casefold() not in known:
                raise ConfigError(f"{year!r} is not a college year.",
                                  "Use one of: " + ", ".join(layout.COLLEGE_YEARS) + ".")
        if self.date_from and self.date_to and self.date_from >= self.date_to:
            raise ConfigError("--from is after --to.", "Give --from before --to.")

    @property
    def narrows(self) -> bool:
        return bool(self.courses or self.college_years or self.date_from or self.date_to
                    or self.since)

    def params(self) -> dict[str, Any]:
        def iso(dt):
            return dt.isoformat() if dt else None
        return {"courses": sorted(normalise_course(c) for c in self.courses),
                "college_years": sorted(y.casefold() for y in self.college_years),
                "from": iso(self.date_from), "to": iso(self.date_to), "since": iso(self.since)}

    def year_ok(self, profile: dict) -> bool:
        if not self.college_years:
            return True
        year = str(profile.get("college_year", "")).casefold()
        return year in {y.casefold() for y in self.college_years}

    def pair_ok(self, user_msg: dict | None, reply: dict | None) -> bool:
        first = user_msg if user_msg is not None else reply
        if first is None:
            return False
        if self.courses:
            course = normalise_course((first.get("metadata") or {}).get("course_number", ""))
            if course not in {normalise_course(c) for c in self.courses}:
                return False
        if self.date_from or self.date_to:
            try:
                when = layout.parse_ts(first.get("timestamp"))
            except (BadDataError, ValueError, TypeError):
                return False  # an undated message cannot be placed inside the study's dates
            if self.date_from and when < self.date_from:
                return False
            if self.date_to and when >= self.date_to:
                return False
        return True


@dataclass
class ResearchExport:
    rows: int = 0
    identifiers: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    users: int = 0
    conversations: int = 0
    resumed: bool = False

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_KEPT_PROBLEMS:
            self.problems.append(text)


@functools.lru_cache(maxsize=64)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern | None:
    """One pattern per student (longest name first), compiled once, not once per message."""
    kept = sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True)
    if not kept:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in kept) + r")(?!\w)",
                      re.IGNORECASE)


def anonymise(text: str, names: list[str]) -> str:
    """Replace whole-word, case-insensitive occurrences of the student's names."""
    pattern = _names_pattern(tuple(str(n or "") for n in names))
    return pattern.sub(NAME_PLACEHOLDER, text) if pattern is not None else text


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


def _cells(message: dict | None, names: list[str]) -> tuple[str, str]:
    if message is None:
        return "", ""
    text, _emotion = layout.message_view(message)  # drops legacy inline {"emotion": ...}
    return anonymise(text, names), str(message.get("timestamp", ""))


# -- what to read and how ------------------------------------------------------------------------
def _wanted(filters: Filters) -> scan.Wanted:
    since = filters.since

    def wanted(user: scan.UserKeys) -> list[scan.Listed] | None:
        try:
            layout.validate_sub(user.sub)
        except BadDataError:
            return []  # reported by the handler, nothing read
        picked, changed = [], False
        for obj in user.objects:
            kind, _cid = layout.classify_key(user.sub, obj.key)
            fresh = since is None or (obj.last_modified is not None and obj.last_modified >= since)
            if kind == "conversation" and fresh:
                picked.append(obj)
                changed = True
            elif kind == "info" or (kind == "index" and fresh):
                picked.append(obj)
        return picked if changed or since is None else None

    return wanted


def _parse(key: str, body: bytes) -> Any:
    sub = key.split("/", 2)[1]
    kind, cid = layout.classify_key(sub, key)
    if kind == "info":
        return layout.parse_info(body, key)
    if kind == "index":
        return layout.parse_index(body, key)
    return layout.parse_conversation(body, sub, cid, key)


def _user_rows(user: scan.UserKeys, results: dict[str, Any], filters: Filters,
               problems: list[str]) -> tuple[list[tuple], tuple | None, int]:
    """One user's rows, identifier row and conversation count; problems appended."""
    sub = user.sub
    try:
        layout.validate_sub(sub)
    except BadDataError:
        problems.append(f"users/{sub}/: not a valid user folder name; skipped.")
        return [], None, 0
    keys = {o.key for o in user.objects}
    for obj in user.objects:
        kind, _cid = layout.classify_key(sub, obj.key)
        if kind == "bad":
            problems.append(f"{obj.key}: not a conversation id; skipped.")
    info = layout.info_key(sub)
    profile: dict = {}
    if info not in keys:
        problems.append(f"{info}: missing; this user's rows have no identifier and names "
                        "could not be removed from the text.")
    elif isinstance(results.get(info), ArchPalError):
        problems.append(f"{info}: {results[info].message}; this user's rows have no identifier.")
    else:
        profile = results.get(info) or {}
    index = layout.index_key(sub)
    if isinstance(results.get(index), ArchPalError):
        problems.append(f"{index}: {results[index].message}")
    elif isinstance(results.get(index), list):
        for e in results[index]:
            cid = e.get("conversation_id")
            if layout.is_conversation_id(cid) and layout.conversation_key(sub, cid) not in keys:
                problems.append(f"{index}: lists conversation {cid}, whose file is missing.")
    docs = []
    for key in sorted(results):
        if layout.classify_key(sub, key)[0] != "conversation":
            continue
        value = results[key]
        if isinstance(value, ArchPalError):
            problems.append(f"{key}: {value.message}; skipped.")
        else:
            docs.append(value)
    if not filters.year_ok(profile):
        return [], None, 0
    names = [profile.get("first_name", ""), profile.get("last_name", "")]
    ident = str(profile.get("unique_identifier", "") or "")
    docs.sort(key=lambda d: (layout.ts_key(d.get("created_at")), d["conversation_id"]))
    rows: list[tuple] = []
    conversations = 0
    for doc in docs:
        pairs = [p for p in pair_messages(doc["messages"]) if filters.pair_ok(*p)]
        if pairs or not filters.narrows:
            conversations += 1
        for user_msg, reply in pairs:
            rows.append((ident, str(profile.get("college_year", "")),
                         str(profile.get("major", "")),
                         *_cells(user_msg, names), *_cells(reply, names)))
    ident_row = None
    if profile and (rows or not filters.narrows):
        ident_row = (str(profile.get("first_name", "")), str(profile.get("last_name", "")), ident)
    return rows, ident_row, conversations


def export_research(s3, bucket: str, out_dir: Path, *, credentials=None,
                    filters: Filters | None = None, workers: int = 16, restart: bool = False,
                    on_progress: Callable[[scan.Progress], None] | None = None,
                    on_problem: Callable[[str], None] | None = None
                    ) -> tuple[ResearchExport, Path, Path]:
    """Export the bucket into ``out_dir``, resuming an unfinished export of the same options."""
    filters = filters or Filters()
    params = {"bucket": bucket, **filters.params()}
    out = PartialExport(Path(out_dir), params, restart=restart)
    st = out.state
    result = ResearchExport(resumed=out.resumed)
    progress = scan.Progress(users_done=st["users"], users_before=st["users"],
                             objects_done=st["objects"], objects_before=st["objects"])
    wanted = _wanted(filters)
    remote = scan.BucketRemote(s3, bucket, credentials=credentials)

    def handle(user: scan.UserKeys, results: dict[str, Any]) -> None:
        problems: list[str] = []
        rows, ident, conversations = _user_rows(user, results, filters, problems)
        out.add_user(user.sub, rows, ident, conversations, len(results), problems)
        if on_problem is not None:
            for p in problems:
                on_problem(p)

    stop = threading.Event()
    # the totals are only for the progress line: no second listing when nobody watches
    counter = scan.count_ahead(s3, bucket, wanted, progress, after=st["after"], stop=stop) \
        if on_progress is not None else None
    try:
        scan.scan(remote, scan.prefetch(scan.iter_users(s3, bucket, after=st["after"])), wanted,
                  _parse, handle,
                  workers=workers, progress=progress, on_progress=on_progress)
        data, ids = out.finish()
    except BaseException:
        if not out.data.closed:
            out.checkpoint(force=True)  # Ctrl+C or an error: the next run starts from here
        raise
    finally:
        stop.set()
        out.close()
    if counter is not None:
        counter.join(timeout=5)
    result.users, result.conversations = st["users"], st["conversations"]
    result.rows, result.identifiers = st["rows"], st["identifiers"]
    result.problems, result.problem_count = list(st["problems"]), st["problem_count"]
    return result, data, ids
