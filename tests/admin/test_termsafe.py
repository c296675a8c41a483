"""Issue 18 point 15: S3-derived text printed to a terminal shows its control characters."""
from __future__ import annotations

from archpal_desktop.core.termsafe import escape


def test_escape_controls_and_bidi():
    assert escape("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape("x\x9b31m\x7f\u202eevil") == "x\\x9b31m\\x7f\\u202eevil"
    assert escape("one\ntwo\rthree\tfour") == "one\\x0atwo\\x0dthree\\x09four"
    assert escape("one\ntwo\tthree\x1b", multiline=True) == "one\ntwo\tthree\\x1b"
    assert escape("plain é ü 中文") == "plain é ü 中文"


def test_usage_report_escapes_user_folder_names(cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="users/evil\x1b]0;owned\x07/info.json", Body=b"{}")
    run = cli("admin", "usage", "--bucket", bucket, "--quiet")
    assert run.code == 0, run.err
    assert "\x1b" not in run.out and "evil\\x1b]0;owned\\x07" in run.out
