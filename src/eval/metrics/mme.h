#pragma once
// MME as the official MME eval_tool calculation.py scores it.
//   Each task file <results_dir>/<task>.txt is read with readlines() (Python text mode: universal
//   newlines, UTF-8); consecutive lines form pairs = one image (the image name is not used; an odd line
//   count is an error); each line splits on '\t' into exactly 4 fields: image, question, GT, prediction.
//   GT = 3rd field lower-cased, must be yes/no. Prediction = 4th field lower-cased WITH its trailing
//   "\n": itself if exactly "yes"/"no"; else its first 4 code points: contain "yes" -> yes, elif contain
//   "no" -> no, else "other".
//   acc = correct / questions ("other" is wrong); acc_plus = images with both answers right / images;
//   score = 0 + acc*100 + acc_plus*100; TP/FN/TN/FP, precision, recall over the non-"other" answers
//   (sklearn, 0.0 on a zero denominator); Perception / Cognition = sums of the task scores in fixed order.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vista::eval {

// The 10 perception and 4 cognition tasks, in the official (summation and print) order.
const std::vector<std::string>& mme_perception_tasks();
const std::vector<std::string>& mme_cognition_tasks();

// parse_pred_ans(pred_field.lower()): "yes", "no" or "other".
std::string mme_parse_prediction(std::string_view pred_field);

struct MmeLine {
  std::string image, question, gt, pred_field;  // pred_field keeps its trailing "\n"
  int64_t line = 0;                             // 1-based line number in the task file
};

struct MmeTaskResult {
  std::string task;
  int64_t questions = 0, images = 0;
  int64_t tp = 0, fn = 0, tn = 0, fp = 0, other_num = 0;
  double precision = 0.0, recall = 0.0, acc = 0.0, acc_plus = 0.0;
  double score = 0.0;                  // 0 + acc*100 + acc_plus*100
  std::vector<std::string> gt_labels;  // per line: "yes" / "no"
  std::vector<std::string> pred_labels;  // per line: "yes" / "no" / "other"
};

struct MmeResult {
  std::vector<MmeTaskResult> perception, cognition;  // in the official order
  double perception_total = 0.0, cognition_total = 0.0;
  std::string stdout_text;  // exactly what calculation.py prints
};

// Reads one task file; errors name the file and line (not exactly 4 tab-separated fields).
std::vector<MmeLine> mme_read_task_file(const std::string& path);
// Scores one task's lines (pairs of consecutive lines = one image). `source` names them in errors.
MmeTaskResult mme_score_task(const std::string& task, const std::vector<MmeLine>& lines, const std::string& source);
// python calculation.py --results_dir DIR: every task file must exist.
MmeResult mme_evaluate_dir(const std::string& results_dir);

}  // namespace vista::eval
