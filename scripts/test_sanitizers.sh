#!/usr/bin/env bash
# The test suite built with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, -O1) into
# ./build-asan, then every ctest under the sanitizers: memory errors and undefined behaviour in
# vista's code end the test that meets them. libtorch itself is not instrumented; its allocations
# are still checked through ASan's malloc. Leak checking is off (libtorch keeps global state).
#
#   bash scripts/test_sanitizers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
[ -f build-asan/CMakeCache.txt ] && GENERATOR=()
FLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
start=$(date +%s)
cmake -S . -B build-asan "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="$FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DVISTA_BUILD_BENCH=OFF > /dev/null
cmake --build build-asan -j "${JOBS:-$(nproc)}"
echo "build (sanitizers): $(( $(date +%s) - start )) s"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:detect_odr_violation=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
start=$(date +%s)
ctest --test-dir build-asan --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 1200
echo "tests (sanitizers): $(( $(date +%s) - start )) s"
