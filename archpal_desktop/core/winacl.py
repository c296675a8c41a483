"""Windows: is the site file (``%ProgramData%\\ArchPal\\config.toml``) safe to obey?

Its ``[managed]`` keys bind every user of the computer, so only administrators may be able to
change it. ``%ProgramData%`` lets standard users create files and folders (and own what they
create), so a site folder that was not made by the MSI, or a file whose ACL was loosened, lets
one student plant settings for all. The MSI creates the folder with a protected ACL
(``packaging/windows/archpal.wxs``); the app checks it again before reading the file.

The decision is :func:`write_problem`, a pure function over the security descriptors in SDDL
(SIDs, not localised account names), so it is tested on any OS with real descriptors;
:func:`read_sddl` fetches them on Windows. The one entry point for the settings loader is
:func:`site_file_problem`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

#: SIDs that may write the site file: LocalSystem, BUILTIN\\Administrators, TrustedInstaller
TRUSTED_SIDS = {"SY", "S-1-5-18", "BA", "S-1-5-32-544",
                "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"}
#: inherit-only ACEs (IO) apply to children, not to the object they sit on
_INHERIT_ONLY = "IO"

# access-mask bits that let a holder change the file, or swap it for one of their own
FILE_WRITE_DATA = 0x2          # on a folder: add a file
FILE_APPEND_DATA = 0x4         # on a folder: add a subfolder
FILE_WRITE_EA = 0x10
FILE_DELETE_CHILD = 0x40
FILE_WRITE_ATTRIBUTES = 0x100
DELETE = 0x10000
WRITE_DAC = 0x40000
WRITE_OWNER = 0x80000
GENERIC_ALL = 0x10000000
GENERIC_WRITE = 0x40000000
FILE_MASK = (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES | DELETE
             | WRITE_DAC | WRITE_OWNER | GENERIC_ALL | GENERIC_WRITE)
#: on the folder: adding, deleting or renaming entries, or taking the folder over
FOLDER_MASK = FILE_WRITE_DATA | FILE_DELETE_CHILD | DELETE | WRITE_DAC | WRITE_OWNER | \
    GENERIC_ALL | GENERIC_WRITE

# SDDL right letters (file objects use the directory-service letters for the specific bits)
_RIGHTS = {"GA": GENERIC_ALL, "GW": GENERIC_WRITE, "GR": 0x80000000, "GX": 0x20000000,
           "FA": 0x1F01FF, "FW": 0x120116, "FR": 0x120089, "FX": 0x1200A0,
           "SD": DELETE, "WD": WRITE_DAC, "WO": WRITE_OWNER, "RC": 0x20000,
           "CC": 0x1, "DC": FILE_WRITE_DATA, "LC": FILE_APPEND_DATA, "SW": 0x8,
           "RP": FILE_WRITE_EA, "WP": 0x20, "DT": FILE_DELETE_CHILD, "LO": 0x80,
           "CR": FILE_WRITE_ATTRIBUTES}
#: well-known SID abbreviations, for messages
_NAMES = {"BU": "Users", "WD": "Everyone", "AU": "Authenticated Users", "IU": "Interactive users",
          "BG": "Guests", "CO": "CREATOR OWNER", "OW": "OWNER RIGHTS", "S-1-1-0": "Everyone",
          "S-1-5-32-545": "Users", "S-1-5-11": "Authenticated Users"}

_ACE_RE = re.compile(r"\(([^()]*)\)")


class SddlError(ValueError):
    """The descriptor could not be read: the site file is then treated as unsafe."""


def _mask(rights: str) -> int:
    if rights.lower().startswith("0x"):
        return int(rights, 16)
    if rights.isdigit():
        return int(rights)
    if len(rights) % 2:
        raise SddlError(f"unknown rights {rights!r}")
    mask = 0
    for i in range(0, len(rights), 2):
        letter = rights[i:i + 2]
        if letter not in _RIGHTS:
            raise SddlError(f"unknown right {letter!r}")
        mask |= _RIGHTS[letter]
    return mask


def _parts(sddl: str) -> tuple[str | None, str | None]:
    """(owner SID, DACL text) of an SDDL string."""
    owner = re.search(r"O:([A-Z]{2}|S-[0-9-]+)", sddl)
    dacl = re.search(r"D:([^()]*)((?:\([^()]*\))*)", sddl)
    return (owner.group(1) if owner else None,
            (dacl.group(1) + dacl.group(2)) if dacl else None)


def _writers(sddl: str, mask: int) -> tuple[list[str], str | None]:
    """Untrusted SIDs that an allow ACE grants any of ``mask``; and the owner if untrusted."""
    owner, dacl = _parts(sddl)
    if dacl is None:
        raise SddlError("no DACL in the descriptor")
    flags = dacl.split("(", 1)[0]
    if "NO_ACCESS_CONTROL" in flags:  # a NULL DACL: anyone may do anything
        return ["Everyone (no access control list)"], None
    found = []
    for ace in _ACE_RE.findall(dacl):
        fields = ace.split(";")
        if len(fields) < 6:
            raise SddlError(f"unreadable entry ({ace})")
        kind, ace_flags, rights, sid = fields[0], fields[1], fields[2], fields[5]
        if kind not in ("A", "OA") or _INHERIT_ONLY in ace_flags:
            continue  # deny entries only take rights away; the check stays strict without them
        if sid not in TRUSTED_SIDS and _mask(rights) & mask:
            found.append(_NAMES.get(sid, sid))
    bad_owner = None if owner is None or owner in TRUSTED_SIDS else _NAMES.get(owner, owner)
    return found, bad_owner


def write_problem(file_sddl: str | None, folder_sddl: str | None) -> str | None:
    """Why the site file can be changed by someone who is not an administrator, or None.

    ``file_sddl`` / ``folder_sddl``: the owner and DACL of the file and of its folder (None for
    a file that does not exist: then only the folder is judged). The owner of an object can
    always rewrite its ACL, so an owner other than SYSTEM/Administrators counts as a writer.
    """
    reasons = []
    try:
        for what, sddl, mask in (("the file", file_sddl, FILE_MASK),
                                 ("its folder", folder_sddl, FOLDER_MASK)):
            if sddl is None:
                continue
            writers, owner = _writers(sddl, mask)
            if writers:
                reasons.append(f"{', '.join(dict.fromkeys(writers))} can change {what}")
            if owner:
                reasons.append(f"{what} is owned by {owner}")
    except (SddlError, ValueError) as exc:
        return f"its permissions could not be read ({exc})"
    return "; ".join(reasons) or None


def read_sddl(path: Path) -> str | None:  # pragma: no cover - Windows only
    """The owner and DACL of ``path`` as SDDL (Windows), None when it does not exist."""
    import ctypes
    from ctypes import wintypes

    win_dll = getattr(ctypes, "WinDLL")  # Windows' ctypes only
    advapi = win_dll("advapi32", use_last_error=True)
    kernel = win_dll("kernel32", use_last_error=True)
    se_file_object, owner_info, dacl_info = 1, 0x1, 0x4
    descriptor = ctypes.c_void_p()
    rc = advapi.GetNamedSecurityInfoW(ctypes.c_wchar_p(str(path)), se_file_object,
                                      owner_info | dacl_info, None, None, None, None,
                                      ctypes.byref(descriptor))
    if rc in (2, 3):  # ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND
        return None
    if rc:
        raise OSError(rc, f"GetNamedSecurityInfoW failed for {path}")
    try:
        text, size = wintypes.LPWSTR(), wintypes.ULONG()
        if not advapi.ConvertSecurityDescriptorToStringSecurityDescriptorW(
                descriptor, 1, owner_info | dacl_info, ctypes.byref(text), ctypes.byref(size)):
            raise OSError(getattr(ctypes, "get_last_error")(),
                          "ConvertSecurityDescriptorToString failed")
        try:
            return text.value
        finally:
            kernel.LocalFree(text)
    finally:
        kernel.LocalFree(descriptor)


def site_file_problem(path: Path, *, read: Callable[[Path], str | None] | None = None,
                      windows: bool | None = None) -> str | None:
    """For the settings loader (``paths.windows_site_file_problem``): why the site file at
    ``path`` must be ignored, as a clause ("Users can change its folder (...)"), or None.
    Always None off Windows, where the POSIX owner and mode checks apply. ``read`` and
    ``windows`` exist for tests: a descriptor reader and the OS to judge for."""
    if not (os.name == "nt" if windows is None else windows):
        return None
    path = Path(path)
    reader = read or read_sddl
    try:
        problem = write_problem(reader(path), reader(path.parent))
    except OSError as exc:
        problem = f"its permissions could not be read ({exc.strerror or exc})"
    if problem is None:
        return None
    return (f"{problem} (only Administrators and SYSTEM may change the site file; reinstalling "
            "ArchPal sets its folder's permissions)")
