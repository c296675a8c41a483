"""Merge rules (docs/ARCHITECTURE.md, "Sync rules") as pure functions: no I/O, no clocks, no randomness.

Messages are a grow-only set keyed by ``message_id``; the merged order is (instant of
``timestamp``, ``message_id``) and ``metadata.message_index`` is renumbered to it. When the same
id carries different content on two sides, the pick is deterministic (the larger canonical
form), so every replica picks the same one. These make :func:`merge_messages` and
:func:`merge_conversation` commutative, associative and idempotent (tests/core/test_merge.py).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence, cast

from archpal_desktop.core.documents import ConversationDoc, IndexEntry

from archpal_desktop.core import layout


def pick(a: dict, b: dict) -> dict:
    """Deterministic choice between two versions of the same message (or any JSON value)."""
    if a == b:
        return a
    return a if layout.canonical(a) >= layout.canonical(b) else b


def _sort_key(raw: dict) -> tuple[str, str]:
    return layout.ts_key(raw.get("timestamp")), str(raw.get("message_id"))


def renumber(messages: list[dict]) -> list[dict]:
    """Set ``metadata.message_index`` to each message's position (copies only what changes)."""
    out = []
    for index, raw in enumerate(messages):
        meta = raw.get("metadata")
        if isinstance(meta, dict) and meta.get("message_index") == index:
            out.append(raw)
            continue
        copy = dict(raw)
        new_meta = dict(meta) if isinstance(meta, dict) else {}
        new_meta["message_index"] = index
        copy["metadata"] = new_meta
        out.append(copy)
    return out


def _strip_index(raw: dict) -> dict:
    """The message without its position, for comparing versions of the same id."""
    meta = raw.get("metadata")
    if not isinstance(meta, dict) or "message_index" not in meta:
        return raw
    copy = dict(raw)
    copy["metadata"] = {k: v for k, v in meta.items() if k != "message_index"}
    return copy


def merge_messages(*sides: Iterable[dict]) -> list[dict]:
    by_id: dict[str, dict] = {}
    for side in sides:
        for raw in side:
            mid = raw["message_id"]
            if mid in by_id:
                by_id[mid] = _pick_message(by_id[mid], raw)
            else:
                by_id[mid] = raw
    return renumber(sorted(by_id.values(), key=_sort_key))


def _pick_message(a: dict, b: dict) -> dict:
    if a is b:  # one document merged with itself (normalising a file as it is read)
        return a
    # positions are renumbered after the merge, so they must not decide the pick
    sa, sb = _strip_index(a), _strip_index(b)
    if sa == sb:
        return a
    return a if layout.canonical(sa) >= layout.canonical(sb) else b


def _earliest(*values: str | None) -> str | None:
    present = [v for v in values if isinstance(v, str) and layout.ts_key(v)]
    return min(present, key=lambda v: (layout.ts_key(v), v)) if present else None


def _latest(*values: str | None) -> str | None:
    present = [v for v in values if isinstance(v, str) and layout.ts_key(v)]
    return max(present, key=lambda v: (layout.ts_key(v), v)) if present else None


def _merge_dicts(a: dict, b: dict) -> dict:
    """Union of keys; where both hold a key with different values, a deterministic pick."""
    out = dict(a)
    for k, v in b.items():
        out[k] = pick(out[k], v) if k in out else v
    return out


def merge_conversation(a: Mapping[str, Any], b: Mapping[str, Any]) -> ConversationDoc:
    """Merge two versions of one conversation file (both parsed, same id)."""
    messages = merge_messages(a.get("messages", []), b.get("messages", []))
    created = _earliest(a.get("created_at"), b.get("created_at")) or a.get("created_at") or b.get("created_at")
    updated = _latest(a.get("last_updated"), b.get("last_updated"))
    found_a, found_b = a.get("metadata"), b.get("metadata")
    meta_a: dict = found_a if isinstance(found_a, dict) else {}
    meta_b: dict = found_b if isinstance(found_b, dict) else {}
    extra_a = {k: v for k, v in a.items() if k not in layout.CONVERSATION_FIELDS}
    extra_b = {k: v for k, v in b.items() if k not in layout.CONVERSATION_FIELDS}
    return layout.conversation_doc(
        a.get("conversation_id") or b["conversation_id"],
        a.get("user_id") or b.get("user_id"),
        created, messages, updated or created,
        _merge_dicts(meta_a, meta_b), _merge_dicts(extra_a, extra_b))


