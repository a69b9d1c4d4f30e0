#include "serve/engine.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "models/generation.h"
#include "serve/api_error.h"

namespace vista::serve {

// ---- Generation ----

Generation::Next Generation::next(int64_t* token, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_until(lock, deadline, [&] { return !tokens_.empty() || ended_; })) return Next::kTimeout;
  if (tokens_.empty()) return Next::kEnd;
  *token = tokens_.front();
  tokens_.pop_front();
  return Next::kToken;
}

std::string Generation::finish_reason() const {
  std::lock_guard lock(mutex_);
  return finish_reason_;
}

std::string Generation::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

int64_t Generation::generated() const {
  std::lock_guard lock(mutex_);
  return generated_;
}

void Generation::push(int64_t token) {
  {
    std::lock_guard lock(mutex_);
    tokens_.push_back(token);
    ++generated_;
  }
  ready_.notify_all();
}

void Generation::end(std::string reason, std::string error) {
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    ended_ = true;
    finish_reason_ = std::move(reason);
    error_ = std::move(error);
  }
  ready_.notify_all();
}

// ---- Engine ----

struct Engine::Row {
  std::shared_ptr<Generation> generation;
  TokenSampler sampler;
  int64_t max_tokens = 0, taken = 0, last_token = 0;
  bool ignore_eos = false, done = false;
  models::KVCache cache;  // the prompt's, until the row joins the batch
  torch::Tensor mask_1S;
};

namespace {

torch::Tensor pad_left(const torch::Tensor& x, int64_t dim, int64_t amount) {
  if (amount == 0) return x;
  auto sizes = x.sizes().vec();
  sizes[static_cast<size_t>(dim)] = amount;
  return torch::cat({torch::zeros(sizes, x.options()), x}, dim);
}

}  // namespace

Engine::Engine(models::MultimodalLMImpl& model, EngineOptions options) : model_(model), options_(options) {
  device_ = model_.parameters()[0].device();
  threads_ = at::get_num_threads();
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<Generation> Engine::submit(EngineRequest request) {
  auto generation = std::make_shared<Generation>();
  {
    std::lock_guard lock(mutex_);
    if (draining_) throw ApiError(503, "server_shutting_down", "the server is shutting down; no new requests");
    if (static_cast<int64_t>(queue_.size()) >= options_.max_queue)
      throw ApiError(503, "server_overloaded",
                     fmt::format("the queue is full ({} requests waiting); retry later", queue_.size()));
    queue_.emplace_back(std::move(request), generation);
    ++in_flight_;
  }
  wake_.notify_all();
  return generation;
}

void Engine::drain() {
  std::unique_lock lock(mutex_);
  draining_ = true;
  idle_.wait(lock, [&] { return in_flight_ == 0; });
}

EngineStats Engine::stats() const {
  std::lock_guard lock(mutex_);
  return {static_cast<int64_t>(queue_.size()), running_, steps_, tokens_};
}

void Engine::end(Generation& generation, const std::string& reason, const std::string& error) {
  generation.end(reason, error);
  std::lock_guard lock(mutex_);
  if (--in_flight_ == 0) idle_.notify_all();
}

void Engine::loop() {
  // OpenMP's thread count is per calling thread: a new thread would start from the default.
  at::set_num_threads(threads_);
  torch::NoGradGuard no_grad;
  while (true) {
    std::vector<std::pair<EngineRequest, std::shared_ptr<Generation>>> joining;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !rows_.empty() || !queue_.empty(); });
      if (stopping_) {
        lock.unlock();
        for (auto& row : rows_) end(*row->generation, "cancelled", "the server stopped");
        rows_.clear();
        lock.lock();
        auto queued = std::move(queue_);
        lock.unlock();
        for (auto& item : queued) end(*item.second, "cancelled", "the server stopped");
        return;
      }
      while (!queue_.empty() && static_cast<int64_t>(rows_.size() + joining.size()) < options_.max_batch) {
        joining.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (auto& [request, generation] : joining) {
      if (generation->cancelled_) {
        end(*generation, "cancelled");
        continue;
      }
      try {
        if (auto row = prefill(std::move(request), generation)) join(std::move(row));
      } catch (const std::exception& e) {
        end(*generation, "error", e.what());
      }
    }
    if (!rows_.empty()) {
      try {
        decode_step();
      } catch (const std::exception& e) {
        for (auto& row : rows_) {
          row->done = true;
          end(*row->generation, "error", e.what());
        }
      }
    }
    drop_finished();
    std::lock_guard lock(mutex_);
    running_ = static_cast<int64_t>(rows_.size());
  }
}

