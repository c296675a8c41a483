"""Where things live on disk, and the path-safety rules (docs/ARCHITECTURE.md, "Auth, settings and safety")."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import platformdirs

from archpal_desktop import APP_ID
from archpal_desktop.core.errors import BadDataError


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False))


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_ID, appauthor=False)) / "config.toml"


def user_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False))


def system_config_file() -> Path:
    """The admin's site file: one documented path per OS (docs/ADMIN.md)."""
    override = os.environ.get("ARCHPAL_SYSTEM_CONFIG")
    if override:
        return Path(override)
    if sys.platform.startswith("win"):
        base = os.environ.get("ProgramData", r"C:\ProgramData")
        return Path(base) / "ArchPal" / "config.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/ArchPal/config.toml")
    return Path("/etc/archpal-desktop/config.toml")


def resources_dir() -> Path:
    """The top-level resources/ folder, from a checkout, an install or a frozen bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates.append(Path(frozen) / "resources")
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    candidates.append(Path(sys.prefix) / "share" / APP_ID / "resources")
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


def safe_child(folder: Path, name: str) -> Path:
    """``folder/name``, refusing anything that would resolve outside ``folder``."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise BadDataError(f"Refusing unsafe file name {name!r}.")
    base = Path(folder).resolve()
    path = (base / name).resolve()
    if path.parent != base:
        raise BadDataError(f"Refusing a path outside {base}: {name!r}.")
    return path


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(path, 0o700)
    return path


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write to a temporary name in the same folder, fsync, then move into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if os.name == "posix":
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
