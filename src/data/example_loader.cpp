#include "data/example_loader.h"

#include "util/error.h"

namespace vista::data {

LoadedExample load_example(const LlavaDataset& dataset, size_t index) {
  LoadedExample loaded;
  loaded.index = index;
  try {
    loaded.example = dataset.get(index);
  } catch (const Error& e) {
    loaded.problem = e.what();
  }
  return loaded;
}

ExampleLoader::ExampleLoader(const LlavaDataset& dataset, int threads) : dataset_(dataset) {
  if (threads < 1) fail("ExampleLoader: {} threads, expected at least 1", threads);
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

ExampleLoader::~ExampleLoader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ExampleLoader::request(size_t index) {
  Job job{index, {}};
  results_.push_back(job.result.get_future());
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

LoadedExample ExampleLoader::take() {
  if (results_.empty()) fail("ExampleLoader::take: nothing was requested");
  auto result = std::move(results_.front());
  results_.pop_front();
  return result.get();
}

void ExampleLoader::clear() {
  {
    std::lock_guard lock(mutex_);
    jobs_.clear();
  }
  results_.clear();
}

void ExampleLoader::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job.result.set_value(load_example(dataset_, job.index));
    } catch (...) {
      job.result.set_exception(std::current_exception());
    }
  }
}

}  // namespace vista::data
