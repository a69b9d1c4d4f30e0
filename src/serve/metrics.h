#pragma once
// The server's counters in the Prometheus text format (GET /metrics): requests by endpoint and
// status, prompt and completion tokens, and latency histograms; queue depth and running sequences
// are read from the engine when the page is rendered.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace vista::serve {

class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  void observe(double seconds);
  // Lines of one histogram named `name` (no HELP/TYPE lines).
  std::string render(const std::string& name) const;

 private:
  std::array<int64_t, kBounds.size()> buckets_{};
  int64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  void count_request(const std::string& endpoint, int status);
  void count_tokens(int64_t prompt, int64_t completion);
  void observe_latency(double request_seconds, double first_token_seconds);
  std::string render(int64_t queued, int64_t running, int64_t decode_steps) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  Histogram request_seconds_, first_token_seconds_;
};

}  // namespace vista::serve
