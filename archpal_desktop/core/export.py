"""Export: the whole local history in the web app's layout (a backup, and the shape S3 holds),
and one conversation as Markdown."""
from __future__ import annotations

from pathlib import Path

from archpal_desktop.core import layout, links, paths
from archpal_desktop.core.cache import Store, SyncTables
from archpal_desktop.core.sprints import SprintBook


def export_all(store: Store, out_dir: Path) -> dict[str, int]:
    """Write ``out_dir/info.json``, ``conversations.json``, ``conversations/<id>.json`` and
    ``sprints.json`` (every writing sprint that ended, from the cache).

    Every file goes to a temporary name first and is moved into place, so an interrupted export
    never leaves a half-written file. Folders created here are 0700; a folder that already
    exists keeps its mode (it may be a shared folder or the home folder). Returns counts of what
    was written.
    """
    out_dir = paths.make_dirs_private(Path(out_dir))
    tables = SyncTables(store)
    conv_dir = paths.make_dirs_private(out_dir / "conversations")
    with store.transaction():  # one consistent snapshot of the cache
        profile = store.get_profile()
        entries = tables.local_entries()
        sprints = SprintBook(store).history()
        docs = {}
        for cid in entries:
            if tables.has_file_content(cid):
                doc, _ = tables.local_doc(cid)
                if doc is not None:
                    docs[cid] = doc
    if profile is not None:
        paths.atomic_write(out_dir / "info.json", layout.dumps(profile))
    ordered = sorted(entries.values(), key=lambda e: (layout.ts_key(e.get("created_at")),
                                                      e["conversation_id"]))
    paths.atomic_write(out_dir / "conversations.json", layout.dumps(ordered))
    # the student's own record of writing sprints (also inside the conversations, as messages)
    paths.atomic_write(out_dir / "sprints.json", layout.dumps(sprints))
    messages = 0
    for cid, doc in docs.items():
        target = paths.safe_child(conv_dir, f"{layout.validate_conversation_id(cid)}.json")
        paths.atomic_write(target, layout.dumps(doc))
        messages += len(doc["messages"])
    return {"conversations": len(ordered), "files": len(docs), "messages": messages,
            "profile": int(profile is not None), "sprints": len(sprints)}


def conversation_markdown(store: Store, cid: str) -> str:
    """One conversation as Markdown, with the student's profile as a header."""
    conv = store.get_conversation(cid)
    if conv is None:
        raise KeyError(cid)
    profile = store.get_profile() or {}
    # every text from S3 or the model goes through the chat view's link rule and loses raw HTML
    lines = [f"# {links.safe_markdown(conv.title.replace(chr(10), ' '))}", ""]
    who = " ".join(x for x in (profile.get("first_name"), profile.get("last_name")) if x)
    if who:
        lines.append(f"*{who} · {profile.get('college_year', '')} · {profile.get('major', '')} · "
                     f"{profile.get('course_number', '')}*")
        lines.append("")
    for msg in store.load_messages(cid):
        speaker = "You" if msg.role == "user" else "ArchPal"
        when = layout.parse_ts(msg.timestamp).strftime("%b %d, %Y %I:%M %p UTC")
        lines.append(f"**{speaker}** — {when}")
        lines.append("")
        lines.append(links.safe_markdown(msg.content))
        lines.append("")
    return "\n".join(lines)
