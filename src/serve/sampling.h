#pragma once
// Picking the next token from one row of logits: greedy at temperature 0, otherwise temperature,
// top-k and top-p (nucleus) sampling with the request's own seeded generator, so a seeded
// request gets the same answer every time and alone or in a batch.
#include <cstdint>
#include <optional>
#include <random>

namespace vista::serve {

struct SamplingParams {
  double temperature = 1.0;  // 0: greedy
  double top_p = 1.0;        // (0, 1]
  int64_t top_k = 0;         // 0: all tokens
  std::optional<uint64_t> seed;
};

class TokenSampler {
 public:
  explicit TokenSampler(const SamplingParams& params);
  int64_t next(const float* logits, int64_t vocab);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
};

// The first index of the largest value (as torch.argmax picks among ties).
int64_t argmax(const float* values, int64_t n);

}  // namespace vista::serve
