"""Points 1 and 7: umask 077, private folders, settings files other users can write are refused,
and ARCHPAL_SYSTEM_CONFIG cannot cancel the machine's [managed] keys outside test runs.

The "another user" cases chown files to the unprivileged ``nobody`` account, which needs root;
they skip with a message otherwise."""
from __future__ import annotations

import json
import os
import pwd
import stat
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from archpal_desktop.cli import main
from archpal_desktop.core import paths

EVIL = "http://127.0.0.1:9/v1"
needs_root = pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0,
                                reason="chowning a file to another local user needs root")


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _nobody() -> int:
    return pwd.getpwnam("nobody").pw_uid


def _show(capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["config", "show"])
    out = capsys.readouterr()
    return code, out.out, out.err


def _user_file(text: str) -> Path:
    f = paths.user_config_file()
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)
    return f


def test_user_settings_file_writable_by_others_is_ignored_with_a_warning(capsys):
    f = _user_file(f'openai_base_url = "{EVIL}"\n')
    f.chmod(0o666)
    code, out, err = _show(capsys)
    assert code == 0
    assert EVIL not in out
    assert f"Ignored your settings file {f}" in err and "writable by group or others" in err
    f.chmod(0o600)
    code, out, err = _show(capsys)
    assert EVIL in out and "Ignored" not in err


@needs_root
def test_user_settings_file_owned_by_another_user_is_ignored(capsys):
    f = _user_file(f'openai_base_url = "{EVIL}"\n')
    f.chmod(0o644)
    os.chown(f, _nobody(), -1)
    code, out, err = _show(capsys)
    assert EVIL not in out and "owned by another user" in err


@needs_root
def test_site_file_not_owned_by_root_is_ignored(capsys):
    site = Path(os.environ["ARCHPAL_SYSTEM_CONFIG"])
    site.parent.mkdir(parents=True, exist_ok=True)
    site.write_text('[managed]\ns3_bucket_name = "planted-bucket"\n')
    site.chmod(0o644)
    os.chown(site, _nobody(), -1)
    code, out, err = _show(capsys)
    assert "planted-bucket" not in out
    assert f"Ignored the site settings file {site}: it is not owned by root" in err


def _run_outside_pytest(script: str, env: dict, umask: int | None = None):
    """A real start of the app in a fresh interpreter (no pytest: not a test run)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env, text=True,
                          capture_output=True, timeout=120,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def test_umask_000_still_gives_private_folders_and_log(tmp_path):
    home = tmp_path / "u"
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local/share"), XDG_STATE_HOME=str(home / ".local/state"))
    env.pop("ARCHPAL_LOG_DIR", None)
    out = tmp_path / "export"
    run = _run_outside_pytest(f"""
        from archpal_desktop.cli import main
        raise SystemExit(main(["export", "--all", "--out", {str(out)!r}, "--user", {str(uuid.uuid4())!r}]))
    """, env, umask=0)
    assert run.returncode == 0, run.stderr
    log_dir = Path(paths.user_log_dir().as_posix().replace(os.environ["XDG_STATE_HOME"],
                                                           str(home / ".local/state")))
    log_file = log_dir / "archpal-desktop.log"
    assert log_file.exists()
    assert _mode(log_file) == 0o600
    level = log_dir
    while level != home / ".local/state":
        assert _mode(level) == 0o700, level
        level = level.parent
    data = home / ".local/share" / "archpal-desktop"
    assert _mode(data) == 0o700 and _mode(data / "users") == 0o700
    assert _mode(out) == 0o700 and _mode(out / "conversations.json") == 0o600


@needs_root
@pytest.mark.parametrize("override", [os.devnull, "empty-root-file"])
def test_system_config_override_cannot_cancel_managed_keys(tmp_path, override):
    machine = tmp_path / "etc" / "config.toml"
    machine.parent.mkdir()
    machine.write_text('[managed]\ns3_bucket_name = "uga-archpal"\n')
    machine.chmod(0o644)
    if override == "empty-root-file":
        empty = tmp_path / "empty.toml"
        empty.write_text("")
        empty.chmod(0o644)
        override = str(empty)
    env = dict(os.environ, ARCHPAL_SYSTEM_CONFIG=override, ARCHPAL_S3_BUCKET_NAME="my-own-bucket")
    # the only harness change: the machine's site file lives in tmp_path instead of /etc
    run = _run_outside_pytest(f"""
        from pathlib import Path
        from archpal_desktop.core import paths
        paths.default_system_config_file = lambda: Path({str(machine)!r})
        from archpal_desktop.cli import main
        raise SystemExit(main(["config", "show"]))
    """, env)
    assert run.returncode == 0, run.stderr
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("s3_bucket_name"))
    assert "uga-archpal" in line and "[managed]" in line


def test_the_window_shows_the_ignored_settings_warning(tmp_path, local_aws, bucket):
    """The same refusal in the window a student opens: a real start of the app (its own process,
    offscreen), which reports the message box it shows and then closes."""
    f = _user_file(f's3_bucket_name = "{bucket}"\nopenai_base_url = "{EVIL}"\n')
    f.chmod(0o666)
    run = _run_outside_pytest(f"""
        import json, sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QMessageBox
        from archpal_desktop.cli import build_parser
        from archpal_desktop.cli.context import Context
        from archpal_desktop.ui import app as ui_app
        ctx = Context(build_parser().parse_args(["--user", {str(uuid.uuid4())!r}, "--data-dir",
                                                 {str(tmp_path / "data")!r}]))
        polls = iter(range(200))  # ten seconds at most
        def poll():
            boxes = [b for b in QApplication.topLevelWidgets()
                     if isinstance(b, QMessageBox) and b.isVisible()]
            if boxes:
                print(json.dumps([boxes[0].text(), boxes[0].textFormat().name]))
            if boxes or next(polls, None) is None:
                for w in QApplication.topLevelWidgets():
                    w.close()
                QApplication.quit()
            else:
                QTimer.singleShot(50, poll)
        ui_app.make_app()
        QTimer.singleShot(0, poll)
        code = ui_app.run_app(ctx)
        ctx.close()
        sys.exit(code)
    """, dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert run.returncode == 0, run.stderr
    text, fmt = json.loads(run.stdout.strip().splitlines()[-1])
    assert f"Ignored your settings file {f}" in text and fmt == "PlainText"
