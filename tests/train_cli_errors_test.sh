#!/usr/bin/env bash
# vista train with a bad config value or a missing explicit resume path: a named error and exit 2,
# before any model or data is loaded (the preset's model paths do not exist here, on purpose).
set -uo pipefail
VISTA="$1"; OUT="$2"
mkdir -p "$OUT"
expect_exit_2() {  # expect_exit_2 NEEDLE OVERRIDE...
  local needle="$1"; shift
  "$VISTA" train llava-1.5-7b-pretrain "run_dir=$OUT/run" "$@" > "$OUT/log" 2>&1
  local rc=$?
  if [ $rc -ne 2 ] || ! grep -qF -- "$needle" "$OUT/log"; then
    echo "vista train $*: exit $rc (expected 2), message should name '$needle':"; cat "$OUT/log"; exit 1
  fi
  echo "ok: $* -> exit 2: $(grep -F -- "$needle" "$OUT/log" | head -1)"
}
for o in train.save_every=0 train.keep_last=0 train.epochs=0 train.max_steps=0 train.per_device_batch=0 \
         train.grad_accum=0 train.log_every=0 optim.lr=0 optim.warmup_ratio=2 data.max_length=0 \
         data.loader_threads=-1 data.loader_threads=99999999 data.prefetch_batches=0; do
  expect_exit_2 "${o%%=*}" "$o"
done
# Values found by trying to crash it: an overflowing number (was an abort), a thread count that
# spawned until it hung, a fraction where an integer belongs (was silently truncated).
expect_exit_2 "optim.lr=1e400" optim.lr=1e400
expect_exit_2 "train.threads" train.threads=99999999
expect_exit_2 "train.per_device_batch" train.per_device_batch=1e30
"$VISTA" --threads 99999999 tokenize --tokenizer x y > "$OUT/log" 2>&1
rc=$?; [ $rc -eq 2 ] && grep -q "threads = 99999999" "$OUT/log" || { echo "--threads 99999999: exit $rc"; cat "$OUT/log"; exit 1; }
expect_exit_2 "no/such/checkpoint" train.resume=no/such/checkpoint
test ! -e "$OUT/run/checkpoints" || { echo "a checkpoint folder was created"; exit 1; }
