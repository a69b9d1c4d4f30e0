#!/usr/bin/env bash
# Installs the pinned PyPI `torch` wheel (libtorch 2.x with CUDA, cuDNN and NCCL, plus its CMake
# config) into a cached virtual environment and prints the environment's folder. Only the second
# (GPU) build uses it; vista itself never runs Python.
#
#   bash scripts/torch2_venv.sh            -> prints the venv folder (creating it when needed)
#   VISTA_TORCH2_VENV=DIR overrides the cache folder.
# The download is about 4 GB (torch + the nvidia-* runtime wheels); a second run reuses it.
set -euo pipefail
TORCH_VERSION="2.8.0"
VENV="${VISTA_TORCH2_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/vista/torch-$TORCH_VERSION-venv}"

have_torch() {
  [ -x "$VENV/bin/python" ] &&
    [ "$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null)" = "$TORCH_VERSION" ]
}

if ! have_torch; then
  python3 -m venv --help >/dev/null 2>&1 || { echo "torch2_venv: python3 with the venv module is required (Debian: python3-venv)" >&2; exit 1; }
  echo "torch2_venv: installing torch==$TORCH_VERSION into $VENV (large download, cached afterwards)" >&2
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION" >&2
  have_torch || { echo "torch2_venv: torch $TORCH_VERSION did not import from $VENV" >&2; exit 1; }
fi
echo "$VENV"
