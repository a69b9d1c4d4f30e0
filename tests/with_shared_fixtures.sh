#!/usr/bin/env bash
# with_shared_fixtures.sh DEFAULT_ROOT SET COMMAND ARGS...
# Runs COMMAND with every argument '{}' replaced by <root>/SET, where <root> is $VISTA_SHARED_FIXTURES
# or DEFAULT_ROOT (../shared/fixtures beside the checkout). Without that folder (a user's clone)
# it prints why and exits 77, which ctest reports as skipped.
set -euo pipefail
root="${VISTA_SHARED_FIXTURES:-$1}"
set_dir="$root/$2"
shift 2
if [ ! -d "$set_dir" ]; then
  echo "skipped: $set_dir not found (no shared fixture set here; set VISTA_SHARED_FIXTURES to its fixtures/ folder)"
  exit 77
fi
args=()
for a in "$@"; do args+=("${a//\{\}/$set_dir}"); done
echo "fixtures: $set_dir"
exec "${args[@]}"
