"""Which links from a reply may be followed, and how exports keep only those (design section 8).

One rule for the chat view, the PDF and the Markdown export: ``https:`` links with a host, and
``mailto:`` with one plain address and at most a subject. Anything else (``file:``,
``javascript:``, ``data:``, ``smb:``, ``http:``, ``qrc:``, a ``mailto:`` carrying ``attach=`` or
``cc=``...) is never a link. Two kinds of https link are followed only after the person has seen
where they really go: a link with user info (``https://good.edu@evil.example/`` goes to
``evil.example``) and a link whose text names another host than the one it opens.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

OPEN, ASK, REFUSE = "open", "ask", "refuse"

_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_HOSTLIKE = re.compile(r"(?:https?://)?((?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63})(?::\d+)?(?:[/?#]\S*)?")
#: characters browsers and URL parsers read differently (``\`` is ``/`` to a browser), or that
#: hide what a link is
_UNSAFE = re.compile(r"[\\\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class LinkCheck:
    verdict: str       # OPEN, ASK or REFUSE
    host: str = ""     # where an https link really goes
    reason: str = ""   # for ASK and REFUSE: a sentence for the person


def check(href: str, text: str = "") -> LinkCheck:
    """The verdict on a link ``href`` shown as ``text``."""
    href = (href or "").strip()
    if not href or _UNSAFE.search(href):
        return LinkCheck(REFUSE, reason="This link is malformed.")
    scheme = href.split(":", 1)[0].lower() if ":" in href else ""
    if scheme == "mailto":
        return _check_mailto(href)
    if scheme != "https":
        return LinkCheck(REFUSE, reason=f"ArchPal opens only https and e-mail links, not "
                                        f"{scheme or 'relative'} links.")
    try:
        parts = urlsplit(href)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return LinkCheck(REFUSE, reason="This link is malformed.")
    if not host:
        return LinkCheck(REFUSE, reason="This link names no web site.")
    if "@" in parts.netloc:
        return LinkCheck(ASK, host, f"This link goes to {host}, not to "
                                    f"{parts.netloc.rsplit('@', 1)[0]}.")
    shown = text_host(text)
    if shown and shown != host:
        return LinkCheck(ASK, host, f"The link text says {shown}, but it goes to {host}.")
    return LinkCheck(OPEN, host)


def _check_mailto(href: str) -> LinkCheck:
    body = href.split(":", 1)[1]
    address, _, query = body.partition("?")
    if "#" in body or not _ADDRESS.fullmatch(unquote(address)):
        return LinkCheck(REFUSE, reason="ArchPal opens only e-mail links to one plain address.")
    try:
        fields = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        return LinkCheck(REFUSE, reason="This e-mail link is malformed.")
    if any(name.lower() != "subject" for name, _ in fields) or len(fields) > 1:
        return LinkCheck(REFUSE, reason="This e-mail link asks your mail program to do more than "
                                        "address a message (for example attach a file).")
    return LinkCheck(OPEN)


def text_host(text: str) -> str:
    """The host a link's text names (``good.edu``, ``https://good.edu/x``), or '' for words."""
    m = _HOSTLIKE.fullmatch((text or "").strip())
    return m.group(1).lower() if m else ""


def followable(href: str) -> bool:
    """May this ever be a clickable link (perhaps after asking)?"""
    return check(href).verdict != REFUSE


# -- Markdown export ----------------------------------------------------------------------------
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
# [text](url "title") and ![alt](url); the URL may hold one level of balanced parentheses
_INLINE_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?((?:[^\s()<>]|\([^\s()<>]*\))*)>?"
                          r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REF_DEF = re.compile(r"^( {0,3}\[[^\]\n]+\]:\s*)<?(\S+?)>?(\s.*)?$")


def safe_markdown(text: str) -> str:
    """Markdown as a viewer would render it safely: raw HTML shows as text (``<script>``,
    ``<iframe>``, ``<img>``), images become plain links (a viewer fetching them would tell a
    server who read the export), and links outside the rule above lose their target."""
    out: list[str] = []
    fence = ""
    for line in (text or "").split("\n"):
        m = _FENCE.match(line)
        if fence:
            out.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
            continue
        if m:
            fence = m.group(1)
            out.append(line)
            continue
        if line.startswith(("    ", "\t")) and (not out or not out[-1].strip()):
            out.append(line)  # an indented code block: shown as it is, nothing renders in it
            continue
        out.append(_safe_line(line))
    return "\n".join(out)


def _safe_line(line: str) -> str:
    ref = _REF_DEF.match(line)
    if ref:
        return ref.group(1) + (ref.group(2) if _export_link(ref.group(2)) else "#") + (ref.group(3) or "")
    pieces, last = [], 0
    for span in _CODE_SPAN.finditer(line):
        pieces.append(_safe_prose(line[last:span.start()]))
        pieces.append(span.group(0))  # code spans render their text literally already
        last = span.end()
    pieces.append(_safe_prose(line[last:]))
    return "".join(pieces)


def _export_link(href: str) -> bool:
    # an export cannot ask before opening: only links that would open at once stay links
    return check(href).verdict == OPEN


def _escape_html(text: str) -> str:
    # "<" opens every HTML tag, comment and autolink; as an entity it is plain text
    return text.replace("<", "&lt;")


def _safe_prose(text: str) -> str:
    out, last = [], 0
    for m in _INLINE_LINK.finditer(text):
        out.append(_escape_html(text[last:m.start()]))
        out.append(_safe_link(m))
        last = m.end()
    out.append(_escape_html(text[last:]))
    return "".join(out)


def _safe_link(m: re.Match) -> str:
    bang, label, href = m.group(1), _escape_html(m.group(2)), m.group(3)
    if bang:  # never an embedded image; its address at most as a link
        label = label or "image"
        return f"[{label}]({href})" if _export_link(href) else label
    if check(href, m.group(2)).verdict == OPEN:
        return f"[{label}]({href})"
    where = check(href).host
    return f"{label} ({where})" if where and where != text_host(m.group(2)) else label
