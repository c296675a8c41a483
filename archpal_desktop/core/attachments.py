"""A student's draft attached to a message: its text read on this computer, sent as a marked block.

Supported: .docx and .odt (their XML read straight from the zip: no Office needed), .pdf (pypdf),
.txt and .md. Nothing leaves the computer but the extracted text, inside the message content,
as a block the web app shows as it is (a fenced block) and this app shows as a chip::

    📎 **essay.docx** (attached draft, 1,234 words)
    ~~~~draft
    ...the text...
    ~~~~

Every failure is an :class:`AttachmentError` whose words say why and what to do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUFFIXES = (".docx", ".pdf", ".odt", ".txt", ".md")
MAX_FILE_BYTES = 20 * 1024 * 1024     # a long thesis as .docx with images is well under this
MAX_TEXT_CHARS = 200_000              # ~50k tokens: room for the conversation beside it
MAX_XML_BYTES = 60 * 1024 * 1024      # refuse zip bombs before reading them
FENCE_INFO = "draft"

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
BLOCK_RE = re.compile(r"^📎 \*\*(?P<name>[^*\n]+)\*\* \(attached (?:draft|text), (?P<words>[\d,]+) words?\)\n"
                      r"(?P<fence>~{4,})" + FENCE_INFO + r"\n(?P<text>.*?)\n(?P=fence)$",
                      re.MULTILINE | re.DOTALL)


class AttachmentError(Exception):
    """A file that cannot be attached, with words for the student."""


@dataclass
class Attachment:
    name: str
    text: str
    kind: str = "draft"        # "draft" (a file) or "text" (a long paste)

    @property
    def words(self) -> int:
        return count_words(self.text)

    def block(self) -> str:
        return attachment_block(self.name, self.text, self.kind)


def count_words(text: str) -> int:
    return len(text.split())


def attachment_block(name: str, text: str, kind: str = "draft") -> str:
    longest = max((len(m) for m in re.findall(r"~{4,}", text)), default=3)
    fence = "~" * max(4, longest + 1)
    words = count_words(text)
    return (f"📎 **{_clean_name(name)}** (attached {kind}, {words:,} word{'s' if words != 1 else ''})\n"
            f"{fence}{FENCE_INFO}\n{text.rstrip()}\n{fence}")


def _clean_name(name: str) -> str:
    return re.sub(r"[*\n\r]+", " ", name).strip() or "draft"


def message_content(text: str, attachments: list[Attachment]) -> str:
    """The stored content: what the student wrote, then each attachment's block."""
    parts = [text.strip()] if text.strip() else []
    parts += [a.block() for a in attachments]
    return "\n\n".join(parts)


def split_blocks(content: str) -> list[tuple[str, str, str]]:
    """``content`` as pieces: ("text", words, "") and ("attachment", name, text), in order."""
    out: list[tuple[str, str, str]] = []
    pos = 0
    for m in BLOCK_RE.finditer(content):
        if m.start() > pos:
            out.append(("text", content[pos:m.start()], ""))
        out.append(("attachment", m.group("name"), m.group("text")))
        pos = m.end()
    if pos < len(content):
        out.append(("text", content[pos:], ""))
    return out


def check_text(name: str, text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\x00", "")
    if not text.strip():
        raise AttachmentError(f"“{name}” has no text to read (a scanned PDF or an empty file?). "
                              "Nothing was attached.")
    if len(text) > MAX_TEXT_CHARS:
        raise AttachmentError(f"“{name}” is too long to send: {len(text):,} characters; ArchPal takes "
                              f"up to {MAX_TEXT_CHARS:,} per message. Attach one chapter or section.")
    return text


def read_file(path: str | Path) -> Attachment:
    """Extract the text of ``path``; raises :class:`AttachmentError` with the reason."""
    p = Path(path)
    name = p.name
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise AttachmentError(f"“{name}” cannot be attached: ArchPal reads .docx, .pdf, .odt, .txt "
                              "and .md files.")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise AttachmentError(f"“{name}” could not be opened ({exc.strerror or 'no access'}).") from exc
    if size > MAX_FILE_BYTES:
        raise AttachmentError(f"“{name}” is too large ({size / 1_048_576:.1f} MB; the limit is "
                              f"{MAX_FILE_BYTES // 1_048_576} MB).")
    try:
        if suffix in (".txt", ".md"):
            text = _read_plain(p)
        elif suffix == ".docx":
            text = _read_docx(p)
        elif suffix == ".odt":
            text = _read_odt(p)
        else:
            text = _read_pdf(p)
    except AttachmentError:
        raise
    except OSError as exc:
        raise AttachmentError(f"“{name}” could not be read ({exc.strerror or exc}).") from exc
    except Exception as exc:  # a damaged or mislabelled file: say so, attach nothing
        raise AttachmentError(f"“{name}” could not be read as a {suffix[1:].upper()} file; it may be "
                              "damaged or of another kind. Nothing was attached.") from exc
    return Attachment(name, check_text(name, text))


def _read_plain(p: Path) -> str:
    data = p.read_bytes()
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096]:
        raise AttachmentError(f"“{p.name}” is not a text file. Nothing was attached.")
    return data.decode("cp1252", errors="replace")


def _zip_xml(p: Path, member: str) -> Any:
    # imported here: ElementTree costs ~16 ms, and the window imports this module at start-up
    import zipfile
    from xml.etree import ElementTree
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo(member)
        if info.file_size > MAX_XML_BYTES:
            raise AttachmentError(f"“{p.name}” is too large to read.")
        with zf.open(info) as fh:
            return ElementTree.fromstring(fh.read(MAX_XML_BYTES + 1))


def _read_docx(p: Path) -> str:
    root = _zip_xml(p, "word/document.xml")
    paras = []
    for para in root.iter(f"{_W}p"):
        bits = []
        for node in para.iter():
            if node.tag == f"{_W}t" and node.text:
                bits.append(node.text)
            elif node.tag == f"{_W}tab":
                bits.append("\t")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                bits.append("\n")
        paras.append("".join(bits))
    return "\n\n".join(x for x in paras if x.strip())


def _read_odt(p: Path) -> str:
    root = _zip_xml(p, "content.xml")
    paras = []

    def text_of(node) -> str:
        bits = [node.text or ""]
        for child in node:
            tag = child.tag
            if tag == f"{_TEXT_NS}s":
                bits.append(" " * int(child.get(f"{_TEXT_NS}c", "1")))
            elif tag == f"{_TEXT_NS}tab":
                bits.append("\t")
            elif tag == f"{_TEXT_NS}line-break":
                bits.append("\n")
            elif tag not in (f"{_TEXT_NS}note",):
                bits.append(text_of(child))
            bits.append(child.tail or "")
        return "".join(bits)
    for node in root.iter():
        if node.tag in (f"{_TEXT_NS}p", f"{_TEXT_NS}h"):
            paras.append(text_of(node))
    return "\n\n".join(x for x in paras if x.strip())


def _read_pdf(p: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError
    reader = PdfReader(str(p))
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception:
            pass
    try:
        pages = [page.extract_text() or "" for page in reader.pages]
    except FileNotDecryptedError as exc:
        raise AttachmentError(f"“{p.name}” is protected by a password. Save a copy without one "
                              "and attach that.") from exc
    return "\n\n".join(x.strip() for x in pages if x.strip())
