#pragma once
// `vista bench input`: does a training step wait for its data? Real images (the shapes set
// written at a chosen size), the configuration's model at a chosen input size, the same steps
// with samples loaded in the step and with loader threads ahead of it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace vista::train {

struct InputBenchOptions {
  int64_t image_px = 0;   // the vision tower's input size; 0: the configuration's
  int64_t source_px = 0;  // the images on disk; 0: twice the input size (they are resized and cropped)
  int64_t steps = 6;      // timed steps per arm, after one warm-up step
  std::vector<int> loader_threads{0, 1};
  int threads = 0;  // training threads; 0: the configuration's
};

struct InputBenchArm {
  int loader_threads = 0;
  double step_s = 0, wait_s = 0;  // medians over the timed steps
  double wait_share = 0;          // total waiting / total step time
};

struct InputBenchResult {
  std::string name;
  int64_t image_px = 0, source_px = 0, batch = 0;
  double load_ms = 0;  // one sample, read + decode + preprocess + tokenize, median
  std::vector<InputBenchArm> arms;
  double peak_rss_mb = 0;
  nlohmann::json to_json() const;
};

InputBenchResult bench_input_pipeline(const std::string& config_path, const InputBenchOptions& options,
                                      std::ostream& out);

}  // namespace vista::train
