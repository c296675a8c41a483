#!/usr/bin/env bash
# Run ArchPal Desktop on its embedded local backend (no AWS account needed).
# Extra arguments are passed on, e.g. `bash run.sh --verbose`.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh
exec .venv/bin/python -m archpal_desktop --demo "$@"
