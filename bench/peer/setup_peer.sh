#!/usr/bin/env bash
# Makes (once) the virtual environment the PyTorch peer runs in and prints its python. torch 2.8.0
# is the wheel scripts/torch2_venv.sh installs for the GPU build (a .pth file puts its
# site-packages on the path, so the 4 GB wheel is not installed twice); transformers and its
# dependencies come from PyPI at the versions in requirements.txt.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${VISTA_PEER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/vista/peer-venv}"
TORCH_VENV="$(bash "$HERE/../../scripts/torch2_venv.sh")"
if ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
  echo "setup_peer: installing transformers into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  "$TORCH_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/vista_torch2.pth"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$HERE/requirements.txt" >&2
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi
echo "$VENV/bin/python"
