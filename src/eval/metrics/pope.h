#pragma once
// POPE as LLaVA's llava/eval/eval_pope.py scores it.
//   parse: keep the text before the FIRST '.', delete ',', split on single ASCII spaces; "no" iff one of
//          the words is exactly "No", "not" or "no", else "yes".
//   label: "no" -> 0, anything else (including "No", "unknown", non-strings) -> 1.
//   Answers of a category (in answer-file order) are paired with the label file BY POSITION (zip:
//   extra answers or extra labels are ignored for TP/FP/TN/FN), but yes-ratio counts every answer of
//   the category. precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), acc = (TP+TN)/(all four).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vista::eval {

// "yes" or "no", as eval_pope writes back into answer['text'].
std::string pope_parse_answer(std::string_view text);

struct PopeCategoryResult {
  std::string category;
  int64_t samples = 0;  // answers of the category (printed as "# samples")
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  // NaN where the official code raises ZeroDivisionError (no answers, TP+FP == 0, TP+FN == 0, P+R == 0);
  // `undefined` then names what is undefined and stdout_block() throws.
  double accuracy = 0.0, precision = 0.0, recall = 0.0, f1 = 0.0, yes_ratio = 0.0;
  std::string undefined;
  std::vector<std::string> answers;               // per answer: the raw text, in answer-file order
  std::vector<std::string> parsed;                // per answer: "yes" / "no"
  int64_t paired = 0;                             // min(#answers, #labels): answers 0..paired-1 have a label
  std::vector<std::optional<std::string>> label;  // per answer: the label it was paired with (nullopt beyond
                                                  // the label list, or a non-string label)

  // What eval_pope.py prints for the category, from "Category: ..." to the '%.3f' summary line
  // (without the "====" separator line).
  std::string stdout_block() const;
  std::string summary_line() const;  // '%.3f, %.3f, %.3f, %.3f, %.3f' % (f1, acc, precision, recall, yes_ratio)
};

// Labels are the raw `label` values of the label file: a string, or nullopt for a non-string value
// (which counts as 1, as anything but "no" does).
PopeCategoryResult pope_score_category(const std::string& category, const std::vector<std::string>& answer_texts,
                                       const std::vector<std::optional<std::string>>& labels);

// python llava/eval/eval_pope.py --annotation-dir D --question-file Q --result-file R:
// categories = the coco_pope_<category>.json files of D (sorted by name; the official os.listdir order
// is unspecified, and a file not named coco_pope_*.json is an error as in the official asserts);
// an answer belongs to the category of its question_id in Q (a question_id missing from Q is an error).
std::vector<PopeCategoryResult> pope_evaluate_files(const std::string& annotation_dir, const std::string& question_file,
                                                    const std::string& result_file);

}  // namespace vista::eval
