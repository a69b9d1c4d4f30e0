#!/usr/bin/env bash
# A study report opens offline: it names no external resource, and headless Chromium renders it
# (with every host name unresolvable) to a screenshot in the test's folder.
set -euo pipefail
REPORT="$1"; SHOT="$2"
fail() { echo "report render: $*" >&2; exit 1; }
test -s "$REPORT" || fail "$REPORT missing"
if grep -qiE '(src|href)="(https?:)?//' "$REPORT"; then fail "$REPORT loads something from the network"; fi
grep -qF '<table>' "$REPORT" || fail "$REPORT has no results table"
test "$(grep -o 'data:image/png;base64,' "$REPORT" | wc -l)" -ge 5 || fail "$REPORT lacks its pictures"
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then echo "report render: skipped, no chromium (scripts/install_deps.sh installs it)"; exit 77; fi
rm -f "$SHOT"
timeout 120 "$BROWSER" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
  --host-resolver-rules="MAP * ~NOTFOUND" --window-size=1200,2400 --screenshot="$SHOT" "file://$(realpath "$REPORT")" \
  > "$SHOT.log" 2>&1 || { cat "$SHOT.log"; fail "chromium could not render $REPORT"; }
test "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" || fail "no screenshot written"
test "$(stat -c %s "$SHOT")" -gt 20000 || fail "the screenshot is nearly empty"
echo "report render: $REPORT rendered offline to $SHOT"
