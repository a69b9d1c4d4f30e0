#include "train/data_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "data/sampler.h"
#include "train/training_stopped.h"
#include "util/error.h"

namespace vista::train {

DataStream::DataStream(const data::LlavaDataset& dataset, StreamOptions options, StreamPosition position)
    : dataset_(dataset), options_(std::move(options)), position_(position) {
  if (dataset_.size() == 0) fail("{}: no records", dataset_.options().data_path);
  order_ = order_for(position_.epoch);
}

std::vector<int64_t> DataStream::order_for(int64_t epoch) const {
  std::vector<int64_t> order;
  const uint64_t seed = options_.seed + static_cast<uint64_t>(epoch);
  if (options_.group_by_modality_length) {
    std::vector<int64_t> lengths;
    for (size_t i = 0; i < dataset_.size(); ++i) lengths.push_back(dataset_.modality_length(i));
    return data::modality_length_grouped_order(lengths, options_.megabatch, 1, seed);
  }
  order.resize(dataset_.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

std::string DataStream::sequence_problem(const data::Example& example) const {
  if (options_.max_positions <= 0 || !example.pixels) return "";
  int64_t length = static_cast<int64_t>(example.tokens.input_ids.size()) + options_.image_tokens - 1;
  if (options_.max_length > 0) length = std::min(length, options_.max_length);
  if (length <= options_.max_positions) return "";
  return fmt::format("{}: record {} (id {}) is {} tokens long after image expansion, more than the LLM's "
                     "max_position_embeddings {}", dataset_.options().data_path, example.index, example.id, length,
                     options_.max_positions);
}

LocalMicroBatch DataStream::next(int rank, int world, int64_t per_rank) {
  LocalMicroBatch out;
  const int64_t first = static_cast<int64_t>(rank) * per_rank, slots = static_cast<int64_t>(world) * per_rank;
  for (int64_t slot = 0; slot < slots; ++slot) {
    if (position_.cursor >= static_cast<int64_t>(order_.size())) {
      ++position_.epoch;
      position_.cursor = 0;
      order_ = order_for(position_.epoch);
    }
    const auto index = static_cast<size_t>(order_[static_cast<size_t>(position_.cursor++)]);
    if (slot < first || slot >= first + per_rank) continue;
    std::string problem;
    try {
      auto example = dataset_.get(index);
      problem = sequence_problem(example);
      if (problem.empty()) out.examples.push_back(std::move(example));
    } catch (const Error& e) {
      problem = e.what();
    }
    if (problem.empty()) continue;
    ++out.bad;
    if (out.first_bad.empty()) out.first_bad = problem;
    fmt::print(stderr, "bad sample skipped: {}\n", problem);
  }
  return out;
}

void DataStream::account(int64_t global_good, int64_t global_bad, int64_t step, const std::string& local_bad) {
  position_.samples_seen += global_good;
  position_.bad_samples += global_bad;
  if (global_bad == 0) return;
  const std::string what = local_bad.empty() ? "a bad sample on another rank" : local_bad;
  if (options_.bad_sample_policy == "stop")
    throw TrainingStopped(fmt::format("bad sample at step {} (data.bad_sample_policy = stop): {}", step, what));
  const double seen = static_cast<double>(position_.samples_seen + position_.bad_samples);
  if (seen >= 20 && static_cast<double>(position_.bad_samples) > options_.max_bad_fraction * seen)
    throw TrainingStopped(fmt::format("{} of {} samples were bad (more than data.max_bad_fraction = {}); the latest: {}",
                                      position_.bad_samples, static_cast<int64_t>(seen), options_.max_bad_fraction, what));
}

}  // namespace vista::train
