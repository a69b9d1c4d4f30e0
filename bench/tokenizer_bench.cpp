// Encode throughput (tokens/s, one thread) of vista::text::Tokenizer on the 1 MB English text of
// the tokenizer fixtures, next to the Hugging Face Rust engine's numbers measured on the project's
// machine class (testdata/tokenizers/bench/results.json, engine tokenizers@0.23.2).
//
//   vista_bench_tokenizer [--input FILE] [--results FILE] [--runs N] [NAME=DIR ...]
//
// Default tokenizers: qwen3 (committed, testdata/tokenizers/qwen3) and llama2 (from
// the shared fixture set, ../shared/fixtures/tokenizers or $VISTA_SHARED_FIXTURES/tokenizers).
// Measured: load; one encode() of the whole text (first call with an empty word cache, then the
// median of N calls, as the reference's median); one encode() per line; decode of all ids.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/tokenizer.h"
#include "util/error.h"
#include "util/measure.h"

#ifndef VISTA_TESTDATA_DIR
#define VISTA_TESTDATA_DIR "testdata"
#endif

namespace {

using Clock = std::chrono::steady_clock;
using vista::median;
using vista::seconds_since;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) vista::fail("{}: cannot open file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Reference numbers for one tokenizer: means over the runs of the official engine.
struct Reference {
  int runs = 0;
  double single_tps = 0, per_line_tps = 0, batch1_tps = 0, decode_tps = 0;
  int64_t single_tokens = 0;
};

Reference reference_for(const nlohmann::json& results, const std::string& name) {
  Reference ref;
  int batch_runs = 0;
  if (!results.is_object() || !results.contains("runs")) return ref;
  for (const auto& run : results["runs"]) {
    if (run.value("engine", "") != "tokenizers@0.23.2" || run.value("tokenizer", "") != name) continue;
    ++ref.runs;
    ref.single_tps += run["single_call"]["tokens_per_s"].get<double>();
    ref.single_tokens = run["single_call"]["tokens"].get<int64_t>();
    ref.per_line_tps += run["per_line_calls"]["tokens_per_s"].get<double>();
    ref.decode_tps += run["decode"]["tokens_per_s"].get<double>();
    if (run["batch_lines"]["rayon_threads"].get<int>() == 1) {
      ref.batch1_tps += run["batch_lines"]["tokens_per_s"].get<double>();
      ++batch_runs;
    }
  }
  if (ref.runs) {
    ref.single_tps /= ref.runs;
    ref.per_line_tps /= ref.runs;
    ref.decode_tps /= ref.runs;
  }
  if (batch_runs) ref.batch1_tps /= batch_runs;
  return ref;
}

// The project's shared fixture set holds the tokenizers that are not committed (llama2 among them).
std::string shared_tokenizers_dir() {
  if (const char* env = std::getenv("VISTA_SHARED_FIXTURES"); env && *env) return std::string(env) + "/tokenizers";
  return std::string(VISTA_SHARED_FIXTURES_DIR) + "/tokenizers";
}

std::string ratio(double ours, double theirs) { return theirs > 0 ? fmt::format("{:.2f}x", ours / theirs) : "n/a"; }

void bench_one(const std::string& name, const std::string& dir, const std::string& text, const nlohmann::json& results, int runs) {
  auto t0 = Clock::now();
  const auto tokenizer = vista::text::Tokenizer::from_dir(dir);
  const double load_s = seconds_since(t0);

  t0 = Clock::now();
  const auto first = tokenizer.encode(text, false);
  const double cold_s = seconds_since(t0);
  const auto tokens = static_cast<double>(first.ids.size());
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    t0 = Clock::now();
    const auto encoding = tokenizer.encode(text, false);
    times.push_back(seconds_since(t0));
    if (encoding.ids != first.ids) vista::fail("{}: encode is not deterministic", name);
  }
  const double single_s = median(times);

  std::vector<std::string> lines;
  {
    std::stringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  t0 = Clock::now();
  size_t line_tokens = 0;
  for (const auto& line : lines) line_tokens += tokenizer.encode(line, false).ids.size();
  const double lines_s = seconds_since(t0);

  t0 = Clock::now();
  const std::string decoded = tokenizer.decode(first.ids, false);
  const double decode_s = seconds_since(t0);

  const Reference ref = reference_for(results, name);
  fmt::print("{}: {} ({} tokens for {} bytes), load {:.0f} ms\n", name, dir, first.ids.size(), text.size(), load_s * 1e3);
  if (!ref.runs) fmt::print("  (no reference numbers for '{}' in the results file: HF columns are 0)\n", name);
  if (ref.runs && ref.single_tokens != static_cast<int64_t>(first.ids.size()))
    fmt::print("  WARNING: the reference produced {} tokens for this input\n", ref.single_tokens);
  fmt::print("  encode whole text:  {:>9.0f} tok/s median of {} ({:.3f} s; first call {:.3f} s = {:.0f} tok/s)   HF {:>9.0f} tok/s   ratio {}\n",
             tokens / single_s, runs, single_s, cold_s, tokens / cold_s, ref.single_tps, ratio(tokens / single_s, ref.single_tps));
  fmt::print("  encode per line:    {:>9.0f} tok/s ({} calls, {:.3f} s)   HF per call {:>9.0f} tok/s ({}), HF batch 1 thread {:>9.0f} tok/s ({})\n",
             line_tokens / lines_s, lines.size(), lines_s, ref.per_line_tps, ratio(line_tokens / lines_s, ref.per_line_tps),
             ref.batch1_tps, ratio(line_tokens / lines_s, ref.batch1_tps));
  fmt::print("  decode all ids:     {:>9.0f} tok/s ({:.3f} s, round trip {})   HF {:>9.0f} tok/s   ratio {}\n",
             tokens / decode_s, decode_s, decoded == text ? "equal" : "differs", ref.decode_tps,
             ratio(tokens / decode_s, ref.decode_tps));
  fmt::print(
      "{{\"bench\": \"tokenizer\", \"tokenizer\": \"{}\", \"tokens\": {}, \"encode_tokens_per_s\": {:.0f}, "
      "\"encode_first_call_tokens_per_s\": {:.0f}, \"per_line_tokens_per_s\": {:.0f}, \"decode_tokens_per_s\": {:.0f}, "
      "\"hf_encode_tokens_per_s\": {:.0f}, \"ratio_vs_hf\": {:.3f}, \"load_ms\": {:.1f}, \"peak_rss_mb\": {:.1f}}}\n",
      name, first.ids.size(), tokens / single_s, tokens / cold_s, line_tokens / lines_s, tokens / decode_s,
      ref.single_tps, ref.single_tps > 0 ? tokens / single_s / ref.single_tps : 0.0, load_s * 1e3,
      vista::peak_rss_mb());
}

}  // namespace

