#!/usr/bin/env bash
# Drives `vista serve` as its users do: the official openai client (plain, streamed, concurrent,
# every bad input, SIGTERM) and the chat page in headless Chromium through Selenium. Both come
# from PyPI at the versions in requirements.txt, in a virtual environment made here once.
#   bash tests/serve/serve_test.sh VISTA MODEL_DIR SHAPES_DATA_DIR OUT_DIR
set -euo pipefail
VISTA="$1"; MODEL="$2"; DATA="$3"; OUT="$4"
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${VISTA_SERVE_VENV:-$HOME/.cache/vista/serve-venv}"
if ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  if ! "$VENV/bin/pip" install -q --no-deps -r "$HERE/requirements.txt" > "$OUT.pip.log" 2>&1; then
    echo "serve test: skipped, the pinned openai/selenium packages could not be installed from PyPI (see $OUT.pip.log)"
    rm -rf "$VENV"
    exit 77
  fi
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi
rm -rf "$OUT" && mkdir -p "$OUT"
export VISTA MODEL DATA OUT
"$VENV/bin/python" "$HERE/openai_client_test.py" -v
"$VENV/bin/python" "$HERE/chat_page_test.py" -v
