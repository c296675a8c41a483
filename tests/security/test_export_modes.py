"""Point 5: ``export --all --out DIR`` changes the mode of the folders it creates only."""
from __future__ import annotations

import stat
import uuid

from archpal_desktop.cli import main
from archpal_desktop.core.cache import Store


def _mode(p):
    return stat.S_IMODE(p.stat().st_mode)


def test_export_all_keeps_an_existing_folders_mode(tmp_path, capsys):
    sub = str(uuid.uuid4())
    data = tmp_path / "data"
    store = Store.open_for_user(data, sub)
    conv = store.create_conversation("Backup me")
    store.add_message(conv.conversation_id, "user", "hello")
    store.close()
    shared = tmp_path / "lab-folder"
    shared.mkdir()
    shared.chmod(0o755)
    out_existing = main(["export", "--all", "--out", str(shared), "--user", sub, "--data-dir", str(data)])
    assert out_existing == 0, capsys.readouterr().err
    assert _mode(shared) == 0o755
    assert _mode(shared / "conversations") == 0o700
    assert (shared / "conversations" / f"{conv.conversation_id}.json").exists()

    fresh = tmp_path / "new" / "deeper"
    assert main(["export", "--all", "--out", str(fresh), "--user", sub, "--data-dir", str(data)]) == 0
    assert _mode(fresh) == 0o700 and _mode(fresh.parent) == 0o700