std::unique_ptr<Engine::Row> Engine::prefill(EngineRequest request, std::shared_ptr<Generation> generation) {
  auto row = std::make_unique<Row>(
      Row{generation, TokenSampler(request.sampling), request.max_tokens, 0, 0, request.ignore_eos, false, {}, {}});
  const auto ids_1L = torch::tensor(request.prompt_ids, torch::kInt64).unsqueeze(0).to(device_);
  torch::Tensor features_KND;
  if (request.pixels_KCHW.defined()) features_KND = model_.encode_images(request.pixels_KCHW.to(device_));
  const auto batch = model_.prepare_inputs(ids_1L, torch::ones_like(ids_1L), torch::Tensor(), features_KND);
  // As greedy_generate prefills a prompt of its own (models/generation.cpp).
  row->mask_1S = batch.attention_mask_BT.to(torch::kInt64);
  auto& lm = *model_.language_model;
  const auto positions = models::position_ids_from_mask(row->mask_1S);
  const auto logits_1V = models::last_position_logits(
      lm, lm.hidden(batch.inputs_embeds_BTD, row->mask_1S, positions, nullptr, &row->cache));
  const auto cpu = logits_1V.to(torch::kCPU, torch::kFloat32).contiguous();
  take(*row, row->sampler.next(cpu.data_ptr<float>(), cpu.size(1)));
  if (row->done) return nullptr;
  return row;
}

void Engine::join(std::unique_ptr<Row> row) {
  if (rows_.empty()) {
    cache_ = std::move(row->cache);
    mask_BS_ = row->mask_1S;
  } else {
    const int64_t batch_length = mask_BS_.size(1), row_length = row->mask_1S.size(1);
    const int64_t length = std::max(batch_length, row_length);
    for (size_t i = 0; i < cache_.layers.size(); ++i) {
      auto& mine = cache_.layers[i];
      const auto& theirs = row->cache.layers.at(i);
      mine.key_BHSD = torch::cat(
          {pad_left(mine.key_BHSD, 2, length - batch_length), pad_left(theirs.key_BHSD, 2, length - row_length)});
      mine.value_BHSD = torch::cat(
          {pad_left(mine.value_BHSD, 2, length - batch_length), pad_left(theirs.value_BHSD, 2, length - row_length)});
    }
    mask_BS_ =
        torch::cat({pad_left(mask_BS_, 1, length - batch_length), pad_left(row->mask_1S, 1, length - row_length)});
  }
  row->cache = models::KVCache();
  row->mask_1S = torch::Tensor();
  rows_.push_back(std::move(row));
}

void Engine::decode_step() {
  const auto B = static_cast<int64_t>(rows_.size());
  std::vector<int64_t> last(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) last[static_cast<size_t>(b)] = rows_[static_cast<size_t>(b)]->last_token;
  const auto tokens_B1 = torch::tensor(last, torch::kInt64).unsqueeze(1).to(device_);
  mask_BS_ = torch::cat({mask_BS_, torch::ones({B, 1}, mask_BS_.options())}, 1);
  const auto position_B1 = mask_BS_.sum(1, true) - 1;
  auto& lm = *model_.language_model;
  const auto logits_BV =
      models::last_position_logits(lm, lm.hidden(lm.embed(tokens_B1), mask_BS_, position_B1, nullptr, &cache_));
  const auto cpu = logits_BV.to(torch::kCPU, torch::kFloat32).contiguous();
  for (int64_t b = 0; b < B; ++b) {
    auto& row = *rows_[static_cast<size_t>(b)];
    if (row.done || row.generation->cancelled_) continue;
    take(row, row.sampler.next(cpu[b].data_ptr<float>(), cpu.size(1)));
  }
  std::lock_guard lock(mutex_);
  ++steps_;
}

void Engine::take(Row& row, int64_t token) {
  ++row.taken;
  row.last_token = token;
  {
    std::lock_guard lock(mutex_);
    ++tokens_;
  }
  if (token == options_.eos_token_id && !row.ignore_eos) {
    row.done = true;
    end(*row.generation, "stop");
    return;
  }
  row.generation->push(token);
  if (row.taken >= row.max_tokens) {
    row.done = true;
    end(*row.generation, "length");
  }
}

void Engine::drop_finished() {
  std::vector<int64_t> keep;
  for (size_t b = 0; b < rows_.size(); ++b) {
    auto& row = *rows_[b];
    if (!row.done && row.generation->cancelled_) {
      row.done = true;
      end(*row.generation, "cancelled");
    }
    if (!row.done) keep.push_back(static_cast<int64_t>(b));
  }
  if (keep.size() == rows_.size()) return;
  std::vector<std::unique_ptr<Row>> kept;
  for (const auto b : keep) kept.push_back(std::move(rows_[static_cast<size_t>(b)]));
  rows_ = std::move(kept);
  if (rows_.empty()) {
    cache_ = models::KVCache();
    mask_BS_ = torch::Tensor();
    return;
  }
  const auto index = torch::tensor(keep, torch::kInt64).to(device_);
  mask_BS_ = mask_BS_.index_select(0, index);
  // Columns that are padding on every remaining row go.
  const int64_t lead = (mask_BS_.size(1) - mask_BS_.sum(1)).min().item<int64_t>();
  const int64_t length = mask_BS_.size(1) - lead;
  mask_BS_ = mask_BS_.narrow(1, lead, length);
  for (auto& layer : cache_.layers) {
    layer.key_BHSD = layer.key_BHSD.index_select(0, index).narrow(2, lead, length);
    layer.value_BHSD = layer.value_BHSD.index_select(0, index).narrow(2, lead, length);
  }
}

}  // namespace vista::serve
