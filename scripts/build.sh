#!/usr/bin/env bash
# Configures and builds vista (Release) into ./build. Used by demo.sh, test.sh and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
source scripts/unity_build.sh
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release "${UNITY_BUILD[@]}"
fi
cmake --build build -j "$JOBS"
