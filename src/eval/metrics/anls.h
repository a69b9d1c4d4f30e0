#pragma once
// ANLS as LLaVA's m4c_evaluator.py STVQAANLSEvaluator computes it (DocVQA-style): NO EvalAI
// normalisation, only Python lower().strip() on both sides; unit-cost Levenshtein distance over code
// points; iou = 1 - d / max(len1, len2) in double, kept when iou >= 0.5 (inclusive) else 0.0; the item
// score is the max over its GT answers; the dataset value is the left-to-right mean.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vista::eval {

// Levenshtein distance over code points (unit costs).
int64_t levenshtein_distance(std::u32string_view a, std::u32string_view b);

struct AnlsItemScore {
  std::vector<int64_t> edit_distance;  // per GT, between the lowered/stripped strings
  std::vector<double> anls_per_gt;     // get_anls(pred, gt) per GT
  double anls = 0.0;                   // max over GTs
};

// STVQAANLSEvaluator.get_anls(pred, gt). Throws when both strings are empty after strip()
// (ZeroDivisionError in the official code).
double anls_pair(std::string_view pred, std::string_view gt);
// Throws when gt_answers is empty (max() of an empty sequence in the official code).
AnlsItemScore anls_item_score(std::string_view pred_answer, const std::vector<std::string>& gt_answers);
// STVQAANLSEvaluator().eval_pred_list: mean of the per-item scores in the given order.
double anls_mean(const std::vector<double>& item_scores);

}  // namespace vista::eval
