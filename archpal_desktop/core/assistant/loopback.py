"""Who is listening on a loopback port, before the local model gets the student's history.

Any local user can listen on 127.0.0.1:11434 when Ollama is not running and would receive the
history and ``Authorization: Bearer <openai_api_key>``. On Linux the kernel says who owns each
listening socket (``/proc/net/tcp`` and ``tcp6``: the ``uid`` column of the LISTEN row for the
port), so a listener of another person is refused. Accepted owners: the student, root, and
system accounts (uid below ``UID_MIN`` of /etc/login.defs, 1000 by default: Debian's ``ollama``
service user is one), which only an administrator can create.

Other systems (docs/SECURITY.md): macOS has no unprivileged per-socket owner query short of
``lsof``/libproc on other users' processes, which it denies; Windows would need
``GetExtendedTcpTable`` + the process token (an ACL question for the admin). There the local
model stays opt-in (``openai_fallback`` off by default, ``provider = "openai"`` an explicit
choice) and every reply it writes is labelled on its bubble, so nothing it says passes for
ArchPal's.
"""
from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

_LISTEN = "0A"


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _uid_min() -> int:
    try:
        for line in Path("/etc/login.defs").read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "UID_MIN" and parts[1].isdigit():
                return int(parts[1])
    except OSError:
        pass
    return 1000


def listener_uids(port: int, proc: Path = Path("/proc/net")) -> set[int]:
    """Owners of the sockets listening on ``port`` (any local address), from /proc/net."""
    uids: set[int] = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 8 or fields[3] != _LISTEN:
                continue
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port:
                uids.add(int(fields[7]))
    return uids


def listener_problem(url: str) -> str | None:
    """A sentence when the loopback server at ``url`` belongs to another local user, else None."""
    if not sys.platform.startswith("linux") or not is_loopback_url(url):
        return None
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    me, floor = os.getuid(), _uid_min()
    strangers = sorted(u for u in listener_uids(port) if u != me and u != 0 and u >= floor)
    if not strangers:
        return None
    try:
        import pwd

        who = ", ".join(pwd.getpwuid(u).pw_name for u in strangers)
    except (KeyError, ImportError):
        who = ", ".join(f"uid {u}" for u in strangers)
    return (f"The local model server on port {port} belongs to another user of this computer "
            f"({who}), so ArchPal did not send it your conversation. Start your own model server, "
            "or ask your IT administrator to run it as a system service.")
