# Shared by scripts/quickstart and scripts/test: a project virtualenv, installed once per pyproject change.
# shellcheck shell=bash

ensure_venv() {
    local extras="$1" python="${PYTHON:-python3}" stamp want
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "scenario-forge needs Python 3.11 or newer; set PYTHON=/path/to/python3.11." >&2
        exit 1
    fi
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    stamp=.venv/.scenario-forge-installed
    want="$(cat pyproject.toml | sha256sum | cut -c1-16) [$extras]"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "Installing scenario-forge into .venv (the first run builds llama-cpp-python: about 10 minutes)..." >&2
        if ! { .venv/bin/python -m pip install --upgrade pip &&
               .venv/bin/python -m pip install -e ".${extras:+[$extras]}"; } > .venv/install.log 2>&1; then
            tail -n 40 .venv/install.log >&2
            echo "Installing failed; the full log is in .venv/install.log." >&2
            exit 1
        fi
        echo "$want" > "$stamp"
    fi
}
