#include "eval/metrics/gqa.h"

#include <algorithm>
#include <unordered_map>

#include "eval/metrics/json_io.h"
#include "eval/metrics/python_text.h"
#include "util/error.h"

namespace vista::eval {

std::string gqa_normalize_prediction(std::string_view text) {
  return u32_to_utf8(py::lower(py::rstrip(utf8_to_u32(text, "GQA answer"), U'.')));
}

std::vector<GqaPrediction> gqa_convert_answers(const std::string& answers_jsonl) {
  std::vector<GqaPrediction> out;
  for (const auto& line : read_python_jsonl(answers_jsonl)) {
    const JsonNode record = JsonNode(line.value, line.where).expect_object();
    const auto& qid = record.at("question_id").raw();
    GqaPrediction p;
    p.id_is_string = qid.is_string();
    p.question_id = qid.is_string() ? qid.get<std::string>() : qid.dump();
    p.prediction = gqa_normalize_prediction(record.string("text"));
    out.push_back(std::move(p));
  }
  return out;
}

std::string gqa_predictions_json(const std::vector<GqaPrediction>& predictions) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const auto& p : predictions) {
    nlohmann::ordered_json item;
    item["questionId"] = p.id_is_string ? nlohmann::ordered_json(p.question_id)
                                        : nlohmann::ordered_json::parse(p.question_id);
    item["prediction"] = p.prediction;
    all.push_back(std::move(item));
  }
  return python_json_dumps(all, -1);
}

namespace {

std::string python_str(const nlohmann::json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  fail("{} must be a string, got {}", where, v.dump());
}

}  // namespace

std::vector<GqaQuestion> gqa_read_questions(const std::string& questions_json) {
  std::vector<std::string> ids;
  const nlohmann::json all = read_json_keep_order(questions_json, &ids);
  if (!all.is_object()) fail("{}: expected a JSON object of questions keyed by question id", questions_json);
  std::vector<GqaQuestion> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    const JsonNode q = JsonNode(all.at(id), fmt::format("{}: question '{}'", questions_json, id)).expect_object();
    GqaQuestion question;
    question.id = id;
    question.is_balanced = q.boolean("isBalanced");
    // Unbalanced questions are never scored; their answer and types are read when present (for reports).
    if (q.contains("answer") || question.is_balanced) question.answer = q.string("answer");
    if (q.contains("types") || question.is_balanced) {
      const JsonNode types = q.object("types");
      if (types.contains("structural") || question.is_balanced) question.structural = types.string("structural");
      if (types.contains("semantic") || question.is_balanced) question.semantic = types.string("semantic");
    }
    if (question.is_balanced) {
      const JsonNode groups = q.object("groups");
      const auto& global = groups.at("global").raw();
      if (!global.is_null()) question.global_group = python_str(global, groups.at("global").location());
      question.words =
          static_cast<int64_t>(py::split(utf8_to_u32(q.string("question"), q.at("question").location())).size());
      const JsonNode semantic = q.at("semantic");
      if (!semantic.is_array()) fail("{} must be a list", semantic.location());
      for (size_t i = 0; i < semantic.raw().size(); ++i) {
        const JsonNode op = semantic.at(i).expect_object();
        const std::string text = python_str(op.at("operation").raw(), op.at("operation").location()) + ": " +
                                 python_str(op.at("argument").raw(), op.at("argument").location());
        const bool excluded = text.find("exist") != std::string::npos || text.find("query: name") != std::string::npos ||
                              text.find("choose name") != std::string::npos;
        if (!excluded) ++question.steps;
      }
    }
    out.push_back(std::move(question));
  }
  return out;
}

namespace {

// A dict that keeps first-insertion order.
template <typename V>
struct OrderedMap {
  std::vector<std::pair<std::string, V>> items;
  std::unordered_map<std::string, size_t> index;
  V& operator[](const std::string& key) {
    const auto it = index.find(key);
    if (it != index.end()) return items[it->second].second;
    index.emplace(key, items.size());
    items.emplace_back(key, V{});
    return items.back().second;
  }
  const V* find(const std::string& key) const {
    const auto it = index.find(key);
    return it == index.end() ? nullptr : &items[it->second].second;
  }
};

// avg(l) * 100 over a list of 0.0 / 1.0 scores: float(sum(l)) / len(l), 0 for an empty list.
double avg100(int64_t correct, int64_t count) {
  if (count == 0) return 0.0;
  return static_cast<double>(correct) / static_cast<double>(count) * 100;
}

struct Tally {
  int64_t correct = 0, count = 0;
};

GqaTypeScores finish(const OrderedMap<Tally>& tallies) {
  GqaTypeScores out;
  for (const auto& [key, t] : tallies.items) out.push_back({key, {avg100(t.correct, t.count), t.count}});
  return out;
}

}  // namespace

