#pragma once
// The study's report: one self-contained HTML file (pictures inlined, no external request) with
// accuracy mean ± sd per arm and preamble length and a significance note against CE, the loss and
// similarity curves, the contribution curves, heatmaps of the same held-out images per arm, and
// the exact configs. The numbers also go to results_study.json.
#include <string>
#include <vector>

#include "demo/arms.h"

namespace vista::demo {

struct StudyRuns {
  std::vector<ArmSpec> arms;
  std::vector<std::vector<ArmResult>> by_seed;  // [seed][arm]
  std::vector<uint64_t> seeds;
  std::vector<int64_t> preambles;
  std::string title, setting;  // what was run, in words
};

// Two-sided p-value of Welch's t-test for the difference of two means (NaN with fewer than two
// values on a side or no variance).
double welch_p_value(const std::vector<double>& a, const std::vector<double>& b);

// Writes <work>/report.html, results_study.json and the pictures it shows (under <work>/report/).
void write_study_report(const std::string& work_dir, const StudyRuns& runs, const Ingredients& in);

}  // namespace vista::demo