int main(int argc, char** argv) {
  std::string input = std::string(VISTA_TESTDATA_DIR) + "/tokenizers/bench/english_1mb.txt";
  std::string results_path = std::string(VISTA_TESTDATA_DIR) + "/tokenizers/bench/results.json";
  int runs = 5;
  std::vector<std::pair<std::string, std::string>> tokenizers;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--input" && i + 1 < argc) {
      input = argv[++i];
    } else if (arg == "--results" && i + 1 < argc) {
      results_path = argv[++i];
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (arg.find('=') != std::string::npos) {
      tokenizers.emplace_back(arg.substr(0, arg.find('=')), arg.substr(arg.find('=') + 1));
    } else {
      fmt::print(stderr, "usage: {} [--input FILE] [--results FILE] [--runs N] [NAME=DIR ...]\n", argv[0]);
      return 2;
    }
  }
  if (tokenizers.empty()) {
    tokenizers.emplace_back("llama2", shared_tokenizers_dir() + "/llama2");
    tokenizers.emplace_back("qwen3", std::string(VISTA_TESTDATA_DIR) + "/tokenizers/qwen3");
  }
  try {
    const std::string text = read_file(input);
    nlohmann::json results;
    if (std::filesystem::exists(results_path)) results = nlohmann::json::parse(read_file(results_path));
    fmt::print("input {} ({} bytes), one thread; reference: HF tokenizers@0.23.2 (Rust) from {}\n", input, text.size(), results_path);
    for (const auto& [name, dir] : tokenizers) {
      if (!std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json")) {
        fmt::print("{}: skipped, {}/tokenizer.json not found (set VISTA_SHARED_FIXTURES to the shared fixture folder)\n", name, dir);
        continue;
      }
      bench_one(name, dir, text, results, runs);
    }
  } catch (const vista::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  return 0;
}
