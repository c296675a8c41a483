"""The web app's S3 JSON contract (docs/ARCHITECTURE.md, "The S3 contract and its quirks"): keys, ids, timestamps, parse and write.

Writing is byte-compatible with the web app: ``json.dumps(obj, indent=2)`` (non-ASCII escaped as
``\\uXXXX``, no trailing newline), keys in the order they were read, unknown fields kept.
Parsing is strict about what becomes a key or a path (ids) and lenient about everything else
(unknown fields, stale counts, legacy inline emotions). A malformed object raises
:class:`BadDataError` naming the key and what is wrong with it.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Mapping, cast

from archpal_desktop.core.errors import BadDataError
from archpal_desktop.core.documents import (ConversationDoc, IndexEntry, MessageDoc, ProfileDoc,
                                            Tombstone, TombstonesDoc)

USERS_PREFIX = "users/"
#: our own key, never written by the web app: desktop deletions waiting for the remote to catch up
TOMBSTONES_NAME = "archpal-desktop/tombstones.json"
#: a remote object larger than this is reported, not parsed (a real conversation is far smaller)
MAX_OBJECT_BYTES = 32 * 1024 * 1024

EMOTIONS = ("default", "angry", "annoyed", "dance", "hello", "point", "sad", "smile", "success",
            "upset", "walk")
COLLEGE_YEARS = ("First Year", "Second Year", "Upper-Division", "Masters Student", "PhD Student",
                 "Faculty")
PROFILE_TEXT_FIELDS = ("first_name", "last_name", "college_year", "major", "course_number")
ROLES = ("user", "assistant")

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Cognito subs are UUIDs; moto and some pools use other safe shapes, so allow a strict superset.
_SUB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_INLINE_EMOTION_RE = re.compile(r"\s*\{\s*\"emotion\"\s*:\s*\"([a-z]+)\"\s*\}\s*$")


# -- ids ----------------------------------------------------------------------------------------
def _validate_uuid(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _UUID_RE.fullmatch(value):
        raise BadDataError(f"Invalid {what} {value!r}: expected a UUID.")
    return value


def validate_conversation_id(value: Any) -> str:
    return _validate_uuid(value, "conversation id")


def validate_message_id(value: Any) -> str:
    return _validate_uuid(value, "message id")


def validate_sub(value: Any) -> str:
    if not isinstance(value, str) or not _SUB_RE.fullmatch(value) or ".." in value:
        raise BadDataError(f"Invalid user id {value!r}.")
    return value


def is_conversation_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_UUID_RE.fullmatch(value))


# -- keys ---------------------------------------------------------------------------------------
def user_prefix(sub: str) -> str:
    return f"{USERS_PREFIX}{validate_sub(sub)}/"


def info_key(sub: str) -> str:
    return user_prefix(sub) + "info.json"


def index_key(sub: str) -> str:
    return user_prefix(sub) + "conversations.json"


def conversation_key(sub: str, conversation_id: str) -> str:
    return user_prefix(sub) + f"conversations/{validate_conversation_id(conversation_id)}.json"


def tombstones_key(sub: str) -> str:
    return user_prefix(sub) + TOMBSTONES_NAME


def classify_key(sub: str, key: str) -> tuple[str, str | None]:
    """-> (kind, conversation_id). kind: info, index, conversation, tombstones, bad, other."""
    prefix = user_prefix(sub)
    if not key.startswith(prefix):
        return "other", None
    rest = key[len(prefix):]
    if rest == "info.json":
        return "info", None
    if rest == "conversations.json":
        return "index", None
    if rest == TOMBSTONES_NAME:
        return "tombstones", None
    if rest.startswith("conversations/") and rest.endswith(".json"):
        cid = rest[len("conversations/"):-len(".json")]
        return ("conversation", cid) if is_conversation_id(cid) else ("bad", cid)
    return "other", None


# -- timestamps ---------------------------------------------------------------------------------
def format_ts(dt: datetime) -> str:
    """As the web app writes: ``datetime.utcnow().isoformat() + "Z"`` (no micros when zero)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.isoformat() + "Z"


def now_ts() -> str:
    return format_ts(datetime.now(timezone.utc))


def parse_ts(value: Any) -> datetime:
    """Parse the web app's timestamps (with or without micros, ``Z`` or an offset)."""
    if not isinstance(value, str) or not value:
        raise BadDataError(f"Invalid timestamp {value!r}.")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadDataError(f"Invalid timestamp {value!r}.") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def ts_key(value: Any) -> str:
    """A string that sorts as the instant does (fixed width, always with micros)."""
    if not isinstance(value, str):
        return ""
    return _ts_key(value)


