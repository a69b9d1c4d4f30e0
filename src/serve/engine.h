#pragma once
// Continuous batching: every running request shares one decode loop. A request joins at a step
// boundary (its prompt is prefilled alone, then its KV cache is merged into the batch's, left
// padded), takes one token per step, and leaves when it ends; the others never wait for it.
// Each row's positions and attention mask are its own, so a request's greedy tokens are the ones
// it would get alone.
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "models/multimodal_lm.h"
#include "serve/sampling.h"

namespace vista::serve {

struct EngineRequest {
  std::vector<int64_t> prompt_ids;  // image placeholders (-200) where images go
  torch::Tensor pixels_KCHW;        // one image per placeholder; undefined when there is none
  int64_t max_tokens = 16;
  bool ignore_eos = false;  // the terminator does not end this request
  SamplingParams sampling;
};

// One request's tokens, handed from the engine's thread to the thread answering the request.
class Generation {
 public:
  enum class Next { kToken, kEnd, kTimeout };
  // Waits for the next token until `deadline`.
  Next next(int64_t* token, std::chrono::steady_clock::time_point deadline);
  // The reader stops early (a stop string, a client gone, a timeout): the engine drops the row.
  void cancel() { cancelled_ = true; }
  std::string finish_reason() const;  // "stop" (terminator), "length" or "cancelled"; valid after kEnd
  std::string error() const;          // set when the model failed on this request
  int64_t generated() const;          // answer tokens so far (the terminator not counted)

 private:
  friend class Engine;
  void push(int64_t token);
  void end(std::string reason, std::string error = "");
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<int64_t> tokens_;
  int64_t generated_ = 0;
  bool ended_ = false;
  std::string finish_reason_, error_;
  std::atomic<bool> cancelled_{false};
};

struct EngineOptions {
  int64_t max_batch = 8;   // sequences decoded together
  int64_t max_queue = 64;  // requests waiting to join; more is a 503
  int64_t eos_token_id = -1;
};

struct EngineStats {
  int64_t queued = 0, running = 0;
  int64_t steps = 0, tokens = 0;
};

class Engine {
 public:
  Engine(models::MultimodalLMImpl& model, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request; throws ApiError 503 when the queue is full or the engine is draining.
  std::shared_ptr<Generation> submit(EngineRequest request);
  // Refuses new requests and returns once every queued and running one has ended.
  void drain();
  EngineStats stats() const;

 private:
  struct Row;
  void loop();
  std::unique_ptr<Row> prefill(EngineRequest request, std::shared_ptr<Generation> generation);
  void join(std::unique_ptr<Row> row);
  void decode_step();
  void take(Row& row, int64_t token);
  void end(Generation& generation, const std::string& reason, const std::string& error = "");
  void drop_finished();

  models::MultimodalLMImpl& model_;
  EngineOptions options_;
  // The batch: one KV cache, mask and last token per running row, rows left padded to one length.
  std::vector<std::unique_ptr<Row>> rows_;
  models::KVCache cache_;
  torch::Tensor mask_BS_;

  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<std::pair<EngineRequest, std::shared_ptr<Generation>>> queue_;
  bool draining_ = false;
  std::atomic<bool> stopping_{false};
  int64_t in_flight_ = 0;  // submitted and not yet ended: what drain() waits for
  int64_t running_ = 0, steps_ = 0, tokens_ = 0;
  torch::Device device_ = torch::kCPU;
  int threads_ = 1;  // the intra-op threads of the thread that made the engine, for its own
  std::thread thread_;
};

}  // namespace vista::serve
