#pragma once
// `vista study`: each arm trained with several seeds on the shapes data (seeds vary the data order
// and the initialisation of the new parts; the pretrained tower and LLM are shared), evaluated by
// preamble length, and reported (study_report.h).
#include <cstdint>
#include <string>
#include <vector>

namespace vista::demo {

struct StudyOptions {
  std::string work_dir = "runs/study";
  std::string arms = "ce,vista-l2,vista-cos";
  int64_t seeds = 3;
  std::vector<int64_t> preambles = {0, 32, 96, 256};
  bool distractors = true;  // preambles that name colours, shapes and places the image does not show
  bool quick = false;       // a few steps of everything (the end-to-end test)
  int threads = 0;          // each training run's train.threads; the process's pool is the caller's (main: --threads)
  std::string device = "cpu";
};

int run_study(const StudyOptions& options);

}  // namespace vista::demo
