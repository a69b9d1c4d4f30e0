#pragma once
// Contribution curves out: their JSON and their two pictures (attention on the image, answer
// log-prob drop), one line per model.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/contribution.h"

namespace vista::analysis {

struct ContributionCurve {
  std::string label;
  std::vector<ContributionPoint> points;
};

nlohmann::json contribution_json(const ContributionCurve& curve);

// <prefix>_attention.png and <prefix>_logprob_drop.png; points without a measured question are left out.
void write_contribution_plots(const std::string& prefix, const std::vector<ContributionCurve>& curves);

}  // namespace vista::analysis