def same_conversation(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal as JSON documents (key order aside). ``==`` on the parsed values says exactly that,
    far cheaper than comparing canonical texts (the one exception, 1 == 1.0 == True, does not
    occur in this schema's values)."""
    return a == b


# -- the index ----------------------------------------------------------------------------------
INDEX_FIELDS = ("conversation_id", "created_at", "last_updated", "message_count", "title")


def merge_entry(base: Mapping[str, Any] | None, local: Mapping[str, Any] | None,
                remote: Mapping[str, Any] | None) -> IndexEntry:
    """Three-way merge of one index entry.

    A title changed on one side wins; changed on both, the later ``last_updated`` wins (ties: the
    larger title, so every replica agrees). ``created_at`` is the earliest, ``last_updated`` the
    latest; unknown fields are kept from both. ``message_count`` is set by the caller from the file.
    """
    sides = [e for e in (local, remote) if e is not None]
    if not sides:
        raise ValueError("merge_entry needs at least one side")
    if len(sides) == 1:
        return cast(IndexEntry, dict(sides[0]))
    assert local is not None and remote is not None
    lt, rt, bt = local.get("title"), remote.get("title"), (base or {}).get("title")
    if lt == rt:
        title = lt
    elif base is not None and lt == bt:
        title = rt
    elif base is not None and rt == bt:
        title = lt
    else:
        lkey = (layout.ts_key(local.get("last_updated")), str(lt))
        rkey = (layout.ts_key(remote.get("last_updated")), str(rt))
        title = lt if lkey >= rkey else rt
    extra = _merge_dicts({k: v for k, v in remote.items() if k not in INDEX_FIELDS},
                         {k: v for k, v in local.items() if k not in INDEX_FIELDS})
    return layout.index_entry(
        local.get("conversation_id") or remote["conversation_id"],
        _earliest(local.get("created_at"), remote.get("created_at")) or remote.get("created_at", ""),
        _latest(local.get("last_updated"), remote.get("last_updated")) or remote.get("last_updated", ""),
        remote.get("message_count", local.get("message_count", 0)),
        title if isinstance(title, str) else "",
        extra)


def merge_index(base: Mapping[str, Mapping[str, Any]], local: Mapping[str, Mapping[str, Any]],
                remote: Sequence[Mapping[str, Any]], counts: dict[str, int],
                deleted: set[str]) -> list[IndexEntry]:
    """Merge the index: remote order first, then local-only entries by creation time.

    ``counts`` holds the true message count of every conversation whose file we know;
    ``deleted`` the ids deleted on the desktop (dropped). Entries the remote holds that we
    cannot parse are carried through untouched.
    """
    out: list[IndexEntry] = []
    seen: set[str] = set()
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for entry in remote:
        if layout.is_valid_entry(entry):
            groups.setdefault(entry["conversation_id"], []).append(entry)
    for entry in remote:
        if not layout.is_valid_entry(entry):
            out.append(cast(IndexEntry, entry))  # opaque: never dropped, never "fixed"
            continue
        cid = entry["conversation_id"]
        if cid in seen:
            continue  # a duplicated entry (a web-app race) collapses into one
        seen.add(cid)
        if cid in deleted:
            continue
        dups = groups[cid]
        remote_entry: Mapping[str, Any] = dups[0]
        for extra in dups[1:]:
            remote_entry = merge_entry(None, extra, remote_entry)
        merged = merge_entry(base.get(cid), local.get(cid), remote_entry)
        if cid in counts:
            merged["message_count"] = counts[cid]
        out.append(merged)
    local_only = [e for cid, e in local.items() if cid not in seen and cid not in deleted]
    for entry in sorted(local_only, key=lambda e: (layout.ts_key(e.get("created_at")),
                                                   e["conversation_id"])):
        merged = cast(IndexEntry, dict(entry))
        if entry["conversation_id"] in counts:
            merged["message_count"] = counts[entry["conversation_id"]]
        out.append(merged)
    return out


def index_as_map(entries: Sequence[IndexEntry]) -> dict[str, IndexEntry]:
    return {e["conversation_id"]: e for e in entries if layout.is_valid_entry(e)}


def same_index(a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]]) -> bool:
    """Equal as sets of entries (order is not meaningful: the web app sorts for display)."""
    key = lambda entries: sorted(layout.canonical(e) for e in entries)  # noqa: E731
    return key(a) == key(b)


# -- tombstones ---------------------------------------------------------------------------------
def merge_tombstones(a: dict[str, dict], b: dict[str, dict]) -> dict[str, dict]:
    out = {k: dict(v) for k, v in a.items()}
    for cid, tomb in b.items():
        if cid in out:
            mine = out[cid]
            out[cid] = {"deleted_at": _latest(mine.get("deleted_at"), tomb.get("deleted_at"))
                        or mine.get("deleted_at", ""),
                        "message_ids": sorted(set(mine.get("message_ids", []))
                                              | set(tomb.get("message_ids", [])))}
        else:
            out[cid] = dict(tomb)
    return out


def is_deleted(tomb: dict | None, message_ids: Iterable[str]) -> bool:
    """Deleted iff every message the conversation holds was seen by the device that deleted it:
    a message written elsewhere that the deleter never saw keeps the conversation alive."""
    if tomb is None:
        return False
    return set(message_ids) <= set(tomb.get("message_ids", []))
