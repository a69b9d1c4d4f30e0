#!/usr/bin/env bash
# Every C++ line changed since the project adopted .clang-format (the commit that added it), or
# since BASE, must be formatted as clang-format formats it; older lines are left as they are.
# Prints the difference and fails otherwise. Fix with: git clang-format BASE
#
#   bash scripts/check_format.sh [BASE]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v git-clang-format >/dev/null 2>&1 || bash scripts/install_deps.sh --fuzz  # clang-format comes with clang
BASE="${1:-$(git log --diff-filter=A --format=%H -- .clang-format | tail -1)}"
if [ -z "$BASE" ]; then echo "check_format: .clang-format is not committed yet; nothing to compare against"; exit 0; fi
if ! git cat-file -e "$BASE^{commit}" 2>/dev/null; then
  echo "check_format: commit $BASE is not in this clone (a shallow clone?); nothing to compare against"
  exit 0
fi
out=$(git clang-format --diff --extensions cpp,h "$BASE" -- src apps tests bench fuzz 2>&1 || true)
if [ -z "$out" ] || echo "$out" | grep -qE "^(no modified files to format|clang-format did not modify any files)"; then
  echo "check_format: every line changed since ${BASE:0:10} is formatted"
  exit 0
fi
echo "$out"
echo "check_format: the lines above are not formatted (fix: git clang-format ${BASE:0:10})"
exit 1
