"""Where things live on disk, and the path-safety rules (docs/ARCHITECTURE.md, "Auth, settings and safety")."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import platformdirs

from archpal_desktop import APP_ID
from archpal_desktop.core.errors import BadDataError


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False))


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_ID, appauthor=False)) / "config.toml"


def user_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False))


def default_system_config_file() -> Path:
    """The admin's site file: one documented path per OS (docs/ADMIN.md)."""
    if sys.platform.startswith("win"):
        base = os.environ.get("ProgramData", r"C:\ProgramData")
        return Path(base) / "ArchPal" / "config.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/ArchPal/config.toml")
    return Path("/etc/archpal-desktop/config.toml")


def in_test_run() -> bool:
    """True inside the project's own test run (pytest imported in this process). An environment
    variable would not do: any user can set one, and the site file's locks must not be
    switchable off from a shell."""
    return "pytest" in sys.modules


def system_config_override() -> Path | None:
    """``ARCHPAL_SYSTEM_CONFIG``, if set: honoured as *the* site file only in test runs; otherwise
    only for a root-owned file, read in addition to the real one (see config.load_settings)."""
    override = os.environ.get("ARCHPAL_SYSTEM_CONFIG")
    return Path(override) if override else None


def system_config_file() -> Path:
    """Where the site file is read (and where ``admin`` commands write it)."""
    override = system_config_override()
    if override is not None and (in_test_run() or not file_trust_problem(override, site=True)):
        return override
    return default_system_config_file()


def site_file_owners() -> frozenset[int]:
    """Who may own a site file: root; in a test run also the user running the tests (their
    temporary site files are theirs)."""
    return frozenset({0, os.getuid()}) if in_test_run() else frozenset({0})


def file_trust_problem(path: Path, *, site: bool) -> str | None:
    """Why a settings file must not be trusted, or None. POSIX: the file must be a regular file
    owned by the user (a site file: by root) that neither group nor others can write; another
    local user who could write it could point the app at her own servers. A file that does not
    exist is no problem (nothing to read). On Windows the site file's ACL is checked by
    :func:`windows_site_file_problem`; user files live in the profile, which Windows keeps private.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it could not be checked ({exc.strerror})"
    if os.name != "posix":
        return windows_site_file_problem(path) if site else None
    import stat as stat_mod

    if not stat_mod.S_ISREG(st.st_mode):
        return "it is not a regular file"
    owners = site_file_owners() if site else frozenset({os.getuid()})
    if st.st_uid not in owners:
        return "it is owned by another user" if not site else "it is not owned by root"
    if st.st_mode & 0o022:
        return "other users can change it (it is writable by group or others)"
    return None


def windows_site_file_problem(path: Path) -> str | None:
    """Windows: a clause when non-administrators can change the site file at ``path`` or its
    folder, else None (the ACL check of :mod:`archpal_desktop.core.winacl`, issue 18 point 23)."""
    from archpal_desktop.core import winacl

    return winacl.site_file_problem(path)


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


def make_dirs_private(path: Path) -> Path:
    """Create ``path`` and every missing parent, each 0700; folders that already exist keep
    their mode (a shared folder or the home folder chosen as a target is not the app's)."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for level in reversed(missing):
        try:
            level.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made by another process meanwhile: not ours to change
        if os.name == "posix":
            os.chmod(level, 0o700)  # mkdir's mode passes through the umask; say it exactly
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder.")
    return path


def ensure_private_dir(path: Path) -> Path:
    """One of the app's own folders (settings, data, logs): missing levels are created 0700 and
    the folder itself is kept 0700."""
    make_dirs_private(path)
    if os.name == "posix":
        os.chmod(path, 0o700)
    return path


@contextlib.contextmanager
def atomic_target(path: Path, mode: int = 0o600) -> Iterator[tuple[int, Path]]:
    """``(fd, temporary path)`` for a file that replaces ``path`` when the block ends.

    The temporary file is made by ``mkstemp`` in the target's folder: a fresh name opened with
    O_EXCL and mode 0600 from its first byte, so nobody can plant it beforehand (a shared folder)
    or read it while it is written; it is removed if the block fails. The caller writes through
    ``fd`` and leaves it open; it is fsynced and closed here.
    """
    path = Path(path)
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        yield fd, Path(tmp)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        if os.name == "posix" and mode != 0o600:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write to a fresh temporary name in the same folder, fsync, then move into place."""
    with atomic_target(path, mode) as (fd, _tmp):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
