#!/usr/bin/env bash
# The README's main command: installs dependencies, builds, and runs the main job on the data
# embedded in the repository (no downloads). Until `vista demo` exists this is the parity check
# against the reference fixtures: "does this build compute what transformers computes?"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
./build/vista check-fixtures testdata/oracle_v1 "$@"
