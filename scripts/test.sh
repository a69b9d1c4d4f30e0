#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs every test (unit tests and the
# reference-fixture parity checks) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
start=$(date +%s)
bash scripts/build.sh
echo "build: $(( $(date +%s) - start )) s"
start=$(date +%s)
ctest --test-dir build --output-on-failure -j "${JOBS:-$(nproc)}"
echo "tests: $(( $(date +%s) - start )) s"
