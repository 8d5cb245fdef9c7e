#!/usr/bin/env bash
# Installs everything the test suite needs, then runs all of it: unit and
# integration tests, the notebooks under nbval, and ruff.
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install --quiet --editable ".[test]"

ruff check .
python -m pytest -p no:cacheprovider tests \
    --nbval-lax --nbval-current-env notebooks "$@"
