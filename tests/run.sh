#!/usr/bin/env bash
# The test command: set up if needed, then the whole suite, then the linters.
# Run as root (privileged tests load programs and mount private bpffs instances).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "tests/run.sh: must be run as root (the tests load BPF programs and mount bpffs)" >&2
    exit 1
fi
bash .ci/setup
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
.venv/bin/ruff check --no-cache pybpftool tests benchmarks
.venv/bin/mypy --no-incremental pybpftool
