#!/usr/bin/env bash
# The README's main job, shortened (vista demo --quick): every stage runs, and what it reports is
# there: the results table with all four arms, results.json with its fields, the plots.
set -euo pipefail
VISTA="$1"; WORK="$2"
LOG="$WORK.log"
rm -rf "$WORK"
"$VISTA" --threads 2 demo --quick --work "$WORK" | tee "$LOG"
fail() { echo "demo.quick: $*" >&2; exit 1; }
for stage in "[1/4] shapes data" "[2/4] vision tower" "[3/4] CE:" "[3/4] CE+VISTA:" "[3/4] CE+SEA:" "[3/4] CE+SEA+VISTA:" "SEA labels:" "[4/4] held-out shapes questions"; do
  grep -qF -- "$stage" "$LOG" || fail "output lacks '$stage'"
done
grep -qE '^arm +accuracy +pre=0w +pre=32w +pre=96w +CE +VISTA +similarity +stage-1 SEA$' "$LOG" || fail "results table header missing"
grep -qE '^CE +[01]\.[0-9]{3} ' "$LOG" || fail "no CE row with an accuracy"
grep -qE '^CE\+VISTA +[01]\.[0-9]{3} ' "$LOG" || fail "no CE+VISTA row with an accuracy"
grep -qE '^CE\+SEA\+VISTA +[01]\.[0-9]{3} .* [0-9]+\.[0-9]{3}->[0-9]+\.[0-9]{3}$' "$LOG" || fail "no CE+SEA+VISTA row"
grep -qE '^CE\+SEA +[01]\.[0-9]{3} .* [0-9]+\.[0-9]{3}->[0-9]+\.[0-9]{3}$' "$LOG" || fail "no CE+SEA row with its stage-1 SEA term"
R="$WORK/results.json"
test -s "$R" || fail "$R missing"
for field in '"arms"' '"arm": "CE"' '"arm": "CE+VISTA"' '"arm": "CE+SEA"' '"arm": "CE+SEA+VISTA"' '"stage1_sea_first"' '"by_preamble_words"' '"final_ce"' '"final_vista_term"' \
             '"final_similarity"' '"seconds"' '"quick": true'; do
  grep -qF -- "$field" "$R" || fail "$R lacks $field"
done
# Every arm answered questions, and its losses are numbers (not null, nan or inf).
test "$(grep -cE '"total": [1-9][0-9]*' "$R")" -ge 4 || fail "an arm answered no question"
test "$(grep -cE '"final_ce": [0-9]+\.[0-9]+' "$R")" -eq 4 || fail "final_ce is not a number for every arm"
for png in stage2_ce.png stage2_similarity.png ce/stage2/loss.png ce_vista/stage2/loss.png ce_sea/stage1/loss.png; do
  test "$(head -c 8 "$WORK/$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" || fail "$WORK/$png is not a PNG"
done
grep -qF '<table>' "$WORK/report.html" || fail "the demo wrote no report"
# Bad arguments are named errors: a score sign that is not +-1, an eval file that is not JSON lines.
if "$VISTA" sea label --clip x --words "$WORK/sea/words.txt" --data "$WORK/data/pretrain.json" --images x --out x \
     --score-sign 2 2> "$WORK/bad_sign.err"; then fail "sea label accepted --score-sign 2"; fi
grep -qF -- "--score-sign must be -1 or 1" "$WORK/bad_sign.err" || fail "bad --score-sign not named: $(cat "$WORK/bad_sign.err")"
printf '{"image": "a.png", "text": "q"}\n' > "$WORK/bad_eval.jsonl"
if "$VISTA" analyze contribution --model "$WORK/ce/stage2/final" --data "$WORK/bad_eval.jsonl" --images x \
     --out "$WORK/bad" 2> "$WORK/bad_eval.err"; then fail "contribution accepted a question without an answer"; fi
grep -qF "bad_eval.jsonl:1: field 'answer' is missing" "$WORK/bad_eval.err" \
  || fail "bad eval line not named: $(cat "$WORK/bad_eval.err")"
# SEA's diagnostics on the SEA arm's stage-1 model print JSON with finite numbers.
analyze() { "$VISTA" --threads 2 analyze "$@" --model "$WORK/ce_sea/stage1/final" --data "$WORK/data/pretrain.json" \
              --images "$WORK/data/images" --limit 6; }
analyze modality-gap --words "$WORK/sea/words.txt" > "$WORK/gap.json"
analyze nearest-words --words "$WORK/sea/words.txt" --labels "$WORK/sea/labels.sealabels" > "$WORK/nearest.json"
analyze tacs --k 5 > "$WORK/tacs.json"
grep -qE '"modality_gap": [0-9]+\.[0-9]+' "$WORK/gap.json" || fail "modality-gap printed no gap"
grep -qE '"agreement_with_top_label": [0-9.e-]+' "$WORK/nearest.json" || fail "nearest-words printed no agreement"
grep -qE '"tacs": -?[0-9]+\.[0-9]+' "$WORK/tacs.json" || fail "tacs printed no TACS"
grep -qF '"images": 6' "$WORK/tacs.json" || fail "tacs did not analyse 6 images"
# The alignment instruments on the stage-2 models: a heatmap of two models on one scale and the
# contribution curves of both.
IMG="$WORK/data/images/$(sed -n 's/.*"image":"\([^"]*\)".*/\1/p' "$WORK/data/eval.jsonl" | head -1)"
"$VISTA" --threads 2 analyze heatmap --model "$WORK/ce/stage2/final" --compare "$WORK/ce_vista/stage2/final" \
  --image "$IMG" --prompt "What color is the shape?" --out "$WORK/heatmap.png" > "$WORK/heatmap.json"
test "$(head -c 8 "$WORK/heatmap.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" || fail "heatmap.png is not a PNG"
test "$(grep -c '"model":' "$WORK/heatmap.json")" -eq 2 || fail "heatmap did not draw both models"
"$VISTA" --threads 2 analyze contribution --model "$WORK/ce/stage2/final" --model "$WORK/ce_vista/stage2/final" \
  --data "$WORK/data/eval.jsonl" --images "$WORK/data/images" --preambles 0,16 --limit 2 --out "$WORK/contribution" \
  > /dev/null
grep -qE '"image_attention": [0-9.e-]+' "$WORK/contribution.json" || fail "contribution measured no attention"
grep -qE '"answer_logprob_drop": -?[0-9.e-]+' "$WORK/contribution.json" || fail "contribution measured no log-prob drop"
for png in contribution_attention.png contribution_logprob_drop.png; do
  test "$(head -c 8 "$WORK/$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" || fail "$WORK/$png is not a PNG"
done
echo "demo.quick: stages, table, results.json fields, plots, SEA diagnostics and alignment instruments OK"
