#pragma once
// ScienceQA(-IMG) as LLaVA-VISTA's llava/eval/eval_science_qa.py scores it (split "test", options A-E).
//   parse: text exactly one of A-E -> it; elif len >= 3 and text[0] in A-E and text[1:3] == ". " -> text[0];
//          elif re.findall(r'The answer is ([A-Z]).', text) has exactly ONE match -> that letter ('.' = any
//          code point but '\n'); else "FAILED".
//   index: position in A-E when the letter is among the first len(choices) options, else -1.
//   A problem is correct iff index == answer. Missing prediction: text "FAILED", prompt "Unknown".
//   IMG subset: problems whose PROMPT contains "<image>".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vista::eval {

// "A".."Z" or "FAILED".
std::string scienceqa_parse_answer(std::string_view pred_text);
// get_pred_idx(answer, choices, ["A".."E"]).
int scienceqa_pred_index(std::string_view parsed_answer, int64_t n_choices);

struct ScienceQaProblem {
  std::string pid;
  int64_t n_choices = 0;  // len(problem["choices"])
  int64_t answer = 0;     // problem["answer"] (index of the correct choice)
};

struct ScienceQaPrediction {
  std::optional<std::string> text;    // absent -> error when the prediction is used
  std::optional<std::string> prompt;  // absent -> error when the prediction is used
  std::string source;                 // "<file>:<line>" for error messages
};

struct ScienceQaItem {
  std::string question_id;
  int64_t answer = 0;     // the problem's answer index
  int64_t n_choices = 0;  // len(choices)
  std::string parsed_ans;
  std::string ground_truth;  // options[answer]
  std::string question;      // the prediction's prompt ("Unknown" when missing)
  std::string pred;          // the prediction's text ("FAILED" when missing)
  bool is_multimodal = false;
  bool missing = false;  // no prediction for this pid
  int pred_idx = -1;
  bool correct = false;
};

struct ScienceQaResult {
  std::vector<ScienceQaItem> items;  // in split order
  int64_t correct = 0, total = 0, multimodal_correct = 0, multimodal_total = 0;
  double acc = 0.0;      // correct / total * 100 (written to the result json)
  double img_acc = 0.0;  // multimodal_correct / multimodal_total * 100 (only printed; NaN when no IMG problem)

  // "Total: N, Correct: C, Accuracy: xx.xx%, IMG-Accuracy: yy.yy%\n". Throws when total or
  // multimodal_total is 0 (ZeroDivisionError in the official script).
  std::string stdout_text() const;
  // Byte-identical contents of the two files the official script writes (--output-file: the
  // correct/incorrect analyses; --output-result: acc, correct, count, results, outputs), json.dump(indent=2).
  std::string output_file_json() const;
  std::string result_file_json() const;
};

// Predictions are keyed by question_id as read from JSON (an int id never matches a str pid; a repeated
// id keeps the last prediction). Problems are the split's pids in order (a repeated pid counts once).
ScienceQaResult scienceqa_evaluate(const std::vector<ScienceQaProblem>& split_problems,
                                   const std::unordered_map<std::string, ScienceQaPrediction>& predictions);

// python llava/eval/eval_science_qa.py --base-dir B --result-file R [--split S]: reads
// B/pid_splits.json, B/problems.json and the answers JSONL R.
ScienceQaResult scienceqa_evaluate_files(const std::string& base_dir, const std::string& result_file,
                                         const std::string& split = "test");

}  // namespace vista::eval
