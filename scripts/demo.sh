#!/usr/bin/env bash
# The README's main command: installs dependencies, builds, and runs `vista demo` on the data the
# repository embeds (no downloads): shapes data, small pretrained towers, stage 1 + stage 2 with
# CE and with CE+VISTA, evaluation, table and plots under runs/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
./build/vista demo "$@"
