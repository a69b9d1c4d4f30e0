#include "serve/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace vista::serve {

int64_t argmax(const float* values, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (values[i] > values[best]) best = i;
  return best;
}

TokenSampler::TokenSampler(const SamplingParams& params)
    : params_(params), rng_(params.seed ? *params.seed : std::random_device{}()) {}

int64_t TokenSampler::next(const float* logits, int64_t vocab) {
  if (params_.temperature <= 0) return argmax(logits, vocab);
  // 53 random bits as a double in [0, 1): the same draw on every standard library.
  const double unit = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  if (params_.top_k <= 0 && params_.top_p >= 1.0) {  // plain temperature: no ordering needed
    const double top = logits[argmax(logits, vocab)] / params_.temperature;
    std::vector<double> weights(static_cast<size_t>(vocab));
    double total = 0;
    for (int64_t i = 0; i < vocab; ++i)
      total += weights[static_cast<size_t>(i)] = std::exp(logits[i] / params_.temperature - top);
    double cumulative = 0;
    for (int64_t i = 0; i < vocab; ++i)
      if (unit * total < (cumulative += weights[static_cast<size_t>(i)])) return i;
    return vocab - 1;
  }
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  const auto by_logit = [logits](int64_t a, int64_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  size_t kept = order.size();
  if (params_.top_k > 0 && params_.top_k < vocab) {
    kept = static_cast<size_t>(params_.top_k);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kept), order.end(), by_logit);
  } else {
    std::sort(order.begin(), order.end(), by_logit);
  }
  // Softmax over the kept tokens in double, largest first.
  const double top = logits[order[0]] / params_.temperature;
  std::vector<double> weights(kept);
  double total = 0;
  for (size_t i = 0; i < kept; ++i) total += weights[i] = std::exp(logits[order[i]] / params_.temperature - top);
  if (params_.top_p < 1.0) {
    double mass = 0;
    size_t nucleus = 0;
    while (nucleus < kept && mass < params_.top_p * total) mass += weights[nucleus++];
    kept = std::max<size_t>(nucleus, 1);
    total = std::accumulate(weights.begin(), weights.begin() + static_cast<std::ptrdiff_t>(kept), 0.0);
  }
  const double u = unit * total;
  double cumulative = 0;
  for (size_t i = 0; i < kept; ++i) {
    cumulative += weights[i];
    if (u < cumulative) return order[i];
  }
  return order[kept - 1];
}

}  // namespace vista::serve