GqaScores gqa_evaluate(const std::vector<GqaQuestion>& questions, const std::vector<GqaPrediction>& predictions) {
  std::unordered_map<std::string, std::string> predicted_by_id;
  for (const auto& p : predictions)
    if (p.id_is_string) predicted_by_id[p.question_id] = p.prediction;
  for (const auto& q : questions)
    if (q.is_balanced && !predicted_by_id.count(q.id))
      fail("GQA: no prediction for question {}. Please add prediction for all questions. (the official eval.py "
           "raises 'missing predictions')", q.id);

  GqaScores s;
  Tally accuracy, binary, open;
  OrderedMap<Tally> structural, semantic, steps, length;
  OrderedMap<OrderedMap<int64_t>> gold_dist, predicted_dist;
  for (const auto& q : questions) {
    if (!q.is_balanced) continue;
    const std::string& predicted = predicted_by_id.at(q.id);
    const bool correct = predicted == q.answer;
    s.correct.emplace_back(q.id, correct);
    for (Tally* t : {&accuracy, &length[std::to_string(q.words)], &steps[std::to_string(q.steps)],
                     &structural[q.structural], &semantic[q.semantic], q.structural == "query" ? &open : &binary}) {
      t->correct += correct;
      ++t->count;
    }
    if (q.global_group) {
      gold_dist[*q.global_group][q.answer] += 1;
      predicted_dist[*q.global_group][predicted] += 1;
    }
  }
  s.scored = accuracy.count;
  s.accuracy = avg100(accuracy.correct, accuracy.count);
  s.binary = avg100(binary.correct, binary.count);
  s.open = avg100(open.correct, open.count);
  s.validity = 0.0;  // no choices file: every question counts as not valid / not plausible
  s.plausibility = 0.0;
  s.per_structural = finish(structural);
  s.per_semantic = finish(semantic);
  s.per_steps = finish(steps);
  s.per_length = finish(length);

  // chiSquare(gold, predicted) / 100, summed in eval.py's order.
  double sum_score = 0;
  int64_t sum_overall = 0;
  for (const auto& [group, answers] : gold_dist.items) {
    double score = 0;
    int64_t overall = 0;
    const auto* predicted_group = predicted_dist.find(group);
    for (const auto& [answer, e] : answers.items) {
      const int64_t* o = predicted_group ? predicted_group->find(answer) : nullptr;
      const double diff = static_cast<double>((o ? *o : 0) - e);
      score += (diff * diff) / static_cast<double>(e);
      overall += e;
    }
    sum_score += score * static_cast<double>(overall);
    sum_overall += overall;
  }
  if (sum_overall == 0)
    fail("GQA: no balanced question with a groups.global answer group: the distribution score is undefined "
         "(ZeroDivisionError in the official eval.py)");
  s.distribution = sum_score / static_cast<double>(sum_overall) / 100;
  return s;
}

std::string gqa_stdout(const GqaScores& s) {
  std::string out =
      "Please make sure to use our provided visual features as gqadataset.org for better comparability. We provide "
      "both spatial and object-based features trained on GQA train set.\n"
      "In particular please avoid using features from https://github.com/peteanderson80/bottom-up-attention since "
      "they were trained on images contained in the GQA validation set and thus may give false scores "
      "improvement.\n\n"
      "Please consider using --consistency to compute consistency scores for entailed questions.\n"
      "If you do so, please provide answers to all questions in val_all_questions.json.\n\n"
      "Please consider using --grounding to compute attention scores.\n"
      "If you do so, please provide attention maps through --attentions.\n\n"
      "Loading scene graphs...\n"
      "Failed to load scene graphs -- cannot evaluate grounding\n"
      "Loading questions...\n"
      "Loading choices...\n"
      "Failed to load choices -- cannot evaluate validity or plausibility\n"
      "Loading predictions...\n"
      "\n";
  const std::pair<const char*, double> metrics[] = {{"Binary", s.binary},     {"Open", s.open},
                                                    {"Accuracy", s.accuracy}, {"Validity", s.validity},
                                                    {"Plausibility", s.plausibility}};
  for (const auto& [title, value] : metrics) out += fmt::format("{}: {}%\n", title, py::format_fixed(value, 2));
  out += fmt::format("Distribution: {} (lower is better)\n", py::format_fixed(s.distribution, 2));

  const std::pair<const char*, const GqaTypeScores*> detailed[] = {{"Accuracy / structural type", &s.per_structural},
                                                                   {"Accuracy / semantic type", &s.per_semantic},
                                                                   {"Accuracy / steps number", &s.per_steps},
                                                                   {"Accuracy / words number", &s.per_length}};
  for (const auto& [title, table] : detailed) {
    out += fmt::format("\n{}:\n", title);
    auto rows = *table;
    const bool numeric = table == &s.per_steps || table == &s.per_length;  // int dict keys sort numerically
    std::sort(rows.begin(), rows.end(), [numeric](const auto& a, const auto& b) {
      return numeric ? std::stoll(a.first) < std::stoll(b.first) : a.first < b.first;
    });
    // The intended capitalised names ("Attribute", ...) are never used: eval.py tests a stale loop variable.
    for (const auto& [key, value] : rows)
      out += fmt::format("  {}: {}% ({} questions)\n", key, py::format_fixed(value.first, 2), value.second);
  }
  return out;
}

}  // namespace vista::eval
