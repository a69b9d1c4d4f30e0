#pragma once
// The training data as a stream of global micro-batches that a checkpoint can stop and restart:
// it owns the order (a pure function of seed, epoch and global batch), the cursor into it, and
// the bad-sample policy. A global micro-batch is the next `world x per_rank` slots of the order;
// rank r loads slots [r x per_rank, (r+1) x per_rank) of it, so W ranks with batch b see exactly
// the samples one process with batch W x b sees. A bad sample leaves its slot empty (in every
// run the same slot, whatever the number of ranks) and is counted; the counts of all ranks decide
// the policy together, so every rank skips or stops at the same step.
//
// With loader threads, the stream requests this rank's samples of the next micro-batches while
// the current step runs (data::ExampleLoader); the order, the examples and the counts are the same
// as without. A checkpoint stores the cursor of what was taken; loads ahead of it are dropped.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/example_loader.h"

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
  int loader_threads = 0;        // 0: each sample is loaded when the step takes it
  int64_t prefetch_batches = 2;  // with loader threads: micro-batches loading while a step runs
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
  // Seconds the last next() waited for its samples (all of their loading without loader threads).
  double last_wait_seconds() const { return last_wait_s_; }

 private:
  // A place in the sequence of epoch orders.
  struct Cursor {
    int64_t epoch = 0, cursor = 0;
    std::vector<int64_t> order;
  };
  struct Layout {
    int rank = 0, world = 0;
    int64_t per_rank = 0;
    bool operator==(const Layout& o) const { return rank == o.rank && world == o.world && per_rank == o.per_rank; }
  };
  std::vector<int64_t> order_for(int64_t epoch) const;
  // The record index of the slot at `at`, advancing it (into the next epoch's order at the end,
  // taken from `known` when that cursor is already in that epoch).
  size_t advance(Cursor& at, const Cursor* known = nullptr) const;
  // Requests this rank's samples of global micro-batches until `batches` are requested and not taken.
  void request_ahead(int64_t batches);
  std::string sequence_problem(const data::Example& example) const;

  const data::LlavaDataset& dataset_;
  StreamOptions options_;
  StreamPosition position_;
  std::vector<int64_t> order_;
  std::unique_ptr<data::ExampleLoader> loader_;
  Layout layout_;
  Cursor ahead_;               // where the loader's requests end
  int64_t batches_ahead_ = 0;  // global micro-batches requested and not taken
  double last_wait_s_ = 0;
};

}  // namespace vista::train
