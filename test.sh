#!/usr/bin/env bash
# Run the whole test suite (sets itself up on a fresh clone). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/bootstrap.sh
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
.venv/bin/lint-imports pyproject.toml
.venv/bin/mypy archpal_desktop/core
exec .venv/bin/python -m pytest "$@"
