#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "apps/vista/commands.h"
#include "apps/vista/model_bundle.h"
#include "inference/generate_bench.h"
#include "serve/serve_bench.h"
#include "dist/communicator.h"
#include "dist/launch_env.h"
#include "train/input_bench.h"
#include "train/parallel_bench.h"
#include "train/peer_bench.h"
#include "train/sea_bench.h"
#include "train/step_bench.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "benchmarks");
  bench->require_subcommand(1);
  auto* train = bench->add_subcommand("train", "time a training step (CE and CE+VISTA) of a standard configuration");
  auto config = std::make_shared<std::string>();
  auto recompute = std::make_shared<bool>(false);
  train->add_option("--config", *config, "benchmark JSON, e.g. ../shared/bench/llava-bench-small.json")->required();
  train->add_flag("--gradient-checkpointing", *recompute, "recompute decoder-layer activations in backward");
  struct Peer {
    bool enabled = false;
    bool profile = false;
    int rounds = 5;
    std::string dir = VISTA_SOURCE_DIR "/bench/peer";
  };
  auto peer = std::make_shared<Peer>();
  train->add_flag("--peer", peer->enabled,
                  "also run the same configuration on PyTorch + transformers (bench/peer) with the same threads, "
                  "alternating one step each side (--rounds), and print both, their ratios and this machine's GEMM "
                  "rate");
  train->add_option("--peer-dir", peer->dir, "the peer's folder")->capture_default_str();
  train->add_option("--rounds", peer->rounds, "with --peer: rounds of one step each side")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  train->add_flag("--profile", peer->profile,
                  "then one more step under libtorch's profiler: time by phase, operator kind and operator, GEMM FLOPs "
                  "and the share of this machine's GEMM rate reached (on with --peer)");
  auto lora_r = std::make_shared<int64_t>(0);
  train->add_option("--lora", *lora_r, "LoRA adapters of rank R on the LLM's projections instead of full finetuning")
      ->check(CLI::Range(1, 4096));
  struct Parallel {
    int nproc = 0, zero = -1;
    std::string result, scratch = "bench-dp";
  };
  auto parallel = std::make_shared<Parallel>();
  train->add_option("--nproc", parallel->nproc,
                    "data parallel: N local ranks for ZeRO 0/1/2 against one process with the same global batch and "
                    "the same total threads")
      ->check(CLI::Range(2, 64));
  train->add_option("--scratch", parallel->scratch, "folder for the ranks' results (with --nproc)");
  // A rank of the --nproc comparison (started by it).
  train->add_option("--zero", parallel->zero)->group("");
  train->add_option("--result", parallel->result)->group("");
  auto* sea = bench->add_subcommand("sea", "SEA's share of a stage-1 training step (CE vs CE+SEA, interleaved)");
  auto sea_config = std::make_shared<std::string>();
  auto sea_words = std::make_shared<int64_t>(4000);
  sea->add_option("--config", *sea_config, "benchmark JSON, e.g. ../shared/bench/llava-bench-small.json")->required();
  sea->add_option("--words", *sea_words, "size of the (random) word list")->capture_default_str();
  auto* input = bench->add_subcommand(
      "input", "the share of a training step spent waiting for data: real images, loaded in the step vs ahead of it");
  auto input_config = std::make_shared<std::string>();
  auto input_options = std::make_shared<train::InputBenchOptions>();
  input->add_option("--config", *input_config, "benchmark JSON, e.g. ../shared/bench/llava-bench-small.json")
      ->required();
  input->add_option("--image-px", input_options->image_px, "the vision tower's input size (336: LLaVA-1.5's)")
      ->check(CLI::Range(16, 4096));
  input->add_option("--source-px", input_options->source_px, "size of the images on disk (default: twice the input)")
      ->check(CLI::Range(16, 8192));
  input->add_option("--steps", input_options->steps, "timed steps per arm")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  input->add_option("--loader-threads", input_options->loader_threads, "the arms: loader threads of each")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  auto* generate = bench->add_subcommand(
      "generate",
      "greedy decoding tokens/s, one request at a time; with --peer, the same through transformers' generate");
  struct GenerateArgs {
    std::string model;
    inference::GenerateBenchOptions options;
    bool peer = false;
    std::string peer_dir = VISTA_SOURCE_DIR "/bench/peer";
  };
  auto generate_args = std::make_shared<GenerateArgs>();
  generate->add_option("--model", generate_args->model, "model folder (e.g. the demo's ce_vista/stage2/final)")
      ->required();
  generate->add_option("--questions", generate_args->options.questions, "JSONL of image + text (the shapes eval.jsonl)")
      ->required();
  generate->add_option("--images", generate_args->options.images, "image folder")->required();
  generate->add_option("--requests", generate_args->options.requests)
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  generate
      ->add_option("--max-tokens", generate_args->options.max_tokens, "new tokens per request (exactly: no EOS stop)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  generate->add_flag("--peer", generate_args->peer,
                     "then the same model (exported as llava-hf), prompts and pixels through transformers' generate "
                     "(bench/peer) with the same threads");
  generate->add_option("--peer-dir", generate_args->peer_dir, "the peer's folder")->capture_default_str();
  generate->add_option("--scratch", generate_args->options.scratch,
                       "folder for the peer's model and inputs (default: a temporary one; removed after)");
  auto* serve = bench->add_subcommand(
      "serve", "continuous batching: tokens/s and p50/p99 latency at concurrency 1, 4, 16 against sequential generate");
  struct ServeArgs {
    std::string model;
    serve::ServeBenchOptions options;
  };
  auto serve_args = std::make_shared<ServeArgs>();
  serve->add_option("--model", serve_args->model, "model folder (e.g. the demo's ce_vista/stage2/final)")->required();
  serve->add_option("--questions", serve_args->options.questions, "JSONL of image + text (the shapes eval.jsonl)")
      ->required();
  serve->add_option("--images", serve_args->options.images, "image folder")->required();
  serve->add_option("--requests", serve_args->options.requests)->capture_default_str()->check(CLI::Range(1, 100000));
  serve
      ->add_option("--max-tokens", serve_args->options.max_tokens,
                   "tokens per answer (exactly: the terminator is ignored)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  serve->add_option("--concurrency", serve_args->options.concurrency, "clients at once, one run each")
      ->delimiter(',')
      ->capture_default_str();
  serve->add_option("--max-batch", serve_args->options.max_batch, "the server's decode batch")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  return [config, recompute, parallel, lora_r, sea, sea_config, sea_words, serve, serve_args, peer, input, input_config,
          input_options, generate, generate_args](const GlobalOptions& global) {
    if (generate->parsed()) {
      if (global.device != "cpu" && generate_args->peer) fail("bench generate --peer compares CPU runs; drop --device");
      auto served = load_served_model(generate_args->model, {}, global.device, "");
      auto options = generate_args->options;
      if (generate_args->peer) options.peer_dir = generate_args->peer_dir;
      const inference::GenerationModel model{*served->model, served->tokenizer, served->processor, served->settings};
      fmt::print("{}\n", inference::bench_generate(model, options, std::cerr).dump());
      return 0;
    }
    if (input->parsed()) {
      if (global.device != "cpu") fail("bench input measures the CPU input pipeline; drop --device");
      auto options = *input_options;
      options.threads = global.threads;
      fmt::print("{}\n", train::bench_input_pipeline(*input_config, options, std::cerr).to_json().dump());
      return 0;
    }
    if (serve->parsed()) {
      auto model = load_served_model(serve_args->model, {}, global.device, "");
      fmt::print("{}\n", serve::bench_serve(model, serve_args->options, std::cerr).dump());
      return 0;
    }
    if (sea->parsed()) {
      fmt::print("{}\n",
                 train::bench_sea_step(*sea_config, global.threads, std::cerr, global.device, *sea_words).to_json());
      return 0;
    }
    if (parallel->zero >= 0) {
      const auto env = dist::read_launch_env();
      const auto comm = dist::Communicator::connect(env, "gloo", std::chrono::minutes(5));
      const auto r = train::bench_parallel_step(*config, comm.get(), parallel->zero, global.threads);
      std::ofstream(fmt::format("{}.rank{}", parallel->result, env.rank)) << r.to_json() << "\n";
      return 0;
    }
    if (parallel->nproc > 0) {
      if (global.device != "cpu")
        fail("bench train --nproc compares CPU ranks over Gloo; --device {} is not supported", global.device);
      const int threads = global.threads > 0 ? global.threads : static_cast<int>(std::thread::hardware_concurrency());
      fmt::print("{}\n", train::bench_data_parallel(*config, parallel->nproc, threads, parallel->scratch));
      return 0;
    }
    if (peer->enabled && (global.device != "cpu" || *lora_r > 0 || *recompute))
      fail("--peer compares the default CPU configuration; drop --device, --lora and --gradient-checkpointing");
    std::unique_ptr<train::PairedPeer> paired;
    if (peer->enabled) paired = std::make_unique<train::PairedPeer>(peer->dir, *config, peer->rounds);
    rusage before{}, after{};
    getrusage(RUSAGE_SELF, &before);
    const auto result = train::bench_train_step(*config, global.threads, std::cerr, *recompute, *lora_r, global.device,
                                                peer->profile || peer->enabled, paired.get());
    getrusage(RUSAGE_SELF, &after);
    fmt::print("{}\n", train::step_bench_json(result));
    if (paired) {
      const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
      const double user = seconds(after.ru_utime) - seconds(before.ru_utime);
      const double sys = seconds(after.ru_stime) - seconds(before.ru_stime);
      fmt::print("{}\n", train::peer_comparison(result, user, sys, paired->finish()).dump());
    }
    return 0;
  };
}

}  // namespace vista::app
