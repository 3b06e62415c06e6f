#!/usr/bin/env bash
# Sets up (if needed) and runs EVO's test suite. Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# Two workers: the suite is dominated by gcc and QEMU subprocesses, one per core.
.venv/bin/python -m pytest -q -n "${EVO_TEST_WORKERS:-2}" "$@"
rc=$?
# pytest exits 5 when it collected no test (e.g. a filter matched nothing): not a failure of EVO.
if [ "$rc" -eq 5 ]; then
    echo "no tests were collected" >&2
    exit 0
fi
exit "$rc"
