#include "serve/metrics.h"

#include <fmt/format.h>

namespace vista::serve {

void Histogram::observe(double seconds) {
  for (size_t i = 0; i < kBounds.size(); ++i)
    if (seconds <= kBounds[i]) ++buckets_[i];
  ++count_;
  sum_ += seconds;
}

std::string Histogram::render(const std::string& name) const {
  std::string out;
  for (size_t i = 0; i < kBounds.size(); ++i)
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], buckets_[i]);
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, sum_, name, count_);
  return out;
}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
}

void Metrics::count_tokens(int64_t prompt, int64_t completion) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += prompt;
  completion_tokens_ += completion;
}

void Metrics::observe_latency(double request_seconds, double first_token_seconds) {
  std::lock_guard lock(mutex_);
  request_seconds_.observe(request_seconds);
  if (first_token_seconds >= 0) first_token_seconds_.observe(first_token_seconds);
}

std::string Metrics::render(int64_t queued, int64_t running, int64_t decode_steps) const {
  std::lock_guard lock(mutex_);
  std::string out =
      "# HELP vista_requests_total HTTP requests by endpoint and status.\n# TYPE vista_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("vista_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
  out += fmt::format(
      "# HELP vista_prompt_tokens_total Prompt tokens processed (image tokens included).\n"
      "# TYPE vista_prompt_tokens_total counter\nvista_prompt_tokens_total {}\n"
      "# HELP vista_completion_tokens_total Answer tokens generated.\n"
      "# TYPE vista_completion_tokens_total counter\nvista_completion_tokens_total {}\n"
      "# HELP vista_queue_depth Requests waiting to join the batch.\n# TYPE vista_queue_depth gauge\nvista_queue_depth "
      "{}\n"
      "# HELP vista_running_sequences Sequences in the decode batch.\n"
      "# TYPE vista_running_sequences gauge\nvista_running_sequences {}\n"
      "# HELP vista_decode_steps_total Batched decode steps run.\n"
      "# TYPE vista_decode_steps_total counter\nvista_decode_steps_total {}\n",
      prompt_tokens_, completion_tokens_, queued, running, decode_steps);
  out +=
      "# HELP vista_request_seconds Time from a chat request's arrival to its last byte.\n"
      "# TYPE vista_request_seconds histogram\n" +
      request_seconds_.render("vista_request_seconds");
  out +=
      "# HELP vista_time_to_first_token_seconds Time from a chat request's arrival to its first answer token.\n"
      "# TYPE vista_time_to_first_token_seconds histogram\n" +
      first_token_seconds_.render("vista_time_to_first_token_seconds");
  return out;
}

}  // namespace vista::serve
