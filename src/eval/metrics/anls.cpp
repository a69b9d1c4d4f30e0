#include "eval/metrics/anls.h"

#include <algorithm>

#include "eval/metrics/python_text.h"
#include "eval/metrics/vqa_accuracy.h"
#include "util/error.h"

namespace vista::eval {

int64_t levenshtein_distance(std::u32string_view a, std::u32string_view b) {
  std::vector<int64_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diagonal = row[0];
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {

struct PairScore {
  int64_t distance;
  double anls;
};

PairScore anls_pair_scores(const std::u32string& p, const std::u32string& g, std::string_view pred,
                           std::string_view gt) {
  const size_t longest = std::max(p.size(), g.size());
  if (longest == 0)
    fail("ANLS of two empty strings ('{}' vs '{}') is undefined (ZeroDivisionError in the official scorer)", pred, gt);
  const int64_t d = levenshtein_distance(p, g);
  const double iou = 1 - static_cast<double>(d) / static_cast<double>(longest);
  return {d, iou >= 0.5 ? iou : 0.0};
}

}  // namespace

double anls_pair(std::string_view pred, std::string_view gt) {
  const auto p = py::strip(py::lower(utf8_to_u32(pred, "ANLS prediction")));
  const auto g = py::strip(py::lower(utf8_to_u32(gt, "ANLS ground truth")));
  return anls_pair_scores(p, g, pred, gt).anls;
}

AnlsItemScore anls_item_score(std::string_view pred_answer, const std::vector<std::string>& gt_answers) {
  if (gt_answers.empty()) fail("ANLS needs at least one ground-truth answer (max() of an empty sequence)");
  AnlsItemScore out;
  const auto p = py::strip(py::lower(utf8_to_u32(pred_answer, "ANLS prediction")));
  for (const auto& gt : gt_answers) {
    const auto g = py::strip(py::lower(utf8_to_u32(gt, "ANLS ground truth")));
    const PairScore s = anls_pair_scores(p, g, pred_answer, gt);
    out.edit_distance.push_back(s.distance);
    out.anls_per_gt.push_back(s.anls);
  }
  out.anls = out.anls_per_gt[0];
  for (double v : out.anls_per_gt)
    if (v > out.anls) out.anls = v;
  return out;
}

double anls_mean(const std::vector<double>& item_scores) { return python_mean(item_scores); }

}  // namespace vista::eval
