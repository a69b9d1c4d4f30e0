#include "sea/pair_sampling.h"

#include <algorithm>
#include <random>
#include <unordered_set>

#include "util/error.h"

namespace vista::sea {

namespace {
// splitmix64: spreads nearby (step, micro, rank) tuples over unrelated generator states.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, n) without the implementation-defined std distributions, so that every
// standard library draws the same pairs.
int64_t below(std::mt19937_64& rng, int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); }
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
}  // namespace

uint64_t pair_seed(uint64_t run_seed, int64_t step, int64_t micro, int64_t rank) {
  return mix(mix(mix(run_seed ^ 0x5ea5ea5ea5ea5eaULL) + static_cast<uint64_t>(step)) + static_cast<uint64_t>(micro)) +
         static_cast<uint64_t>(rank);
}

SeaPairs sample_pairs(const std::vector<std::optional<PatchLabels>>& labels, const torch::Tensor& windows_WK,
                      uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto windows = windows_WK.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t num_windows = windows.size(0), per_window = windows.size(1);
  const auto* win = windows.data_ptr<int64_t>();
  struct Pair {
    int64_t sample, patch, word;
  };
  std::vector<Pair> drawn;
  std::vector<int64_t> candidates;
  for (size_t b = 0; b < labels.size(); ++b) {
    if (!labels[b]) continue;
    const auto ids = labels[b]->ids_Nn.to(torch::kCPU, torch::kLong).contiguous();
    const auto scores = labels[b]->scores_Nn.to(torch::kCPU, torch::kFloat).contiguous();
    const int64_t patches = ids.size(0), n = ids.size(1);
    const auto* id = ids.data_ptr<int64_t>();
    const auto* score = scores.data_ptr<float>();
    auto total = [&](int64_t p) {
      double t = 0;
      for (int64_t j = 0; j < n; ++j)
        if (id[p * n + j] >= 0 && score[p * n + j] > 0) t += score[p * n + j];
      return t;
    };
    for (int64_t w = 0; w < num_windows; ++w) {
      candidates.clear();
      for (int64_t s = 0; s < per_window; ++s) {
        const int64_t p = win[w * per_window + s];
        if (p < 0) continue;
        if (p >= patches) fail("sea: window patch {} is outside the {} labelled patches", p, patches);
        if (total(p) > 0) candidates.push_back(p);
      }
      if (candidates.empty()) continue;
      const int64_t p = candidates[below(rng, static_cast<int64_t>(candidates.size()))];
      double r = unit(rng) * total(p);
      int64_t chosen = -1;
      for (int64_t j = 0; j < n; ++j) {
        if (id[p * n + j] < 0 || !(score[p * n + j] > 0)) continue;
        chosen = id[p * n + j];
        r -= score[p * n + j];
        if (r < 0) break;
      }
      drawn.push_back({static_cast<int64_t>(b), p, chosen});
    }
  }
  SeaPairs out;
  out.drawn = static_cast<int64_t>(drawn.size());
  // De-duplication: a random order, then the first pair of every word.
  for (int64_t i = static_cast<int64_t>(drawn.size()) - 1; i > 0; --i) std::swap(drawn[i], drawn[below(rng, i + 1)]);
  std::unordered_set<int64_t> seen;
  std::vector<Pair> kept;
  for (const auto& pair : drawn)
    if (seen.insert(pair.word).second) kept.push_back(pair);
  std::sort(kept.begin(), kept.end(), [](const Pair& a, const Pair& b) {
    return a.sample != b.sample ? a.sample < b.sample : a.patch < b.patch;
  });
  const auto n = static_cast<int64_t>(kept.size());
  out.sample_N = torch::empty({n}, torch::kLong);
  out.patch_N = torch::empty({n}, torch::kLong);
  out.word_N = torch::empty({n}, torch::kLong);
  auto* sample = out.sample_N.data_ptr<int64_t>();
  auto* patch = out.patch_N.data_ptr<int64_t>();
  auto* word = out.word_N.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    sample[i] = kept[i].sample;
    patch[i] = kept[i].patch;
    word[i] = kept[i].word;
  }
  return out;
}

}  // namespace vista::sea
