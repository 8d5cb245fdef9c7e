#!/usr/bin/env bash
# Builds the JupyterLab extension from labextension/ (TypeScript) into
# qrt_jupyter/labextension/ (the prebuilt assets the wheel ships), then runs
# its TypeScript unit tests. Non-interactive: fine with CI=true and no stdin.
#
# Needs Node.js >= 20.19 with npm, and the Python package jupyter-builder
# (a dependency of jupyterlab >= 4.6; else `pip install jupyter-builder`).
#
#   scripts/build_labextension.sh              clean install, production build, unit tests
#   scripts/build_labextension.sh --develop    also link the build into this Python
#                                              environment for an editable install
#   scripts/build_labextension.sh --no-test    skip the unit tests
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

develop=0
run_tests=1
for arg in "$@"; do
    case "$arg" in
        --develop) develop=1 ;;
        --no-test) run_tests=0 ;;
        *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done

for tool in node npm jupyter-builder; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build_labextension.sh: '$tool' not found on PATH" >&2
        exit 1
    fi
done

export CI=true
export npm_config_yes=true
export npm_config_audit=false
export npm_config_fund=false
export npm_config_update_notifier=false
export npm_config_progress=false

cd "$ROOT/labextension"
if [ -f package-lock.json ]; then
    npm ci </dev/null
else
    npm install </dev/null
fi
npm run build:prod </dev/null

for target in package.json static/style.js install.json; do
    if [ ! -f "$ROOT/qrt_jupyter/labextension/$target" ]; then
        echo "build_labextension.sh: qrt_jupyter/labextension/$target was not built" >&2
        exit 1
    fi
done

if [ "$run_tests" = 1 ]; then
    npm test </dev/null
fi

if [ "$develop" = 1 ]; then
    # What `jupyter labextension develop --overwrite .` does: link
    # <prefix>/share/jupyter/labextensions/qrt_jupyter to the build output, so
    # that rebuilds are picked up without reinstalling.
    dest="$(python -c 'import sys; print(sys.prefix)')/share/jupyter/labextensions/qrt_jupyter"
    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest"
    ln -s "$ROOT/qrt_jupyter/labextension" "$dest"
    echo "linked $dest -> $ROOT/qrt_jupyter/labextension"
fi
