#include "train/data_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
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
  if (options_.loader_threads > 0) loader_ = std::make_unique<data::ExampleLoader>(dataset_, options_.loader_threads);
}

size_t DataStream::advance(Cursor& at, const Cursor* known) const {
  if (at.cursor >= static_cast<int64_t>(at.order.size())) {
    ++at.epoch;
    at.cursor = 0;
    // The loader's requests reached this epoch first: its order is already made (length grouping
    // reads every record's length to make it).
    at.order = known != nullptr && known->epoch == at.epoch ? known->order : order_for(at.epoch);
  }
  return static_cast<size_t>(at.order[static_cast<size_t>(at.cursor++)]);
}

void DataStream::request_ahead(int64_t batches) {
  const int64_t first = static_cast<int64_t>(layout_.rank) * layout_.per_rank,
                slots = static_cast<int64_t>(layout_.world) * layout_.per_rank;
  for (; batches_ahead_ < batches; ++batches_ahead_)
    for (int64_t slot = 0; slot < slots; ++slot) {
      const size_t index = advance(ahead_);
      if (slot >= first && slot < first + layout_.per_rank) loader_->request(index);
    }
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
  using Clock = std::chrono::steady_clock;
  last_wait_s_ = 0;
  const Layout layout{rank, world, per_rank};
  if (loader_ && !(layout == layout_ && batches_ahead_ > 0)) {
    loader_->clear();
    layout_ = layout;
    ahead_ = {position_.epoch, position_.cursor, order_};
    batches_ahead_ = 0;
  }
  if (loader_) request_ahead(1);
  LocalMicroBatch out;
  const int64_t first = static_cast<int64_t>(rank) * per_rank, slots = static_cast<int64_t>(world) * per_rank;
  Cursor at{position_.epoch, position_.cursor, {}};
  at.order.swap(order_);
  for (int64_t slot = 0; slot < slots; ++slot) {
    const size_t index = advance(at, loader_ ? &ahead_ : nullptr);
    if (slot < first || slot >= first + per_rank) continue;
    const auto start = Clock::now();
    auto loaded = loader_ ? loader_->take() : data::load_example(dataset_, index);
    last_wait_s_ += std::chrono::duration<double>(Clock::now() - start).count();
    if (loaded.index != index)
      fail("data stream: the loader returned record {} where the order has record {} (epoch {}, slot {})", loaded.index,
           index, at.epoch, at.cursor - 1);
    std::string problem = loaded.problem;
    if (problem.empty()) {
      problem = sequence_problem(*loaded.example);
      if (problem.empty()) out.examples.push_back(std::move(*loaded.example));
    }
    if (problem.empty()) continue;
    ++out.bad;
    if (out.first_bad.empty()) out.first_bad = problem;
    fmt::print(stderr, "bad sample skipped: {}\n", problem);
  }
  position_.epoch = at.epoch;
  position_.cursor = at.cursor;
  order_.swap(at.order);
  if (loader_) {
    --batches_ahead_;
    request_ahead(options_.prefetch_batches);  // they load while this one trains
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
