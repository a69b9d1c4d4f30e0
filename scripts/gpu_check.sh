#!/usr/bin/env bash
# What a machine with one NVIDIA GPU runs to check the GPU build (scripts/build_torch2.sh), in
# under 5 minutes: every fixture parity check on cuda with TF32 off, a bf16 training run of the
# demo configuration on cuda, an NCCL process group with one rank (init + allreduce), and generation
# on cuda compared with the CPU's answers.
#
#   bash scripts/gpu_check.sh [--dry-run] [--vista BINARY] [--fixtures DIR] [--work DIR]
#
# --dry-run prints every command and checks only that the binary was built with CUDA and NCCL
# (what a machine without a GPU can check).
set -euo pipefail
cd "$(dirname "$0")/.."
VISTA=build-torch2/vista
FIXTURES="${VISTA_SHARED_FIXTURES:-../shared/fixtures}"
WORK="${TMPDIR:-/tmp}/vista-gpu-check"
DRY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --vista) VISTA="$2"; shift ;;
    --fixtures) FIXTURES="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    *) echo "usage: $0 [--dry-run] [--vista BINARY] [--fixtures DIR] [--work DIR]" >&2; exit 2 ;;
  esac
  shift
done
fail() { echo "gpu_check: FAIL: $*" >&2; exit 1; }
step() {  # step DESCRIPTION COMMAND...
  local what="$1"; shift
  echo "gpu_check: $what"
  echo "  \$ $*"
  [ "$DRY" = 1 ] && return 0
  local start=$SECONDS
  "$@" || fail "$what"
  echo "  ok ($((SECONDS - start)) s)"
}

# Always: the binary is the CUDA build, linked to the wheel's CUDA libraries and NCCL.
[ -x "$VISTA" ] || fail "$VISTA not found (build it with scripts/build_torch2.sh)"
version="$("$VISTA" --version)"
echo "gpu_check: $version"
case "$version" in *"CUDA "*) ;; *) fail "$VISTA was not built with CUDA: $version" ;; esac
case "$version" in *NCCL*) ;; *) fail "$VISTA's libtorch has no NCCL: $version" ;; esac
# The program links libtorch_cpu; the CUDA libraries come with its plugin, loaded where an NVIDIA
# driver is (src/runtime/cuda_support.h).
PLUGIN="$(dirname "$VISTA")/libvista_cuda.so"
[ -f "$PLUGIN" ] || fail "$PLUGIN (vista's CUDA plugin) not found"
libs="$(ldd "$PLUGIN")"
for lib in libtorch_cuda.so libc10_cuda.so libnccl.so libcudart.so; do
  echo "$libs" | grep -q "$lib" || fail "ldd $PLUGIN shows no $lib"
  echo "  ldd: $(echo "$libs" | grep "$lib" | head -1 | xargs)"
done
echo "$libs" | grep -q "not found" && fail "unresolved libraries: $(echo "$libs" | grep 'not found' | xargs)"
if [ "$DRY" = 0 ]; then
  banner="$("$VISTA" --device cuda check-fixtures /nonexistent 2>&1 | head -1 || true)"
  case "$banner" in *"CUDA loaded"*) echo "  $banner" ;; *) fail "the CUDA plugin was not loaded: $banner" ;; esac
fi
[ -d "$FIXTURES/oracle_v1" ] || fail "$FIXTURES/oracle_v1 not found (--fixtures DIR)"

rm -rf "$WORK"
mkdir -p "$WORK"
step "fixture parity on cuda, TF32 off (oracle_v1: models, losses, gradients, generation)" \
  "$VISTA" --device cuda check-fixtures "$FIXTURES/oracle_v1" --strict --quiet
step "fixture parity on cuda (images_v1)" "$VISTA" --device cuda check-fixtures "$FIXTURES/images_v1" --strict --quiet
step "demo data and models (quick, CPU)" "$VISTA" demo --quick --work "$WORK/demo"
step "bf16 training on cuda (the demo's stage-2 configuration, 6 steps)" \
  "$VISTA" --device cuda train "$WORK/demo/ce_vista/stage2/config.json" "run_dir=\"$WORK/bf16\"" train.bf16=true \
  train.max_steps=6 train.resume=none train.plot=false
step "NCCL process group, one rank: init + allreduce" \
  env RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29531 "$VISTA" --device cuda dist check
step "generation on cuda (shapes questions, batch 8)" \
  "$VISTA" --device cuda eval --model "$WORK/demo/ce_vista/stage2/final" --task shapes --data "$WORK/demo/data" \
  --out "$WORK/eval_cuda" --batch 8
if [ "$DRY" = 0 ]; then
  "$VISTA" eval --model "$WORK/demo/ce_vista/stage2/final" --task shapes --data "$WORK/demo/data" --out "$WORK/eval_cpu" \
    --batch 8 > /dev/null
  same="$(paste -d'\n' <(grep -o '"text": "[^"]*"' "$WORK/eval_cpu/answers.jsonl") <(grep -o '"text": "[^"]*"' "$WORK/eval_cuda/answers.jsonl") | paste - - | awk -F'\t' '$1==$2' | wc -l)"
  total="$(wc -l < "$WORK/eval_cpu/answers.jsonl")"
  echo "gpu_check: cuda answers equal to the CPU's on $same of $total questions"
fi
echo "gpu_check: $([ "$DRY" = 1 ] && echo "dry run OK (binary built with CUDA and NCCL)" || echo "all checks passed")"
