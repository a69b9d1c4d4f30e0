#!/usr/bin/env bash
# vista eval end to end on the quick demo's model: shapes, POPE- and ScienceQA-format sets built
# from shapes images; answers must not depend on the batch size; an interrupted run resumes.
set -euo pipefail
VISTA="$1"; DEMO="$2"; TOKENIZER="$3"; OUT="$4"
MODEL="$DEMO/ce_vista/stage2/final"
rm -rf "$OUT"
run() { "$VISTA" --threads 2 eval --model "$MODEL" --tokenizer "$TOKENIZER" "$@" > /dev/null; }
run --task shapes --data "$DEMO/data" --out "$OUT/b1" --batch 1
run --task shapes --data "$DEMO/data" --out "$OUT/b8" --batch 8
cmp "$OUT/b1/answers.jsonl" "$OUT/b8/answers.jsonl"
run --task shapes --data "$DEMO/data" --out "$OUT/resumed" --batch 2 --limit 4
test "$(wc -l < "$OUT/resumed/answers.jsonl")" -eq 4
run --task shapes --data "$DEMO/data" --out "$OUT/resumed" --batch 2
cmp "$OUT/b1/answers.jsonl" "$OUT/resumed/answers.jsonl"
run --task pope --data "$DEMO/data/pope" --out "$OUT/pope" --batch 4
grep -q '"categories"' "$OUT/pope/results.json"
run --task scienceqa --data "$DEMO/data/scienceqa" --out "$OUT/sqa" --batch 4
grep -q '"accuracy"' "$OUT/sqa/results.json"
echo "eval cli: batch invariance, resume, pope and scienceqa OK"
