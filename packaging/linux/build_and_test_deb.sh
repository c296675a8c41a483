#!/usr/bin/env bash
# CI step (called from .ci/run after the tests): build the one-folder app and the .deb, install
# it with dpkg -i, run the *installed* app's --self-test offscreen, record bundle size and start
# times in build/package-report.json, and remove the package again (also on failure).
#   usage: packaging/linux/build_and_test_deb.sh [--skip-build]
# Needs root (or passwordless sudo) for dpkg -i / dpkg --purge, and the Depends: libraries
# installed (scripts/bootstrap.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
PY="${PYTHON:-$root/.venv/bin/python}"
report="$root/build/package-report.json"
SUDO=""
[ "$(id -u)" = "0" ] || SUDO="sudo -n"

if [ "${1:-}" != "--skip-build" ]; then
    "$PY" packaging/build_app.py
fi
version="$("$PY" -c 'import archpal_desktop; print(archpal_desktop.__version__)')"
deb="$(bash packaging/linux/build_deb.sh build/dist/archpal-desktop build/deb "$version")"
echo "build_and_test_deb: built $deb"

if dpkg -s archpal-desktop >/dev/null 2>&1; then
    echo "build_and_test_deb: removing a leftover archpal-desktop package first"
    $SUDO dpkg --purge archpal-desktop >/dev/null
fi
cleanup() { $SUDO dpkg --purge archpal-desktop >/dev/null 2>&1 || true; }
trap cleanup EXIT
$SUDO dpkg -i "$deb"

# what the package promised
test -x /usr/bin/archpal-desktop
test -x /opt/archpal-desktop/archpal-desktop
test -f /usr/share/applications/archpal-desktop.desktop
test -f /usr/share/icons/hicolor/scalable/apps/archpal-desktop.svg
grep -qx /etc/archpal-desktop/config.toml /var/lib/dpkg/info/archpal-desktop.conffiles
if command -v desktop-file-validate >/dev/null 2>&1; then
    desktop-file-validate /usr/share/applications/archpal-desktop.desktop
fi

# a clean user: own HOME, no AWS credentials or endpoints from the CI environment
home="$(mktemp -d)"
run_clean() {
    env -i PATH=/usr/bin:/bin HOME="$home" LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
        XDG_RUNTIME_DIR="$home" "$@"
}
t0="$(date +%s.%N)"
run_clean /usr/bin/archpal-desktop --version
t1="$(date +%s.%N)"
set +e
run_clean /usr/bin/archpal-desktop --self-test
selftest_rc=$?
set -e
t2="$(date +%s.%N)"
rm -rf "$home"

bundle_bytes="$(du -sb /opt/archpal-desktop | cut -f1)"
deb_bytes="$(stat -c %s "$deb")"
"$PY" - "$report" <<PYEOF
import json, sys
report = {
    "version": "$version",
    "deb": "$deb",
    "deb_mb": round($deb_bytes / 1e6, 1),
    "bundle_mb": round($bundle_bytes / 1e6, 1),
    "bundle_budget_mb": 130,
    "start_version_seconds": round($t1 - $t0, 2),
    "start_selftest_seconds": round($t2 - $t1, 2),
    "selftest_exit": $selftest_rc,
}
open(sys.argv[1], "w").write(json.dumps(report, indent=2))
print(json.dumps(report))
PYEOF

cleanup
trap - EXIT
if [ -e /opt/archpal-desktop ] || [ -e /usr/bin/archpal-desktop ]; then
    echo "build_and_test_deb: FAILED - files left behind after dpkg --purge" >&2
    exit 1
fi
if [ "$selftest_rc" != "0" ]; then
    echo "build_and_test_deb: FAILED - the installed app's --self-test exited $selftest_rc" >&2
    exit 1
fi
if [ "$bundle_bytes" -gt 130000000 ]; then
    echo "build_and_test_deb: FAILED - bundle is $((bundle_bytes / 1000000)) MB, over the 130 MB budget" >&2
    exit 1
fi
echo "build_and_test_deb: OK"
