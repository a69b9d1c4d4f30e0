#!/usr/bin/env bash
# The second build's tests: vista against the PyPI torch 2.x wheel (CUDA, cuDNN, NCCL compiled in)
# built by scripts/build_torch2.sh, then every CPU test and fixture parity check on it, and the GPU
# check's dry run (the binary is the CUDA build). No GPU is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh --torch2
start=$(date +%s)
bash scripts/build_torch2.sh
echo "build (torch 2.x): $(( $(date +%s) - start )) s"
bash scripts/gpu_check.sh --dry-run --vista build-torch2/vista
start=$(date +%s)
ctest --test-dir build-torch2 --output-on-failure -j "${JOBS:-$(nproc)}"
echo "tests (torch 2.x): $(( $(date +%s) - start )) s"
