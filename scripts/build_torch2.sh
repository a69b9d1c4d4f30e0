#!/usr/bin/env bash
# The second build: vista against libtorch 2.x with CUDA, cuDNN and NCCL from the pinned PyPI torch
# wheel (scripts/torch2_venv.sh), into ./build-torch2. Needs the CUDA toolkit (nvcc) for torch's
# CMake config; no GPU is needed to build, and the CPU tests run without one.
#
#   bash scripts/build_torch2.sh             -> build-torch2/vista (+ tests, benches)
#   bash scripts/build_torch2.sh --sanitize  -> build-torch2-asan: the same under AddressSanitizer +
#                                               UndefinedBehaviorSanitizer (scripts/sanitizer_env.sh),
#                                               without the benches
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
DIR=build-torch2
BUILD=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  source scripts/sanitizer_env.sh
  DIR=build-torch2-asan
  BUILD=(-DCMAKE_BUILD_TYPE=None "-DCMAKE_CXX_FLAGS=$SANITIZER_CXX_FLAGS"
         "-DCMAKE_EXE_LINKER_FLAGS=$SANITIZER_LINK_FLAGS" -DVISTA_BUILD_BENCH=OFF)
fi
VENV="$(bash scripts/torch2_venv.sh)"
PY="$VENV/bin/python"
TORCH_DIR="$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
PREFIX="$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
# Debian's libraries (fmt aside, GoogleTest, CLI11, libpng, ...) use the C++11 string ABI; a wheel
# built with the old one would link into undefined std::string symbols.
ABI="$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
if [ "$ABI" != 1 ]; then
  echo "build_torch2: torch in $VENV uses the pre-C++11 ABI (_GLIBCXX_USE_CXX11_ABI=0); Debian's libraries need the C++11 ABI" >&2
  exit 1
fi
command -v nvcc >/dev/null 2>&1 || export PATH="/usr/local/cuda/bin:$PATH"
command -v nvcc >/dev/null 2>&1 || { echo "build_torch2: nvcc (the CUDA toolkit) is needed by torch's CMake config" >&2; exit 1; }
NVIDIA="$(dirname "$TORCH_DIR")/nvidia"
# The headers of the CUDA libraries the wheel was built with (CUDA 12.x), ahead of whatever toolkit
# this machine has (a newer cuBLAS header does not compile against an older runtime's).
CUDA_INCLUDES="$(ls -d "$NVIDIA"/*/include | grep -v /nccl/ | paste -sd';' -)"
source scripts/unity_build.sh
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
[ -f "$DIR/CMakeCache.txt" ] && GENERATOR=()
mkdir -p "$DIR"
# The wheel's own libraries, named explicitly: torch's config would otherwise pick up Debian's
# libc10.so from /usr/lib first. NCCL and CUDA runtime headers come from the wheel's nvidia-* packages.
cmake -S . -B "$DIR" "${GENERATOR[@]}" "${BUILD[@]}" "${UNITY_BUILD[@]}" \
    -DCMAKE_PREFIX_PATH="$PREFIX" \
    -Dc10_LIBRARY="$TORCH_DIR/lib/libc10.so" \
    -DTORCH_LIBRARY="$TORCH_DIR/lib/libtorch.so" \
    -DC10_CUDA_LIBRARY="$TORCH_DIR/lib/libc10_cuda.so" \
    -DVISTA_CUDA_RUNTIME="$NVIDIA/cuda_runtime/lib/libcudart.so.12" \
    -DCUDA_NVRTC_LIB="$NVIDIA/cuda_nvrtc/lib/libnvrtc.so.12" \
    -DVISTA_NCCL_INCLUDE_DIR="$NVIDIA/nccl/include" \
    -DVISTA_CUDA_INCLUDE_DIR="$CUDA_INCLUDES" \
    -DVISTA_TORCHRUN="$VENV/bin/torchrun" > "$DIR/configure.log" \
  || { cat "$DIR/configure.log" >&2; exit 1; }
cmake --build "$DIR" -j "$JOBS"
echo "build_torch2: $("$DIR/vista" --version)"
