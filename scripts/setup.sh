#!/usr/bin/env bash
# Creates .venv with EVO and its test dependencies. Idempotent: reruns only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.evo-setup-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
    echo "setting up .venv (one time) ..." >&2
    [ -x .venv/bin/python ] || "$PY" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -e ".[test]"
    rm -f .venv/.evo-setup-*
    touch "$stamp"
fi
