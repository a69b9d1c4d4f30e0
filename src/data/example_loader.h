#pragma once
// Loads examples (image decoding, preprocessing, prompt tokenization) on worker threads ahead of
// the training step. Loads are requested in the order they will be taken and taken in that order,
// so what the step sees is the same, example for example, as loading them in the step.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/dataset.h"

namespace vista::data {

struct LoadedExample {
  size_t index = 0;
  std::optional<Example> example;
  std::string problem;  // why the record could not be made into an example (a vista::Error's message)
};

// Loads one record, turning a vista::Error into `problem`; any other exception propagates.
LoadedExample load_example(const LlavaDataset& dataset, size_t index);

class ExampleLoader {
 public:
  // `threads` >= 1 workers; `dataset` must outlive the loader.
  ExampleLoader(const LlavaDataset& dataset, int threads);
  ~ExampleLoader();
  ExampleLoader(const ExampleLoader&) = delete;
  ExampleLoader& operator=(const ExampleLoader&) = delete;

  void request(size_t index);
  // The oldest request's result, waiting for it if needed; rethrows what its load threw.
  LoadedExample take();
  // Forgets every request not taken yet (loads already running finish and are dropped).
  void clear();
  size_t requested() const { return results_.size(); }

 private:
  struct Job {
    size_t index = 0;
    std::promise<LoadedExample> result;
  };
  void work();

  const LlavaDataset& dataset_;
  std::deque<std::future<LoadedExample>> results_;  // the caller's side, in request order
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vista::data
