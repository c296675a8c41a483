"""Who has signed in on this computer: ``<data_dir>/accounts.json`` (0600, never a secret).

It holds the last user's ``sub`` (so the app can open their cache offline at once) and, for
each user, the e-mail address and user pool, which a later start shows before the network is
back. Each user's cache lives apart under ``<data_dir>/users/<sub>/`` (core.cache).
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from archpal_desktop.core import paths
from archpal_desktop.core.errors import StorageError
from archpal_desktop.core.layout import validate_sub

log = logging.getLogger(__name__)

FILE_NAME = "accounts.json"


def _file(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def read(data_dir: Path) -> dict[str, Any]:
    try:
        doc = json.loads(_file(data_dir).read_text("utf-8"))
    except FileNotFoundError:
        return {"last": None, "users": {}}
    except (OSError, ValueError):
        log.warning("ignoring an unreadable %s", _file(data_dir))
        return {"last": None, "users": {}}
    if not isinstance(doc, dict):
        return {"last": None, "users": {}}
    users = doc.get("users") if isinstance(doc.get("users"), dict) else {}
    return {"last": doc.get("last"), "users": users}


def _write(data_dir: Path, doc: dict[str, Any]) -> None:
    paths.ensure_private_dir(Path(data_dir))
    paths.atomic_write(_file(data_dir), json.dumps(doc, indent=1, sort_keys=True).encode("utf-8"))


def last_user(data_dir: Path) -> str | None:
    sub = read(data_dir).get("last")
    try:
        return validate_sub(sub) if sub else None
    except Exception:  # a hand-edited file must not stop the app
        return None


def user_info(data_dir: Path, sub: str) -> dict[str, Any]:
    info = read(data_dir)["users"].get(sub)
    return info if isinstance(info, dict) else {}


def remember(data_dir: Path, sub: str, *, email: str, pool_id: str, via: str = "password") -> None:
    validate_sub(sub)
    doc = read(data_dir)
    doc["users"][sub] = {"email": email, "pool": pool_id, "via": via}
    doc["last"] = sub
    _write(data_dir, doc)


def forget_last(data_dir: Path, sub: str) -> None:
    """Signed out: the next start asks who is signing in (the cache itself stays)."""
    doc = read(data_dir)
    if doc.get("last") == sub:
        doc["last"] = None
        _write(data_dir, doc)


def remove_user_data(data_dir: Path, sub: str) -> bool:
    """Delete this user's local cache folder and entry; other users' data is untouched."""
    validate_sub(sub)
    users = Path(data_dir) / "users"
    removed = False
    if users.is_dir():
        folder = paths.safe_child(users, sub)
        if folder.exists():
            try:
                shutil.rmtree(folder)
            except OSError as exc:  # e.g. Windows refuses to delete a cache still open
                raise StorageError(f"This computer's copy of your conversations could not be "
                                   f"removed ({exc.strerror or exc}).",
                                   "Close ArchPal and try again; you are signed out.") from exc
            removed = True
    doc = read(data_dir)
    if doc["users"].pop(sub, None) is not None or doc.get("last") == sub:
        if doc.get("last") == sub:
            doc["last"] = None
        _write(data_dir, doc)
    return removed


def has_cache(data_dir: Path, sub: str) -> bool:
    """This user's conversations are cached on this computer (their folder holds a database)."""
    validate_sub(sub)
    from archpal_desktop.core.cache.records import DB_NAME  # the cache imports no auth: no cycle

    return (Path(data_dir) / "users" / sub / DB_NAME).is_file()
