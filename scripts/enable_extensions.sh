#!/usr/bin/env bash
# Makes sure Jupyter loads qrt_jupyter's server extension in the current Python
# environment. Safe to run repeatedly.
#
# A wheel install needs none of this: the wheel's shared-data puts
# etc/jupyter/jupyter_server_config.d/qrt_jupyter.json into the environment,
# and hatchling's editable install (`pip install -e .`) copies the same file.
# An environment whose editable install predates that file, or lost it, would
# start Jupyter without the REST API; `jupyter server extension enable` cannot
# help there (jupyter_server 2.x only toggles extensions its config already
# names), so install the same file the wheel would, at the environment level.
set -euo pipefail
cd "$(dirname "$0")/.."

enabled() {
    local listing
    listing="$(jupyter server extension list 2>&1)"
    grep -Eq "^[[:space:]]*qrt_jupyter[[:space:]].*enabled" <<<"$listing"
}

if ! enabled; then
    target="$(python -c 'import sys, os; print(os.path.join(sys.prefix, "etc", "jupyter", "jupyter_server_config.d"))')"
    mkdir -p "$target"
    cp jupyter-config/server-config/qrt_jupyter.json "$target/qrt_jupyter.json"
    echo "enabled the qrt_jupyter server extension in $target"
fi
enabled || { echo "the qrt_jupyter server extension is not enabled" >&2; exit 1; }

# The lab extension is built and linked by scripts/build_labextension.sh --develop.
