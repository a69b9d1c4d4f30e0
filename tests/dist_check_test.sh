#!/usr/bin/env bash
# Two vista processes on this machine rendezvous through the torchrun environment variables and
# check Gloo collectives; a run whose second rank never comes ends with a named error, not a hang.
set -uo pipefail
VISTA="$1"; OUT="$2"
rm -rf "$OUT"; mkdir -p "$OUT"
port=$(( 20000 + ($$ % 20000) ))
for r in 0 1; do
  env RANK=$r WORLD_SIZE=2 LOCAL_RANK=$r LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    timeout 120 "$VISTA" --threads 1 dist check --timeout 60 > "$OUT/rank$r.log" 2>&1 &
  pids[$r]=$!
done
status=0
for r in 0 1; do
  wait "${pids[$r]}" || { echo "rank $r failed:"; cat "$OUT/rank$r.log"; status=1; }
done
[ $status -eq 0 ] || exit 1
for r in 0 1; do
  grep -q "rank $r: allreduce (sum 3), broadcast and barrier OK" "$OUT/rank$r.log" || { cat "$OUT/rank$r.log"; exit 1; }
done
cat "$OUT/rank0.log"
# Rank 1 never starts: rank 0 must stop by itself within its timeout, with exit 2 and a message.
start=$SECONDS
env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$(( port + 1 )) \
  timeout 60 "$VISTA" --threads 1 dist check --timeout 3 > "$OUT/alone.log" 2>&1
rc=$?
cat "$OUT/alone.log"
[ $rc -eq 2 ] || { echo "a lone rank exited $rc (expected 2)"; exit 1; }
grep -qE "rendezvous (at )?127.0.0.1" "$OUT/alone.log" || { echo "no rendezvous error message"; exit 1; }
[ $((SECONDS - start)) -lt 30 ] || { echo "the lone rank took $((SECONDS - start)) s"; exit 1; }
# A rank that is killed (SIGKILL) while waiting for the others: the survivor still stops by itself
# with exit 2 and a message naming the rendezvous, never hangs.
env RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$(( port + 2 )) "$VISTA" --threads 1 dist check --timeout 30 \
  > "$OUT/killed.log" 2>&1 &
victim=$!
sleep 1
kill -9 "$victim"
wait "$victim" 2>/dev/null
start=$SECONDS
env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$(( port + 2 )) \
  timeout 60 "$VISTA" --threads 1 dist check --timeout 3 > "$OUT/survivor.log" 2>&1
rc=$?
cat "$OUT/survivor.log"
[ $rc -eq 2 ] || { echo "the survivor of a killed rank exited $rc (expected 2)"; exit 1; }
grep -qE "rendezvous (at )?127.0.0.1" "$OUT/survivor.log" || { echo "no rendezvous error message"; exit 1; }
[ $((SECONDS - start)) -lt 30 ] || { echo "the survivor took $((SECONDS - start)) s"; exit 1; }
# A malformed environment is a named error.
env RANK=3 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$VISTA" dist check > "$OUT/bad.log" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "RANK='3'" "$OUT/bad.log" || { echo "bad RANK: exit $rc"; cat "$OUT/bad.log"; exit 1; }
echo "dist check: two Gloo ranks OK; a lone rank and the survivor of a killed rank stop with a message; a bad RANK is named"