@lru_cache(maxsize=65536)
def _ts_key(value: str) -> str:
    # one timestamp is keyed several times per sync (parse, merge order, cache row): cached
    try:
        return parse_ts(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except BadDataError:
        return ""


def default_title(created: datetime | str) -> str:
    """The web app's default title: the UTC creation time, ``Sep 01, 2026 02:03 PM UTC``."""
    dt = parse_ts(created) if isinstance(created, str) else created.astimezone(timezone.utc)
    return dt.strftime("%b %d, %Y %I:%M %p UTC")


# -- JSON ---------------------------------------------------------------------------------------
def dumps(obj: Any) -> bytes:
    return json.dumps(obj, indent=2).encode("utf-8")


def loads(data: bytes, key: str = "") -> Any:
    where = f" {key}" if key else ""
    if len(data) > MAX_OBJECT_BYTES:
        raise BadDataError(f"The object{where} is too large ({len(data):,} bytes) to be a conversation.",
                           key=key)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadDataError(f"The object{where} is not UTF-8 text.", key=key) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg may end in "at" ("Unterminated string starting at"): say where on its own
        raise BadDataError(f"The object{where} is not valid JSON ({exc.msg}: line {exc.lineno}, "
                           f"column {exc.colno}).", key=key) from exc
    except RecursionError as exc:
        raise BadDataError(f"The object{where} is nested too deeply.", key=key) from exc


def canonical(obj: Any) -> str:
    """A deterministic text for comparisons and tie-breaks (not the on-disk form)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# -- emotions -----------------------------------------------------------------------------------
def split_inline_emotion(content: str) -> tuple[str, str | None]:
    """Legacy replies end with ``{"emotion": "success"}``: -> (clean text, emotion)."""
    match = _INLINE_EMOTION_RE.search(content or "")
    if not match or match.group(1) not in EMOTIONS:
        return content, None
    return content[: match.start()].rstrip(), match.group(1)


def message_view(raw: Mapping[str, Any]) -> tuple[str, str | None]:
    """The text and emotion to show for a stored message, without rewriting it."""
    content = raw.get("content")
    content = content if isinstance(content, str) else ""
    found = raw.get("metadata")
    meta: dict = found if isinstance(found, dict) else {}
    emotion = meta.get("emotion") if meta.get("emotion") in EMOTIONS else None
    if raw.get("role") == "assistant":
        clean, inline = split_inline_emotion(content)
        if inline:
            return clean, emotion or inline
        return content, emotion or "default"
    return content, None


# -- documents ----------------------------------------------------------------------------------
def parse_message(raw: Any, key: str = "") -> dict:
    if not isinstance(raw, dict):
        raise BadDataError(f"A message in {key} is not an object.", key=key)
    if "message_id" not in raw or raw.get("message_id") in (None, ""):
        raise BadDataError(f"A message in {key} has no message id.", key=key)
    if not isinstance(raw["message_id"], str) or not _UUID_RE.fullmatch(raw["message_id"]):
        raise BadDataError(f"A message in {key} has an invalid message id {raw['message_id']!r} "
                           "(expected a UUID).", key=key)
    if raw.get("role") not in ROLES:
        raise BadDataError(f"Message {raw.get('message_id')} in {key} has an invalid role "
                           f"{raw.get('role')!r}.", key=key)
    if not isinstance(raw.get("content"), str):
        raise BadDataError(f"Message {raw.get('message_id')} in {key} has no text content.", key=key)
    if not ts_key(raw.get("timestamp")):  # parsed once: the key is remembered for ordering
        raise BadDataError(f"Invalid timestamp {raw.get('timestamp')!r}.", key=key)
    if "metadata" in raw and not isinstance(raw["metadata"], dict):
        raise BadDataError(f"Message {raw.get('message_id')} in {key} has invalid metadata.", key=key)
    return raw


def parse_conversation(data: bytes | dict, sub: str, conversation_id: str | None = None,
                       key: str = "") -> ConversationDoc:
    """Parse and validate a conversation file. Returns the document as read (all fields kept)."""
    doc = loads(data, key) if isinstance(data, (bytes, bytearray)) else data
    try:
        if not isinstance(doc, dict):
            raise BadDataError(f"The conversation {key} is not a JSON object.", key=key)
        cid = validate_conversation_id(doc.get("conversation_id"))
        if conversation_id is not None and cid != conversation_id:
            raise BadDataError(f"The conversation file {key} holds conversation {cid}, not "
                               f"{conversation_id}.", key=key)
        owner = doc.get("user_id")
        if owner is not None and owner != sub:
            raise BadDataError(f"The conversation file {key} belongs to another user ({owner!r}).",
                               key=key)
        messages = doc.get("messages")
        if not isinstance(messages, list):
            raise BadDataError(f"The conversation {key} has no message list.", key=key)
        for m in messages:
            parse_message(m, key)
        if "metadata" in doc and not isinstance(doc["metadata"], dict):
            raise BadDataError(f"The conversation {key} has invalid metadata.", key=key)
        for field in ("created_at", "last_updated"):
            if field in doc:
                parse_ts(doc[field])
    except BadDataError as exc:
        if exc.key is None:
            exc.key = key
            exc.message = f"{exc.message} (in {key})" if key else exc.message
        raise
    return cast(ConversationDoc, doc)


def parse_index(data: bytes | list, key: str = "") -> list[IndexEntry]:
    """Parse conversations.json. Entries whose id is not a valid UUID are kept opaque (flagged
    with :func:`is_valid_entry` false) so a round trip never drops them."""
    doc = loads(data, key) if isinstance(data, (bytes, bytearray)) else data
    if not isinstance(doc, list):
        raise BadDataError(f"The conversation index {key} is not a JSON list.", key=key)
    for entry in doc:
        if not isinstance(entry, dict):
            raise BadDataError(f"The conversation index {key} holds a non-object entry.", key=key)
    return cast("list[IndexEntry]", doc)


def is_valid_entry(entry: Mapping[str, Any]) -> bool:
    if not is_conversation_id(entry.get("conversation_id")):
        return False
    for field in ("created_at", "last_updated"):
        if field in entry and not ts_key(entry[field]):
            return False
    return isinstance(entry.get("title", ""), str)


def parse_info(data: bytes | dict, key: str = "") -> ProfileDoc:
    doc = loads(data, key) if isinstance(data, (bytes, bytearray)) else data
    if not isinstance(doc, dict):
        raise BadDataError(f"The profile {key} is not a JSON object.", key=key)
    for field in PROFILE_TEXT_FIELDS:
        if field in doc and not isinstance(doc[field], str):
            raise BadDataError(f"The profile {key} has an invalid {field}.", key=key)
    return cast(ProfileDoc, doc)


def validate_profile(fields: dict) -> dict[str, str]:
    """Check the profile form's five required fields; -> {field: problem} (empty if fine)."""
    problems = {}
    for field in PROFILE_TEXT_FIELDS:
        value = fields.get(field)
        if not isinstance(value, str) or not value.strip():
            problems[field] = "Required."
    if not problems.get("college_year") and fields["college_year"].strip() not in COLLEGE_YEARS:
        problems["college_year"] = "Choose one of: " + ", ".join(COLLEGE_YEARS) + "."
    return problems


def parse_tombstones(data: bytes | dict, key: str = "") -> dict[str, dict]:
    doc = loads(data, key) if isinstance(data, (bytes, bytearray)) else data
    if not isinstance(doc, dict) or not isinstance(doc.get("tombstones"), dict):
        raise BadDataError(f"The desktop tombstones {key} are malformed.", key=key)
    out = {}
    for cid, tomb in doc["tombstones"].items():
        if is_conversation_id(cid) and isinstance(tomb, dict):
            ids = tomb.get("message_ids")
            out[cid] = {"deleted_at": str(tomb.get("deleted_at", "")),
                        "message_ids": sorted({i for i in ids if isinstance(i, str)})
                        if isinstance(ids, list) else []}
    return out


def tombstones_doc(tombstones: Mapping[str, Tombstone | dict]) -> TombstonesDoc:
    ordered: dict[str, Tombstone] = {cid: Tombstone(**tombstones[cid]) for cid in sorted(tombstones)}
    return {"format": "archpal-desktop-tombstones", "version": 1, "tombstones": ordered}


CONVERSATION_FIELDS = ("conversation_id", "user_id", "created_at", "messages", "metadata",
                       "last_updated")


def conversation_doc(conversation_id: str, user_id: str | None, created_at: str | None,
                     messages: list[dict], last_updated: str | None, metadata: dict | None = None,
                     extra: dict | None = None) -> ConversationDoc:
    """A conversation file in the web app's field order; unknown fields (``extra``) follow."""
    doc: dict[str, Any] = {"conversation_id": conversation_id, "user_id": user_id, "created_at": created_at,
           "messages": messages, "metadata": {} if metadata is None else metadata,
           "last_updated": last_updated}
    for k, v in (extra or {}).items():
        if k not in doc:
            doc[k] = v
    return cast(ConversationDoc, doc)


def index_entry(conversation_id: str, created_at: str, last_updated: str, message_count: int,
                title: str, extra: dict | None = None) -> IndexEntry:
    entry: dict[str, Any] = {"conversation_id": conversation_id, "created_at": created_at,
             "last_updated": last_updated, "message_count": message_count, "title": title}
    for k, v in (extra or {}).items():
        if k not in entry:
            entry[k] = v
    return cast(IndexEntry, entry)


def new_message(role: str, content: str, *, message_id: str, timestamp: str, course_number: str,
                message_index: int, model: str | None = None, emotion: str | None = None,
                extra_metadata: dict | None = None) -> MessageDoc:
    """A message exactly as the web app writes it (metadata key order included)."""
    meta: dict[str, Any] = {}
    if role == "assistant":
        meta["model"] = model or ""
        meta["course_number"] = course_number
        meta["emotion"] = emotion if emotion in EMOTIONS else "default"
    else:
        meta["course_number"] = course_number
    for k, v in (extra_metadata or {}).items():
        meta.setdefault(k, v)
    meta["message_index"] = message_index
    # extra metadata keys beyond the typed ones are kept (the web app may add some)
    return {"message_id": message_id, "role": role, "content": content, "timestamp": timestamp,
            "metadata": meta}  # type: ignore[typeddict-item]
