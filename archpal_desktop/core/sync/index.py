"""The conversation index (conversations.json): merged entry by entry, written conditionally."""
from __future__ import annotations

from typing import TYPE_CHECKING

from archpal_desktop.core.documents import IndexEntry

from archpal_desktop.core import layout, merge
from archpal_desktop.core.errors import BadDataError, NotFoundError
from archpal_desktop.core.sync.conditional import Outcome, put_conditionally
from archpal_desktop.core.sync.remote import RemoteObject

if TYPE_CHECKING:
    from archpal_desktop.core.sync.engine import SyncEngine, SyncResult


class IndexStep:
    def __init__(self, engine: "SyncEngine"):
        self.e = engine
        self.tables = engine.tables
        self.key = layout.index_key(engine.sub)

    def sync(self, listing: dict[str, RemoteObject], result: "SyncResult") -> None:
        key = self.key
        obj = listing.get(key)
        etag, base = self.tables.state(key)
        base_entries = (base or {}).get("entries", [])
        remote_entries: list[IndexEntry] = []
        remote_etag = None
        if obj is not None:
            if self.tables.bad_etag(key) == obj.etag:
                self._unlisted(base_entries, result)
                return
            if etag == obj.etag:
                remote_entries, remote_etag = base_entries, etag
            else:
                try:
                    remote_entries, remote_etag = self.get(result)
                except BadDataError as exc:
                    self.e.mark_bad(result, key, obj.etag, None, exc)
                    self._unlisted(base_entries, result)
                    return
        file_present = set(self.e.conversations.keys(listing, type(result)()))
        file_present |= set(result.pushed)
        write = _IndexWrite(self, result, base_entries, remote_entries, remote_etag, file_present)
        outcome = put_conditionally(self.e.remote, write, sleep=self.e.sleep,
                                    on_conflict=lambda: setattr(result, "conflicts", result.conflicts + 1))
        if outcome is Outcome.GAVE_UP:
            result.deferred.append(key)  # the web app keeps rewriting it: the next sync finishes it

    def _unlisted(self, base_entries: list[IndexEntry], result: "SyncResult") -> None:
        """The index is malformed and left as it is: the conversations it has no entry for are
        saved (and their files uploaded) but the web app cannot list them. Say so, every sync."""
        listed = {e.get("conversation_id") for e in base_entries}
        missing = [(cid, entry.get("title") or cid) for cid, entry in self.tables.local_entries().items()
                   if cid not in listed]
        if not missing:
            return
        result.blocked.extend(cid for cid, _ in missing)
        titles = ", ".join(f"\u201c{title}\u201d" for _, title in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        self.e.report(result, self.key + "#unlisted",
                      f"{titles}{more} are saved on this computer and uploaded, but the web app cannot "
                      f"list them: the conversation index ({self.key}) is malformed, so it was left as "
                      "it is. Ask your IT helpdesk to repair or remove that file; ArchPal adds them to "
                      "the index at the next sync after that.", first=True)

    def get(self, result: "SyncResult | None" = None) -> tuple[list[IndexEntry], str]:
        body, etag = self.e.remote.get(self.key)
        entries = layout.parse_index(body, key=self.key)
        for entry in entries:
            if result is not None and not layout.is_valid_entry(entry):
                self.e.report(result, self.key, f"{self.key} has an entry with an invalid id "
                              f"{entry.get('conversation_id')!r}; it was left as it is and skipped.")
        return entries, etag


class _IndexWrite:
    def __init__(self, step: IndexStep, result: "SyncResult", base_entries: list[IndexEntry],
                 remote_entries: list[IndexEntry], remote_etag: str | None, file_present: set[str]):
        self.step, self.result = step, result
        self.tables = step.tables
        self.key = step.key
        self.base_entries = base_entries
        self.remote_entries, self.remote_etag = remote_entries, remote_etag
        self.file_present = file_present
        self.merged: list[IndexEntry] = []

    def plan(self) -> tuple[bytes, str | None] | None:
        tables = self.tables
        tombs = merge.merge_tombstones(tables.local_tombstones(), {})
        deleted = {cid for cid, t in tombs.items() if merge.is_deleted(t, tables.all_message_ids(cid))}
        local = tables.local_entries()
        titled = tables.titled_here()
        remote_map = merge.index_as_map(self.remote_entries)
        for cid, entry in local.items():
            # a title this device never set is no local opinion: the remote's stands
            if cid not in titled and cid in remote_map and "title" in remote_map[cid]:
                entry["title"] = remote_map[cid]["title"]
        counts = tables.known_counts()
        self.merged = merge.merge_index(merge.index_as_map(self.base_entries), local,
                                        self.remote_entries, counts, deleted)
        if self.remote_etag is not None and merge.same_index(self.merged, self.remote_entries):
            tables.apply_index(self.merged, self.file_present, key=self.key, etag=self.remote_etag)
            return None
        return layout.dumps(self.merged), self.remote_etag

    def reread(self) -> bool:
        try:
            self.remote_entries, etag = self.step.get()
            self.remote_etag = etag
        except NotFoundError:
            self.remote_entries, self.remote_etag = [], None
        except BadDataError as exc:
            self.step.e.mark_bad(self.result, self.key, "", None, exc)
            return False
        return True

    def written(self, etag: str) -> None:
        self.tables.apply_index(self.merged, self.file_present, key=self.key, etag=etag)
        self.result.index_pushed = True
