#pragma once
// The training order of LLaVA's LengthGroupedSampler with group_by_modality_length
// (docs/method.md §2.5), deterministic by seed.
#include <cstdint>
#include <vector>

namespace vista::data {

// lengths: > 0 for image samples, < 0 for text-only samples (magnitude = length proxy), never 0.
// megabatch = world_size * per_device_batch (* grad accumulation, as LLaVA does).
// Returns a permutation of 0..n-1: megabatches are single-modality, sorted by length
// (longest first) and split into world_size chunks of balanced total length; the two modality
// remainders form one final mixed megabatch.
std::vector<int64_t> modality_length_grouped_order(const std::vector<int64_t>& lengths, int64_t per_device_batch,
                                                   int64_t world_size, uint64_t seed);

}  // namespace vista::data
