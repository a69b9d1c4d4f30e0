#pragma once
// `vista bench serve`: tokens/s and latency of the server at several concurrencies against the same
// requests answered one after another by the decoder `vista generate` runs, in one process on one
// machine. Every request runs to exactly max_tokens (ignore_eos), so both sides make the same
// number of tokens.
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "serve/server.h"

namespace vista::serve {

struct ServeBenchOptions {
  std::string questions;  // eval JSONL with "image" and "text" (the shapes eval.jsonl)
  std::string images;     // folder of those images
  int64_t requests = 32;
  int64_t max_tokens = 32;
  std::vector<int64_t> concurrency = {1, 4, 16};
  int64_t max_batch = 16;
};

nlohmann::json bench_serve(std::shared_ptr<ServedModel> model, const ServeBenchOptions& options, std::ostream& log);

}  // namespace vista::serve
