#!/usr/bin/env bash
# The second build's tests: vista against the PyPI torch 2.x wheel (CUDA, cuDNN, NCCL compiled in)
# built by scripts/build_torch2.sh, then every CPU test and fixture parity check on it, and the GPU
# check's dry run (the binary is the CUDA build). No GPU is needed.
#
#   bash scripts/test_torch2.sh             # build-torch2 (Release)
#   bash scripts/test_torch2.sh --sanitize  # build-torch2-asan: every test under AddressSanitizer +
#                                           # UndefinedBehaviorSanitizer (CI runs this one)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=build-torch2
SANITIZE=()
CTEST_FILTER=()
if [ "${1:-}" = "--sanitize" ]; then
  DIR=build-torch2-asan
  SANITIZE=(--sanitize)
  # The end-to-end tests (the demo, study, eval, serve and launcher runs of the whole program) take
  # about 40% of the sanitized suite's test time; the plain builds run them, the sanitizers run the rest.
  CTEST_FILTER=(-LE end_to_end)
  source scripts/sanitizer_env.sh
fi
bash scripts/install_deps.sh --torch2
start=$(date +%s)
bash scripts/build_torch2.sh "${SANITIZE[@]}"
echo "build (torch 2.x${SANITIZE:+, sanitizers}): $(( $(date +%s) - start )) s"
bash scripts/gpu_check.sh --dry-run --vista "$DIR/vista"
start=$(date +%s)
ctest --test-dir "$DIR" --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 1200 "${CTEST_FILTER[@]}"
echo "tests (torch 2.x${SANITIZE:+, sanitizers}): $(( $(date +%s) - start )) s"
