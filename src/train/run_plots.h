#pragma once
#include <string>
#include <vector>

namespace vista::train {

// Reads <run_dir>/metrics.jsonl and writes loss.png (total, CE, VISTA), similarity.png and
// lr.png into the run folder; returns the files written.
std::vector<std::string> plot_run(const std::string& run_dir);

}  // namespace vista::train
