#!/usr/bin/env bash
# The test suite built with AddressSanitizer + UndefinedBehaviorSanitizer (gcc, -O1,
# scripts/sanitizer_env.sh) against Debian's libtorch into ./build-asan, then every ctest under the
# sanitizers: memory errors and undefined behaviour in vista's code end the test that meets them.
# libtorch itself is not instrumented; its allocations are still checked through ASan's malloc.
# CI runs the same suite on the torch 2.x build (scripts/test_torch2.sh --sanitize).
#
#   bash scripts/test_sanitizers.sh          # everything
#   bash scripts/test_sanitizers.sh --core   # the torch-free suites only: the floor's JSON readers
#                                            # and lowercase, tokenizers, image decoding and
#                                            # preprocessing, the benchmark scorers
#                                            # (./build-asan-core)
set -euo pipefail
cd "$(dirname "$0")/.."
CORE=0
[ "${1:-}" = "--core" ] && CORE=1
[ "$CORE" = 1 ] || bash scripts/install_deps.sh
DIR=build-asan
[ "$CORE" = 1 ] && DIR=build-asan-core
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
[ -f "$DIR/CMakeCache.txt" ] && GENERATOR=()
source scripts/sanitizer_env.sh
source scripts/unity_build.sh
start=$(date +%s)
cmake -S . -B "$DIR" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="$SANITIZER_CXX_FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="$SANITIZER_LINK_FLAGS" -DVISTA_BUILD_BENCH=OFF "${UNITY_BUILD[@]}" > /dev/null
if [ "$CORE" = 1 ]; then
  # Each suite is its own executable, so only these targets and their libraries are built.
  SUITES=(src/util/vista_util_tests src/text/vista_text_tests src/image/vista_image_tests src/eval/vista_eval_tests)
  cmake --build "$DIR" -j "${JOBS:-$(nproc)}" --target "${SUITES[@]##*/}"
  echo "build (sanitizers, parser and scorer suites): $(( $(date +%s) - start )) s"
  start=$(date +%s)
  for suite in "${SUITES[@]}"; do
    # From the suite's own build folder, as ctest runs it.
    (cd "$DIR/$(dirname "$suite")" && "./$(basename "$suite")" --gtest_brief=1)
  done
  echo "tests (sanitizers, parser and scorer suites): $(( $(date +%s) - start )) s"
  exit 0
fi
cmake --build "$DIR" -j "${JOBS:-$(nproc)}"
echo "build (sanitizers): $(( $(date +%s) - start )) s"
start=$(date +%s)
ctest --test-dir "$DIR" --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 1200
echo "tests (sanitizers): $(( $(date +%s) - start )) s"
