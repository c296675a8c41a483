#!/usr/bin/env bash
# Set up everything the app and its tests need, on a fresh clone: system libraries Qt needs
# (when run as root on Debian/Ubuntu), then a virtualenv in .venv with the project installed.
# Safe to run again: it only reinstalls when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 \
libxcb-render-util0 libxcb-image0 libxcb-xkb1 libxrender1 libxi6 fonts-dejavu-core xvfb xauth libfreetype6 libx11-xcb1 libxcb1 libxcb-xfixes0 libxcb-sync1 libxcb-shm0 libxcb-render0"
# the browser sign-in tests drive a real browser, headless, through its DevTools protocol
BROWSER_TEST_PACKAGES="chromium"
APT_PACKAGES="$APT_PACKAGES $BROWSER_TEST_PACKAGES"
# the AT-SPI tests (tests/a11y): the accessibility bus and registry, a session bus, XTest keys
A11Y_PACKAGES="at-spi2-core dbus dbus-daemon libxtst6 libx11-6"
APT_PACKAGES="$APT_PACKAGES $A11Y_PACKAGES"

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  missing=""
  for p in $APT_PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "bootstrap: installing system packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=".venv/.archpal-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing Python packages (first run takes a minute)" >&2
  # (this machine's pip config names extra local indexes that may not exist: drop that noise)
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 >/dev/null | grep -v "WARNING: Location" >&2 || true
  .venv/bin/python -m pip install -q -e ".[dev]" 2> >(grep -v -e "WARNING: Location" >&2)
  echo "$want" > "$stamp"
fi
