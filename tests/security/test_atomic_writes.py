"""Point 4: every atomic write goes through a fresh mkstemp file in the target folder (0600 from
the start, removed on failure); the PDF export no longer writes a predictable ``.<name>.tmp``."""
from __future__ import annotations

import os
import stat

import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from archpal_desktop.core import paths
from tests.ui.conftest import wait_idle


def _shared_folder(tmp_path):
    shared = tmp_path / "lab-folder"
    shared.mkdir()
    shared.chmod(0o1777)  # a lab's shared folder: everyone may create files in it
    return shared


def test_pdf_export_does_not_write_into_a_planted_temp_file(qtbot, make_window, state, tmp_path,
                                                            monkeypatch):
    conv = state.store.create_conversation("Planted")
    state.store.add_message(conv.conversation_id, "user", "My private draft paragraph")
    shared = _shared_folder(tmp_path)
    target = shared / "essay.pdf"
    # another user prepared the old predictable name as a link to a file she can read
    loot = tmp_path / "loot.bin"
    loot.write_bytes(b"")
    loot.chmod(0o666)
    (shared / ".essay.pdf.tmp").symlink_to(loot)
    # the platform's save dialog cannot be driven offscreen: it answers with the chosen path
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PDF (*.pdf)"))
    w = make_window()
    w.conversations.select(conv.conversation_id)
    wait_idle(qtbot, state)
    qtbot.keyClick(w, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: target.exists(), timeout=10000)
    wait_idle(qtbot, state)
    assert loot.read_bytes() == b"", "the PDF went into the planted file"
    assert not target.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = "".join(p.extract_text() for p in pypdf.PdfReader(str(target)).pages)
    assert "My private draft paragraph" in " ".join(text.split())
    leftovers = [p.name for p in shared.iterdir() if p.name not in ("essay.pdf", ".essay.pdf.tmp")]
    assert leftovers == []


def test_atomic_write_is_private_from_the_first_byte_and_cleans_up(tmp_path, monkeypatch):
    seen = []
    real_write = os.write

    def spy(fd, data):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    folder = tmp_path / "out"
    target = folder / "f.json"
    paths.atomic_write(target, b"{}", mode=0o644)
    assert seen and all(m == 0o600 for m in seen)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and target.read_bytes() == b"{}"

    def fail(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", fail)
    with pytest.raises(OSError):
        paths.atomic_write(target, b"new")
    assert target.read_bytes() == b"{}"
    assert sorted(p.name for p in folder.iterdir()) == ["f.json"]
