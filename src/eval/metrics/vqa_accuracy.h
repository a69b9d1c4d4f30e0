#pragma once
// VQA soft accuracy as LLaVA's m4c_evaluator.py computes it (TextVQAAccuracyEvaluator, the VQAv2 /
// TextVQA metric), the exact-match STVQAAccuracyEvaluator, and eval_textvqa.py end to end.
//
// For exactly 10 ground-truth answers g_0..g_9 and a prediction p (all through answer_normalize):
//   score(a) = (sum over i = 0..9, in GT order, of min(1, #{j != i : g_j == a} / 3)) / 10
// summed left to right in double (the order shows in the last bit: 0.6 / 0.5999999999999999 /
// 0.6000000000000001 for two matches), and the item's accuracy is score(p) when p is one of the g_j,
// else 0.0. The dataset value is the plain left-to-right double sum of item scores divided by n
// (CPython <= 3.11 sum(), not the compensated sum of 3.12+).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vista::eval {

struct VqaItemScore {
  std::string pred_processed;
  std::vector<std::string> gt_processed;
  // _compute_answer_scores: every distinct processed GT answer with its soft score, sorted by answer
  // (the official dict comes from a set, so its order carries no meaning).
  std::vector<std::pair<std::string, double>> unique_answer_scores;
  double accuracy = 0.0;        // TextVQAAccuracyEvaluator
  double stvqa_accuracy = 0.0;  // STVQAAccuracyEvaluator: 1.0 if p equals some processed GT, else 0.0
};

// Throws vista::Error unless there are exactly 10 GT answers (the official assert).
VqaItemScore vqa_item_score(std::string_view pred_answer, const std::vector<std::string>& gt_answers);
double vqa_soft_accuracy(std::string_view pred_answer, const std::vector<std::string>& gt_answers);
// Exact match after normalisation; any number of GT answers.
double stvqa_accuracy(std::string_view pred_answer, const std::vector<std::string>& gt_answers);

// sum(values) / len(values) as CPython 3.11 computes it (left-to-right double sum). Throws on empty
// input (ZeroDivisionError in the official code).
double python_mean(const std::vector<double>& values);

struct VqaPrediction {
  std::string pred_answer;
  std::vector<std::string> gt_answers;
};
// TextVQAAccuracyEvaluator().eval_pred_list(items) / STVQAAccuracyEvaluator().eval_pred_list(items).
double textvqa_eval_pred_list(const std::vector<VqaPrediction>& items);
double stvqa_eval_pred_list(const std::vector<VqaPrediction>& items);

// eval_textvqa.py prompt_processor: the question recovered from a LLaVA TextVQA prompt, lower-cased.
//   "OCR tokens: ... Question: Q Short answer:" -> Q (first match, across newlines);
//   3 lines containing "Reference OCR token: " -> line 1 if the prompt starts with it, else line 0;
//   2 lines -> line 0; anything else throws (the official `assert False`).
std::string textvqa_question_from_prompt(std::string_view prompt);

struct TextVqaRunItem {
  std::string question_id;  // the result's question_id (LLaVA writes the image id there)
  std::string prompt, question, text;
  double accuracy = 0.0;
};
struct TextVqaRun {
  std::string experiment_name;  // result file name without folder and extension
  std::vector<TextVqaRunItem> items;
  double accuracy = 0.0;  // eval_pred_list mean (a fraction; printed x100)
  std::string stdout_text;  // "<name>\nSamples: N\nAccuracy: XX.XX%\n\n"
};
// python -m llava.eval.eval_textvqa --annotation-file A --result-file R: results are matched to
// annotations by (image_id, question.lower()), the question recovered from the prompt. Errors name the
// file, line and field (a result with no annotation included).
TextVqaRun textvqa_evaluate_files(const std::string& annotation_file, const std::string& result_file);

}  // namespace vista::eval
