#!/usr/bin/env bash
# One-time set-up, idempotent:
#  - the Cortex-M toolchain and QEMU from Debian (only what is missing; --no-install-recommends
#    keeps it to ~110 MB instead of 3 GB of GUI packages);
#  - .venv with EVO and its test dependencies (reinstalled only when pyproject.toml changes).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v arm-none-eabi-gcc >/dev/null || missing+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || missing+=(qemu-system-arm)
command -v gcc >/dev/null || missing+=(gcc)
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "installing ${missing[*]} (apt) ..." >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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
