#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang, AddressSanitizer + UBSan) into ./build-fuzz and runs
# each for SECONDS (default 60) from the committed seed corpus. Inputs that once crashed live in
# fuzz/regressions/<harness>/ and are replayed first, so a fixed crash stays fixed. A new crash
# leaves its input in build-fuzz/crashes/<harness>/ and fails the script; copy it into
# fuzz/regressions/<harness>/ with the fix.
#
# The random seed is fixed (FUZZ_SEED, default 1), so a run from the committed corpus explores the
# same inputs in the same order on every machine: CI repeats what was checked here, and a slower
# machine runs a prefix of it.
#
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
bash scripts/install_deps.sh --fuzz
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
[ -f build-fuzz/CMakeCache.txt ] && GENERATOR=()
cmake -S fuzz -B build-fuzz "${GENERATOR[@]}" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-fuzz -j "${JOBS:-$(nproc)}"
status=0
for harness in tokenizer_json image_decode llava_records hf_config sea_label_file chat_request safetensors_header; do
  bin="build-fuzz/${harness}_fuzz"
  shopt -s nullglob; regressions=(fuzz/regressions/$harness/[!.]*); shopt -u nullglob
  if [ ${#regressions[@]} -gt 0 ]; then
    "$bin" "${regressions[@]}" > "build-fuzz/$harness.regressions.log" 2>&1 \
      || { echo "fuzz: $harness crashes on a committed regression input"; tail -30 "build-fuzz/$harness.regressions.log"; status=1; }
  fi
  work="build-fuzz/corpus/$harness"
  mkdir -p "$work" "build-fuzz/crashes/$harness"
  cp -n fuzz/corpus/$harness/* "$work/" 2>/dev/null || true
  if "$bin" "$work" -seed="${FUZZ_SEED:-1}" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
       -artifact_prefix="build-fuzz/crashes/$harness/" > "build-fuzz/$harness.log" 2>&1; then
    echo "fuzz: $harness clean: $(grep -E '^stat::number_of_executed_units' "build-fuzz/$harness.log" | awk '{print $2}') executions in ${SECONDS_EACH} s, corpus $(ls "$work" | wc -l) inputs"
  else
    echo "fuzz: $harness FOUND A CRASH (input in build-fuzz/crashes/$harness/):"
    grep -E "ERROR|SUMMARY|==[0-9]+==" "build-fuzz/$harness.log" | head -10
    status=1
  fi
done
exit $status
