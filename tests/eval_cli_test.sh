#!/usr/bin/env bash
# vista eval end to end on the quick demo's model: shapes, POPE- and ScienceQA-format sets built
# from shapes images; answers must not depend on the batch size (on a model whose answers are words
# that differ between questions); an interrupted run resumes; exports to llava-hf and back carry what their loaders need and answer exactly as the original.
set -euo pipefail
VISTA="$1"; DEMO="$2"; TOKENIZER="$3"; OUT="$4"
MODEL="$DEMO/ce_vista/stage2/final"
rm -rf "$OUT"
fail() { echo "eval cli: $*" >&2; exit 1; }
texts() { grep -o '"text": "[^"]*"' "$1"; }
run() { "$VISTA" --threads 2 eval --tokenizer "$TOKENIZER" "$@" > /dev/null; }
run --model "$MODEL" --task shapes --data "$DEMO/data" --out "$OUT/b1" --batch 1
run --model "$MODEL" --task shapes --data "$DEMO/data" --out "$OUT/b8" --batch 8
# Batch invariance means something only when the answers do: some words, and not all the same.
test "$(texts "$OUT/b1/answers.jsonl" | sort -u | wc -l)" -ge 2 || fail "every answer is the same: $(texts "$OUT/b1/answers.jsonl" | head -1)"
texts "$OUT/b1/answers.jsonl" | grep -qv '"text": ""' || fail "every answer is empty"
cmp "$OUT/b1/answers.jsonl" "$OUT/b8/answers.jsonl"
run --model "$MODEL" --task shapes --data "$DEMO/data" --out "$OUT/resumed" --batch 2 --limit 4
test "$(wc -l < "$OUT/resumed/answers.jsonl")" -eq 4
run --model "$MODEL" --task shapes --data "$DEMO/data" --out "$OUT/resumed" --batch 2
cmp "$OUT/b1/answers.jsonl" "$OUT/resumed/answers.jsonl"
# Ranks (torchrun variables) share the questions; the merged file is the one-process file, byte for
# byte, also when 3 ranks finish what one process began.
ranks() {
  local n=$1 out=$2 port=$(( 22000 + ($$ % 20000) + $1 )) pids=()
  for r in $(seq 0 $((n - 1))); do
    RANK=$r WORLD_SIZE=$n LOCAL_RANK=$r LOCAL_WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      "$VISTA" --threads 1 eval --tokenizer "$TOKENIZER" --model "$MODEL" --task shapes --data "$DEMO/data" \
      --out "$out" --batch 3 --dist-timeout 120 > "$out.rank$r.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { cat "$out".rank*.log; fail "a rank of $n failed"; }; done
}
mkdir -p "$OUT/ranks2" "$OUT/ranks3"
ranks 2 "$OUT/ranks2"
cmp "$OUT/b1/answers.jsonl" "$OUT/ranks2/answers.jsonl" || fail "2 ranks wrote other answers than one process"
run --model "$MODEL" --task shapes --data "$DEMO/data" --out "$OUT/ranks3" --batch 2 --limit 5
ranks 3 "$OUT/ranks3"
cmp "$OUT/b1/answers.jsonl" "$OUT/ranks3/answers.jsonl" || fail "3 ranks resuming one process wrote other answers"
test -z "$(ls "$OUT/ranks3" | grep part)" || fail "part files left behind"
grep -q '"accuracy"' "$OUT/ranks3/results.json"
run --model "$MODEL" --task pope --data "$DEMO/data/pope" --out "$OUT/pope" --batch 4
grep -q '"categories"' "$OUT/pope/results.json"
run --model "$MODEL" --task scienceqa --data "$DEMO/data/scienceqa" --out "$OUT/sqa" --batch 4
grep -q '"accuracy"' "$OUT/sqa/results.json"

# The trained model records the aspect mode it was trained with (stage 2 of the demo: pad).
grep -q '"image_aspect_ratio": "pad"' "$MODEL/config.json" || fail "$MODEL/config.json does not say image_aspect_ratio pad"
# Export to llava-hf: the files LlavaProcessor / LlavaForConditionalGeneration read, then the
# same answers from the exported folder.
"$VISTA" convert --from llava --to llava-hf "$MODEL" "$OUT/hf" > /dev/null
for f in config.json model.safetensors tokenizer.json tokenizer_config.json preprocessor_config.json \
         processor_config.json chat_template.json generation_config.json; do
  test -s "$OUT/hf/$f" || fail "llava-hf export lacks $f"
done
grep -q '"image_aspect_ratio": "pad"' "$OUT/hf/config.json" || fail "llava-hf config lost the aspect mode"
grep -q '"processor_class": "LlavaProcessor"' "$OUT/hf/preprocessor_config.json" || fail "no processor_class"
grep -q '"chat_template"' "$OUT/hf/tokenizer_config.json" || fail "no chat template in tokenizer_config.json"
grep -q '"content":"<image>"' "$OUT/hf/tokenizer.json" || fail "tokenizer.json has no <image> token"
"$VISTA" --threads 2 eval --model "$OUT/hf" --tokenizer "$OUT/hf" --task shapes --data "$DEMO/data" --out "$OUT/hf_answers" --batch 8 > /dev/null
diff <(texts "$OUT/b1/answers.jsonl") <(texts "$OUT/hf_answers/answers.jsonl") || fail "llava-hf export answers differently"
# Back to the official layout: what LLaVA's builder reads, the tower's processor included.
"$VISTA" convert --from llava-hf --to llava "$OUT/hf" "$OUT/back" > /dev/null
for f in config.json model.safetensors tokenizer.json tokenizer_config.json generation_config.json \
         preprocessor_config.json vision_tower/config.json vision_tower/model.safetensors vision_tower/preprocessor_config.json; do
  test -s "$OUT/back/$f" || fail "official-layout export lacks $f"
done
echo "eval cli: batch invariance on varied answers, resume, pope, scienceqa, llava-hf and llava exports OK"
