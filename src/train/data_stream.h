#pragma once
// The training data as a stream of global micro-batches that a checkpoint can stop and restart:
// it owns the order (a pure function of seed, epoch and global batch), the cursor into it, and
// the bad-sample policy. A global micro-batch is the next `world x per_rank` slots of the order;
// rank r loads slots [r x per_rank, (r+1) x per_rank) of it, so W ranks with batch b see exactly
// the samples one process with batch W x b sees. A bad sample leaves its slot empty (in every
// run the same slot, whatever the number of ranks) and is counted; the counts of all ranks decide
// the policy together, so every rank skips or stops at the same step.
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace vista::train {

struct StreamOptions {
  uint64_t seed = 0;
  bool group_by_modality_length = false;
  int64_t megabatch = 1;          // global batch x accumulation: LLaVA's length-grouping unit
  std::string bad_sample_policy = "skip";
  double max_bad_fraction = 0.01;
  // Checked before any forward: an image record's sequence after image expansion and truncation
  // at max_length must fit the LLM's positions (0 = unchecked).
  int64_t image_tokens = 0, max_length = 0, max_positions = 0;
};

struct StreamPosition {
  int64_t epoch = 0, cursor = 0;  // cursor: slots of this epoch's order consumed
  int64_t samples_seen = 0, bad_samples = 0;  // over all ranks
};

struct LocalMicroBatch {
  std::vector<data::Example> examples;  // this rank's good samples
  int64_t bad = 0;                       // this rank's bad ones
  std::string first_bad;                 // what was wrong with the first of them
};

class DataStream {
 public:
  DataStream(const data::LlavaDataset& dataset, StreamOptions options, StreamPosition position);

  // Loads this rank's share of the next global micro-batch and advances past all of it.
  LocalMicroBatch next(int rank, int world, int64_t per_rank);
  // Counts what all ranks loaded (sums over ranks) and applies the policy: throws TrainingStopped
  // on every rank alike. `local_bad` is this rank's description of its first bad sample, if any.
  void account(int64_t global_good, int64_t global_bad, int64_t step, const std::string& local_bad);

  const StreamPosition& position() const { return position_; }
  size_t size() const { return dataset_.size(); }

 private:
  std::vector<int64_t> order_for(int64_t epoch) const;
  std::string sequence_problem(const data::Example& example) const;

  const data::LlavaDataset& dataset_;
  StreamOptions options_;
  StreamPosition position_;
  std::vector<int64_t> order_;
};

}  // namespace vista::train
