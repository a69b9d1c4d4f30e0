#!/usr/bin/env bash
# Installs every Debian package vista needs to build, test and run on a fresh Debian 12 machine.
# Safe to re-run: apt-get skips packages that are already present.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config   # compiler and build system
  libtorch-dev                                    # tensors, autograd, optimizers (libtorch 1.13 C++ API)
  libopenblas0-openmp                             # fast BLAS for libtorch's CPU matmuls, on libtorch's own OpenMP pool
                                                  # (the pthread variant's second pool fought it: 1.5x slower, 4x the sys time)
  libgloo-dev                                     # headers needed by c10d ProcessGroupGloo (multi-process CPU training)
  nlohmann-json3-dev                              # config.json / manifest / dataset JSON parsing
  libgtest-dev libgmock-dev                       # unit tests (GoogleTest through ctest)
  libpng-dev libjpeg-dev                          # PNG / JPEG decoding and PNG writing (plots, heatmaps)
  libcli11-dev                                    # command-line parsing for the `vista` subcommands
  libonig-dev                                     # Oniguruma: the Unicode regex engine HF tokenizers uses (pre-tokenizer patterns)
  libfmt-dev                                      # formatting of progress lines and reports
  libcpp-httplib-dev                              # HTTP server of `vista serve` (and the client of `vista bench serve`)
  libtcmalloc-minimal4                            # tcmalloc serves malloc in the vista program: about a quarter less peak memory in training
  chromium chromium-driver                        # headless browser: renders the study report and drives the chat page in tests
  python3 python3-venv                            # venvs: the torch wheel of the GPU build; the serve test's openai client and Selenium
  ca-certificates
)


# The second build (scripts/build_torch2.sh) installs the PyPI torch wheel into a virtual
# environment (python3-venv, above). The CUDA toolkit (nvcc) it also needs is expected on the
# machine (the project's machines carry it; elsewhere NVIDIA's installer or nvidia-cuda-toolkit).
# The fuzzers (scripts/fuzz.sh) are built with clang (libFuzzer and the sanitizer runtimes);
# scripts/check_format.sh uses clang-format.
if [ "${1:-}" = "--fuzz" ]; then PACKAGES+=(clang libclang-rt-14-dev clang-format); fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
