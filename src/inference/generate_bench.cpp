#include "inference/generate_bench.h"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "data/dataset.h"
#include "data/prompt_tokenizer.h"
#include "image/tensor.h"
#include "io/safetensors.h"
#include "models/generation.h"
#include "models/model_saving.h"
#include "util/error.h"
#include "util/json_file.h"
#include "util/json_node.h"
#include "util/measure.h"
#include "util/peer_process.h"

namespace vista::inference {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace fs = std::filesystem;

struct Prepared {
  torch::Tensor ids_1L, pixels_1CHW;
};

std::vector<int64_t> generate(models::MultimodalLMImpl& model, const Prepared& p, int64_t tokens) {
  models::GenerationOptions options;
  options.max_new_tokens = tokens;
  options.eos_token_id = -1;  // exactly `tokens`, as the peer runs
  const auto result = models::generate_multimodal(model, p.ids_1L, torch::ones_like(p.ids_1L), p.pixels_1CHW, options);
  const auto ids = result.ids_BN[0].contiguous();
  return {ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel()};
}

}  // namespace

std::vector<Question> read_bench_questions(const std::string& path, const std::string& images, int64_t requests) {
  std::vector<Question> all;
  for (const auto& line : read_jsonl_file(path)) {
    const JsonNode question(line.value, line.where);
    all.push_back({fmt::format("{}", line.line), images + "/" + question.string("image"), question.string("text")});
  }
  if (all.empty()) fail("{}: no questions", path);
  std::vector<Question> out;
  for (int64_t i = 0; i < requests; ++i) out.push_back(all[static_cast<size_t>(i) % all.size()]);
  return out;
}

json bench_generate(const GenerationModel& m, const GenerateBenchOptions& o, std::ostream& log) {
  torch::NoGradGuard no_grad;
  const auto questions = read_bench_questions(o.questions, o.images, o.requests);
  std::vector<Prepared> prepared;
  for (const auto& q : questions) {
    const auto ids = data::tokenize_with_images(m.tokenizer, data::generation_prompt(m.settings.tmpl, q.text, true));
    prepared.push_back({torch::tensor(ids, torch::kInt64).unsqueeze(0),
                        image::to_tensor(data::load_image(q.image_path, m.processor, m.settings.aspect)).unsqueeze(0)});
  }
  generate(m.model, prepared.front(), 2);  // warm-up
  std::vector<double> latencies;
  std::vector<std::vector<int64_t>> outputs;
  int64_t tokens = 0;
  const auto start = Clock::now();
  for (size_t i = 0; i < prepared.size(); ++i) {
    const auto t0 = Clock::now();
    outputs.push_back(generate(m.model, prepared[i], o.max_tokens));
    latencies.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    tokens += static_cast<int64_t>(outputs.back().size());
    log << fmt::format("bench generate: vista request {}/{}: {:.3f} s\n", i + 1, prepared.size(), latencies.back());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  json vista = {{"requests", prepared.size()}, {"tokens", tokens},
                {"seconds", seconds},          {"tokens_per_s", static_cast<double>(tokens) / seconds},
                {"p50_s", median(latencies)},  {"threads", at::get_num_threads()},
                {"peak_rss_mb", peak_rss_mb()}};
  log << fmt::format("bench generate: vista {} requests x {} tokens: {:.1f} tokens/s\n", prepared.size(), o.max_tokens,
                     vista["tokens_per_s"].get<double>());
  json result = {{"bench", "generate"}, {"max_tokens", o.max_tokens}, {"vista", vista}};
  if (o.peer_dir.empty()) return result;

  // The peer gets this model in the llava-hf layout and these exact prompts and pixels.
  const fs::path scratch = o.scratch.empty()
                               ? fs::temp_directory_path() / fmt::format("vista_bench_generate_{}", ::getpid())
                               : fs::path(o.scratch);
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  struct Cleanup {
    fs::path path;
    ~Cleanup() { fs::remove_all(path); }
  } cleanup{scratch};
  models::save_multimodal(m.model, (scratch / "llava-hf").string(), {io::Layout::kLlavaHf});
  std::map<std::string, torch::Tensor> inputs;
  for (size_t i = 0; i < prepared.size(); ++i) {
    inputs[fmt::format("input_ids.{}", i)] = prepared[i].ids_1L[0].contiguous();
    inputs[fmt::format("pixel_values.{}", i)] = prepared[i].pixels_1CHW[0].contiguous();
  }
  io::save_safetensors((scratch / "inputs.safetensors").string(), inputs, {{"format", "pt"}});
  log << fmt::format("bench generate: the peer (transformers generate) on the same model and inputs, {} threads\n",
                     at::get_num_threads());
  auto peer = run_peer_script(
      o.peer_dir, "peer_generate.py",
      fmt::format("--model {} --inputs {} --max-tokens {} --threads {}", shell_quoted((scratch / "llava-hf").string()),
                  shell_quoted((scratch / "inputs.safetensors").string()), o.max_tokens, at::get_num_threads()));
  const auto peer_ids = peer.at("ids").get<std::vector<std::vector<int64_t>>>();
  int64_t same_requests = 0, same_prefix_tokens = 0;
  for (size_t i = 0; i < outputs.size() && i < peer_ids.size(); ++i) {
    same_requests += outputs[i] == peer_ids[i] ? 1 : 0;
    size_t k = 0;
    while (k < outputs[i].size() && k < peer_ids[i].size() && outputs[i][k] == peer_ids[i][k]) ++k;
    same_prefix_tokens += static_cast<int64_t>(k);
  }
  peer.erase("ids");
  result["peer"] = peer;
  result["speed_ratio"] = vista["tokens_per_s"].get<double>() / peer.at("tokens_per_s").get<double>();
  result["rss_ratio"] = vista["peak_rss_mb"].get<double>() / peer.at("peak_rss_mb").get<double>();
  // Greedy decoding of the same weights: the tokens should agree (float rounding can flip a near tie).
  result["same_tokens_requests"] = same_requests;
  result["same_tokens_share"] =
      static_cast<double>(same_prefix_tokens) / static_cast<double>(std::max<int64_t>(tokens, 1));
  log << fmt::format("bench generate: peer {:.1f} tokens/s; vista / peer = {:.2f}x; identical outputs {}/{}\n",
                     peer.at("tokens_per_s").get<double>(), result["speed_ratio"].get<double>(), same_requests,
                     outputs.size());
  return result;
}

}  // namespace vista::inference
