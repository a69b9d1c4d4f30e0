#include "analysis/contribution_plot.h"

#include "viz/line_plot.h"

namespace vista::analysis {

nlohmann::json contribution_json(const ContributionCurve& curve) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : curve.points)
    points.push_back({{"preamble_words", p.preamble_words},
                      {"questions", p.cases},
                      {"image_attention", p.image_attention},
                      {"image_attention_by_layer", p.image_attention_layer},
                      {"answer_logprob_real", p.logprob_real},
                      {"answer_logprob_neutral", p.logprob_neutral},
                      {"answer_logprob_drop", p.logprob_drop}});
  return {{"label", curve.label}, {"points", points}};
}

void write_contribution_plots(const std::string& prefix, const std::vector<ContributionCurve>& curves) {
  std::vector<viz::Series> attention, drop;
  for (const auto& c : curves) {
    viz::Series at{c.label, {}, {}}, lp{c.label, {}, {}};
    for (const auto& p : c.points) {
      if (p.cases == 0) continue;
      at.x.push_back(static_cast<double>(p.preamble_words));
      at.y.push_back(p.image_attention);
      lp.x.push_back(static_cast<double>(p.preamble_words));
      lp.y.push_back(p.logprob_drop);
    }
    attention.push_back(at);
    drop.push_back(lp);
  }
  viz::write_line_plot(prefix + "_attention.png", attention, {"answer attention on image tokens", "preamble words"});
  viz::write_line_plot(prefix + "_logprob_drop.png", drop, {"answer log-prob drop, neutral image", "preamble words"});
}

}  // namespace vista::analysis
