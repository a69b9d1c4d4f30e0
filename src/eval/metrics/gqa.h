#pragma once
// GQA as LLaVA scores it: scripts/convert_gqa_for_eval.py (prediction = text.rstrip('.').lower()) then
// the Stanford GQA eval.py with LLaVA's testdev change (no scene graphs, no choices file), tier
// testdev_balanced:
//   only questions with isBalanced are scored; each needs a prediction (keyed by the questionId string);
//   correct iff prediction == answer exactly; accuracy = mean*100; Binary = types.structural != "query",
//   Open = "query"; validity and plausibility are 0 without a choices file; distribution = chi-square
//   of predicted vs gold answer counts per groups.global, averaged over groups weighted by their size,
//   / 100; per structural type, semantic type, steps number and words number: [mean*100, count].
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vista::eval {

// convert_gqa_for_eval.py: all trailing '.' removed (nothing else stripped), then Python lower().
std::string gqa_normalize_prediction(std::string_view text);

struct GqaPrediction {
  std::string question_id;  // the answer's question_id (a string id; other JSON ids as dumped)
  bool id_is_string = true;
  std::string prediction;
};
// convert_gqa_for_eval.py --src merge.jsonl: one prediction per answer line, in file order.
std::vector<GqaPrediction> gqa_convert_answers(const std::string& answers_jsonl);
// The bytes convert_gqa_for_eval.py writes (json.dump of [{"questionId", "prediction"}, ...]).
std::string gqa_predictions_json(const std::vector<GqaPrediction>& predictions);

struct GqaQuestion {
  std::string id;
  bool is_balanced = false;
  std::string answer;
  std::string structural, semantic;     // types.structural / types.semantic
  std::optional<std::string> global_group;  // groups.global (null -> not counted in the distribution)
  int64_t words = 0;  // len(question.split())
  int64_t steps = 0;  // semantic operations whose "operation: argument" contains none of exist / query: name / choose name
};
// The questions file (a JSON object id -> question), in file order.
std::vector<GqaQuestion> gqa_read_questions(const std::string& questions_json);

// One detailed-metric table: key -> (mean*100, count), in first-seen order (keys as eval.py's dict
// keys: type names, or the steps/words numbers written in decimal).
using GqaTypeScores = std::vector<std::pair<std::string, std::pair<double, int64_t>>>;

struct GqaScores {
  double accuracy = 0.0, binary = 0.0, open = 0.0, validity = 0.0, plausibility = 0.0, distribution = 0.0;
  GqaTypeScores per_structural, per_semantic, per_steps, per_length;
  int64_t scored = 0;  // balanced questions
  std::vector<std::pair<std::string, bool>> correct;  // per balanced question in order: (id, correct)
};

// eval.py --tier testdev_balanced over parsed questions and predictions (a repeated questionId keeps
// the last prediction). Throws naming the question when a balanced question has no prediction.
GqaScores gqa_evaluate(const std::vector<GqaQuestion>& questions, const std::vector<GqaPrediction>& predictions);
// Everything eval.py prints on stdout for a run without scene graphs and choices (testdev).
std::string gqa_stdout(const GqaScores& scores);

}  // namespace vista::eval
