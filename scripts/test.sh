#!/usr/bin/env bash
# Installs everything the test suite needs, then runs all of it: ruff, the unit,
# integration and REST tests, the JupyterLab extension's TypeScript tests, the
# notebooks under nbval and the browser tests (JupyterLab in headless Chromium).
#
# Works on a fresh machine, non-interactively (CI=true, no stdin). Installs
# Debian's chromium when it is missing (needs root, as on the CI machines).
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1
export DEBIAN_FRONTEND=noninteractive

if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser tests"
    apt-get update -qq </dev/null
    apt-get install -y -qq chromium </dev/null >/dev/null
fi

echo "== installing qrt_jupyter with its test dependencies"
python -m pip install --quiet --editable ".[test]" </dev/null

echo "== building the JupyterLab extension and running its unit tests"
bash scripts/build_labextension.sh --develop </dev/null
bash scripts/enable_extensions.sh </dev/null

echo "== ruff"
ruff check .

echo "== pytest: tests, notebooks, browser"
# a private store for the whole run: notebooks that use the default store write here
QRT_HOME="$(mktemp -d)"
export QRT_HOME
python -m pytest -p no:cacheprovider tests \
    --nbval-lax --nbval-current-env notebooks "$@" </dev/null
