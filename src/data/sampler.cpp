#include "data/sampler.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "util/error.h"

namespace vista::data {

namespace {

std::vector<int64_t> permutation(size_t n, std::mt19937_64& rng) {
  std::vector<int64_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), rng);
  return p;
}

// LLaVA's split_to_even_chunks: greedy by total length, or strided when sizes do not divide.
std::vector<std::vector<int64_t>> split_even(const std::vector<int64_t>& indices, const std::vector<int64_t>& lengths,
                                             int64_t chunks) {
  std::vector<std::vector<int64_t>> out(chunks);
  const int64_t n = static_cast<int64_t>(indices.size());
  if (n % chunks != 0) {
    for (int64_t i = 0; i < n; ++i) out[i % chunks].push_back(indices[i]);
    return out;
  }
  const int64_t per_chunk = n / chunks;
  std::vector<int64_t> totals(chunks, 0);
  for (const auto idx : indices) {
    int64_t best = -1;
    for (int64_t c = 0; c < chunks; ++c)
      if (static_cast<int64_t>(out[c].size()) < per_chunk && (best < 0 || totals[c] < totals[best])) best = c;
    out[best].push_back(idx);
    totals[best] += lengths[idx];
  }
  return out;
}

// get_length_grouped_indices on `lengths` (all positive): returns positions into lengths.
std::vector<int64_t> length_grouped(const std::vector<int64_t>& lengths, int64_t megabatch, int64_t world_size,
                                    std::mt19937_64& rng) {
  const auto perm = permutation(lengths.size(), rng);
  std::vector<int64_t> out;
  for (size_t i = 0; i < perm.size(); i += megabatch) {
    std::vector<int64_t> mb(perm.begin() + i, perm.begin() + std::min(perm.size(), i + megabatch));
    std::stable_sort(mb.begin(), mb.end(), [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
    for (const auto& chunk : split_even(mb, lengths, world_size)) out.insert(out.end(), chunk.begin(), chunk.end());
  }
  return out;
}

}  // namespace

std::vector<int64_t> modality_length_grouped_order(const std::vector<int64_t>& lengths, int64_t per_device_batch,
                                                   int64_t world_size, uint64_t seed) {
  if (per_device_batch < 1 || world_size < 1) fail("sampler: batch size and world size must be >= 1");
  std::mt19937_64 rng(seed);
  const int64_t megabatch = per_device_batch * world_size;
  std::vector<int64_t> mm_idx, mm_len, lang_idx, lang_len;
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] == 0) fail("sampler: sample {} has length 0 (lengths must be non-zero, signed by modality)", i);
    if (lengths[i] > 0) {
      mm_idx.push_back(static_cast<int64_t>(i));
      mm_len.push_back(lengths[i]);
    } else {
      lang_idx.push_back(static_cast<int64_t>(i));
      lang_len.push_back(-lengths[i]);
    }
  }
  if (mm_idx.empty() || lang_idx.empty()) {
    const auto& idx = mm_idx.empty() ? lang_idx : mm_idx;
    const auto& len = mm_idx.empty() ? lang_len : mm_len;
    std::vector<int64_t> out;
    for (const auto p : length_grouped(len, megabatch, world_size, rng)) out.push_back(idx[p]);
    return out;
  }
  auto grouped = [&](const std::vector<int64_t>& idx, const std::vector<int64_t>& len) {
    std::vector<std::vector<int64_t>> megabatches;
    const auto order = length_grouped(len, megabatch, world_size, rng);
    for (size_t i = 0; i < order.size(); i += megabatch) {
      std::vector<int64_t> mb;
      for (size_t j = i; j < std::min(order.size(), i + megabatch); ++j) mb.push_back(idx[order[j]]);
      megabatches.push_back(mb);
    }
    return megabatches;
  };
  auto mm = grouped(mm_idx, mm_len);
  auto lang = grouped(lang_idx, lang_len);
  std::vector<int64_t> remainder = mm.back();
  remainder.insert(remainder.end(), lang.back().begin(), lang.back().end());
  mm.pop_back();
  lang.pop_back();
  std::vector<std::vector<int64_t>> all = mm;
  all.insert(all.end(), lang.begin(), lang.end());
  const auto order = permutation(all.size(), rng);
  std::vector<int64_t> out;
  for (const auto m : order) out.insert(out.end(), all[m].begin(), all[m].end());
  std::sort(remainder.begin(), remainder.end());
  out.insert(out.end(), remainder.begin(), remainder.end());
  return out;
}

}  // namespace vista::data
