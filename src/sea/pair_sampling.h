#pragma once
// Which (visual token, label word) pairs SEA trains on in one micro-batch (docs/method.md, SEA):
// per image, one patch from every k x k window (uniformly among the window's patches that have a
// label) and one of that patch's labels with probability score / sum of its kept scores; then,
// among pairs that drew the same word, one kept at random. A fresh draw every time, from the
// given seed, so a run is repeatable and a resumed run draws what the uninterrupted one would.
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "sea/label_file.h"

namespace vista::sea {

struct SeaPairs {
  torch::Tensor sample_N;  // int64 index of the sample (= its image) in the micro-batch
  torch::Tensor patch_N;   // int64 patch index in the image's token grid
  torch::Tensor word_N;    // int64 index into the word list
  int64_t drawn = 0;       // pairs before de-duplication
  int64_t size() const { return sample_N.defined() ? sample_N.numel() : 0; }
};

// labels[b]: the patch labels of sample b's image, none for samples without one.
// windows_WK: window_patch_ids(grid rows, grid cols, k).
SeaPairs sample_pairs(const std::vector<std::optional<PatchLabels>>& labels, const torch::Tensor& windows_WK,
                      uint64_t seed);

// A seed for one micro-batch from the run's seed and where the batch is in the run.
uint64_t pair_seed(uint64_t run_seed, int64_t step, int64_t micro, int64_t rank);

}  // namespace vista::sea
