#include "serve/serve_bench.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "data/dataset.h"
#include "data/prompt_tokenizer.h"
#include "image/tensor.h"
#include "inference/generate_bench.h"
#include "models/generation.h"
#include "serve/base64.h"
#include "util/error.h"

namespace vista::serve {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

using inference::Question;

double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1;
  return values[std::min(index, values.size() - 1)];
}

json summary(double seconds, int64_t tokens, const std::vector<double>& latencies) {
  return {{"seconds", seconds},
          {"tokens", tokens},
          {"tokens_per_s", static_cast<double>(tokens) / seconds},
          {"p50_s", percentile(latencies, 0.5)},
          {"p99_s", percentile(latencies, 0.99)}};
}

// One request after another through the decoder `vista generate` uses.
json sequential(ServedModel& m, const std::vector<Question>& questions, int64_t max_tokens, std::ostream& log) {
  auto& model = *m.model;
  std::vector<double> latencies;
  int64_t tokens = 0;
  const auto start = Clock::now();
  for (const auto& q : questions) {
    const auto t0 = Clock::now();
    const auto ids = data::tokenize_with_images(m.tokenizer, data::generation_prompt(m.settings.tmpl, q.text, true));
    const auto ids_1L = torch::tensor(ids, torch::kInt64).unsqueeze(0);
    const auto pixels = image::to_tensor(data::load_image(q.image_path, m.processor, m.settings.aspect)).unsqueeze(0);
    models::GenerationOptions options;
    options.max_new_tokens = max_tokens;
    options.eos_token_id = -1;  // as ignore_eos
    const auto result = models::generate_multimodal(model, ids_1L, torch::ones_like(ids_1L), pixels, options);
    tokens += result.ids_BN.size(1);
    latencies.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  log << fmt::format("bench serve: sequential: {} requests in {:.2f} s\n", questions.size(), seconds);
  return summary(seconds, tokens, latencies);
}

json request_body(const ServedModel& m, const Question& q, int64_t max_tokens) {
  std::ifstream in(q.image_path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {{"model", m.id},
          {"messages",
           {{{"role", "user"},
             {"content",
              {{{"type", "text"}, {"text", q.text}},
               {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + encode_base64(bytes)}}}}}}}}},
          {"temperature", 0},
          {"max_tokens", max_tokens},
          {"ignore_eos", true}};
}

json concurrent(int port, const ServedModel& m, const std::vector<Question>& questions, int64_t max_tokens,
                int64_t clients, std::ostream& log) {
  std::vector<std::string> bodies;
  for (const auto& q : questions) bodies.push_back(request_body(m, q, max_tokens).dump());
  std::atomic<size_t> next{0};
  std::atomic<int64_t> tokens{0};
  std::vector<double> latencies(questions.size());
  std::string error;
  std::mutex error_mutex;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int64_t c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(600);
      for (size_t i; (i = next++) < bodies.size();) {
        const auto t0 = Clock::now();
        const auto res = client.Post("/v1/chat/completions", bodies[i], "application/json");
        latencies[i] = std::chrono::duration<double>(Clock::now() - t0).count();
        if (!res || res->status != 200) {
          std::lock_guard lock(error_mutex);
          error = res ? fmt::format("HTTP {}: {}", res->status, res->body) : "no response";
          return;
        }
        tokens += json::parse(res->body)["usage"]["completion_tokens"].get<int64_t>();
      }
    });
  for (auto& t : threads) t.join();
  if (!error.empty()) fail("bench serve: a request failed: {}", error);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  log << fmt::format("bench serve: concurrency {}: {} requests in {:.2f} s\n", clients, questions.size(), seconds);
  auto out = summary(seconds, tokens, latencies);
  out["concurrency"] = clients;
  return out;
}

}  // namespace

json bench_serve(std::shared_ptr<ServedModel> model, const ServeBenchOptions& options, std::ostream& log) {
  torch::NoGradGuard no_grad;
  model->model->eval();
  const auto questions = inference::read_bench_questions(options.questions, options.images, options.requests);
  // Warm-up: the first forward allocates; neither side should pay for it.
  sequential(*model, {questions.front()}, 2, log);
  const auto baseline = sequential(*model, questions, options.max_tokens, log);

  ServerOptions server_options;
  server_options.port = 0;
  server_options.max_batch = options.max_batch;
  server_options.max_queue = std::max<int64_t>(64, options.requests);
  ChatServer server(server_options);
  const int port = server.bind();
  std::thread http([&server] { server.listen(); });
  server.set_model(model);
  json runs = json::array();
  try {
    for (const auto c : options.concurrency)
      runs.push_back(concurrent(port, *model, questions, options.max_tokens, c, log));
  } catch (...) {
    server.stop();
    http.join();
    throw;
  }
  server.stop();
  http.join();
  json out = {{"bench", "serve"},
              {"model", model->id},
              {"requests", options.requests},
              {"max_tokens", options.max_tokens},
              {"max_batch", options.max_batch},
              {"sequential", baseline},
              {"serve", runs}};
  for (const auto& run : runs)
    out[fmt::format("throughput_ratio_at_{}", run["concurrency"].get<int64_t>())] =
        run["tokens_per_s"].get<double>() / baseline["tokens_per_s"].get<double>();
  return out;
}

}  // namespace vista::serve
