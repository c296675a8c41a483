"""Build the coach relay's Lambda zip: ``python packaging/aws/build_relay.py --out archpal-relay.zip``.

The zip holds ``run.sh`` (the handler the Lambda Web Adapter starts: it runs the relay's HTTP
server on $PORT), ``archpal_desktop/relay`` and ``archpal_desktop/core`` (what the relay uses;
no window, CLI or local backend), and the relay's dependencies built for Lambda's Linux
(``pip --platform manylinux2014_x86_64 --only-binary=:all:``, so it works from any machine).
Upload it to the ``RelayCodeBucket`` of the site template. The change feed's function uses the
same zip with another handler (``archpal_desktop.relay.changes.handler``, plain Python runtime,
no Web Adapter).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("archpal_desktop/relay", "archpal_desktop/core")
#: what archpal_desktop.relay imports outside the standard library, with what they require
#: (tests/relay/test_build_relay.py checks the list against a real import); boto3 is in the zip
#: because the runtime's copy can be older than the Converse API, pycognito and keyring because
#: the token verification lives in core.auth, whose package imports them (unused by the relay)
DEPENDENCIES = ("boto3>=1.34", "PyJWT[crypto]>=2.8", "requests>=2.31", "platformdirs>=4.0", "tomli-w>=1.0",
                "pycognito>=2024.5.1", "keyring>=25.0")
RUN_SH = "#!/bin/sh\n# started by the Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap)\n" \
         "exec python3 -m archpal_desktop.relay\n"


def _add_tree(zf: zipfile.ZipFile, base: Path, rel: str) -> None:
    for path in sorted((base / rel).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            zf.write(path, path.relative_to(base).as_posix())


def build(out: Path, *, with_dependencies: bool = True, python: str = "3.11") -> Path:
    with tempfile.TemporaryDirectory(prefix="archpal-relay-") as tmp:
        deps = Path(tmp) / "deps"
        if with_dependencies:
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(deps),
                            "--platform", "manylinux2014_x86_64", "--implementation", "cp",
                            "--python-version", python, "--only-binary=:all:", *DEPENDENCIES],
                           check=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            info = zipfile.ZipInfo("run.sh")
            info.external_attr = 0o100755 << 16   # executable: Lambda runs it as the handler
            zf.writestr(info, RUN_SH)
            zf.write(ROOT / "archpal_desktop" / "__init__.py", "archpal_desktop/__init__.py")
            for rel in PACKAGES:
                _add_tree(zf, ROOT, rel)
            if deps.is_dir():
                _add_tree(zf, deps, ".")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="archpal-relay.zip")
    parser.add_argument("--python-version", default="3.11", help="the Lambda runtime's (python3.11)")
    parser.add_argument("--no-dependencies", action="store_true",
                        help="only the relay's own code (for a layer that carries the rest)")
    args = parser.parse_args(argv)
    out = build(Path(args.out), with_dependencies=not args.no_dependencies, python=args.python_version)
    print(f"{out} ({out.stat().st_size:,} bytes): upload it to RelayCodeBucket/RelayCodeKey")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
