// One full training step (forward + backward + AdamW) of a standard configuration such as
// ../shared/bench/llava-bench-small.json, with CE only and with CE+VISTA, interleaved in the
// same run so the ratio is not skewed by machine drift. Also times the VISTA term alone and
// splits a step into forward / backward / optimizer.
#include "train/step_bench.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "io/hf_config.h"
#include "util/json_file.h"
#include "util/json_node.h"
#include "models/lora.h"
#include "objectives/llava_objective.h"
#include "train/fused_adamw.h"
#include "train/op_profile.h"
#include "train/optimizer_setup.h"
#include "train/peer_bench.h"
#include "util/allocator.h"
#include "util/error.h"
#include "util/measure.h"
#include "runtime/threads.h"

namespace vista::train {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Bench build_bench(const vista::JsonNode& cfg) {
  using namespace vista;
  io::LlavaConfig config;
  config.text = io::parse_decoder_config(cfg.object("llm"));
  config.mm.mm_hidden_size = cfg.object("vision").integer("hidden_size");
  config.mm.mm_projector_type = cfg.string("projector");
  config.mm.mm_vision_select_layer = cfg.integer("select_layer");
  config.mm.mm_vision_select_feature = cfg.string("select_feature");
  const auto vision = io::parse_vision_config(cfg.object("vision"));
  Bench bench;
  torch::manual_seed(0);
  bench.model = models::MultimodalLM(config, vision);
  for (auto& p : bench.model->named_parameters()) {
    if (p.key().rfind("vision_tower.", 0) == 0) p.value().set_requires_grad(false);
    else {
      bench.trainable.push_back(p.value());
      bench.names.push_back(p.key());
    }
  }
  const auto batch = cfg.object("batch");
  const int64_t B = batch.integer("samples"), before = batch.integer("text_tokens_before_image"),
                after = batch.integer("text_tokens_after_image"), answer = batch.integer("answer_tokens");
  const int64_t L = before + 1 + after + answer;
  auto ids = torch::randint(3, config.text.vocab_size, {B, L}, torch::kInt64);
  ids.select(1, before).fill_(models::kImageTokenIndex);
  auto labels = torch::full({B, L}, models::kIgnoreIndex, torch::kInt64);
  labels.narrow(1, L - answer, answer).copy_(ids.narrow(1, L - answer, answer));
  bench.batch = {ids, torch::ones({B, L}, torch::kInt64), labels,
                 torch::randn({B, vision.num_channels, vision.image_size, vision.image_size})};
  const auto opt = cfg.object("optimizer");
  const auto betas = opt.raw().at("betas");
  bench.optimizer =
      std::make_unique<FusedAdamW>(bench.trainable, torch::optim::AdamWOptions(opt.number("lr"))
                                                        .betas({betas[0].get<double>(), betas[1].get<double>()})
                                                        .eps(opt.number("eps"))
                                                        .weight_decay(opt.number("weight_decay")));
  bench.clip_norm = opt.number("clip_grad_norm");
  return bench;
}

namespace {

struct StepTimes {
  double forward = 0, backward = 0, optimizer = 0, total = 0;
  int64_t tokens = 0;
  // Live heap (tcmalloc's count) when each phase ends; 0 without tcmalloc.
  double live_forward_mb = 0, live_backward_mb = 0, live_optimizer_mb = 0;
};

double live_heap_mb() { return static_cast<double>(vista::live_heap_bytes().value_or(0)) / (1024.0 * 1024.0); }

StepTimes step(Bench& bench, bool vista_on) {
  vista::objectives::ObjectiveOptions options;
  options.vista_enabled = vista_on;
  StepTimes t;
  const auto start = Clock::now();
  vista::objectives::ObjectiveTerms terms;
  {
    ProfilePhase phase("vista::forward");
    release_gradients(*bench.optimizer);
    terms = vista::objectives::llava_objective(*bench.model, bench.batch, options);
    terms.total.item<float>();  // forward finished (matters on GPU)
  }
  t.forward = seconds_since(start);
  t.live_forward_mb = live_heap_mb();
  auto mark = Clock::now();
  {
    ProfilePhase phase("vista::backward");
    terms.total.backward();
    zero_missing_gradients(*bench.optimizer);
  }
  t.backward = seconds_since(mark);
  t.live_backward_mb = live_heap_mb();
  mark = Clock::now();
  {
    ProfilePhase phase("vista::optimizer");
    torch::nn::utils::clip_grad_norm_(bench.trainable, bench.clip_norm);
    bench.optimizer->step();
  }
  t.optimizer = seconds_since(mark);
  t.live_optimizer_mb = live_heap_mb();
  t.total = seconds_since(start);
  t.tokens = terms.sequence_tokens;
  if (!std::isfinite(terms.total.item<double>())) vista::fail("bench: non-finite loss");
  return t;
}

}  // namespace

StepBenchResult bench_train_step(const std::string& path, int threads_override, std::ostream& out,
                                 bool gradient_checkpointing, int64_t lora_r, const std::string& device_name,
                                 bool profile, PairedPeer* peer) {
  const vista::JsonNode cfg = vista::JsonNode::owning(vista::read_json_file(path), path);
  int threads = threads_override > 0 ? threads_override : static_cast<int>(cfg.integer_or("threads", 0));
  vista::configure_threads(threads);
  fmt::print(out, "config: {} ({})\n{}\n", cfg.string_or("name", path), path, vista::threads_summary());
  if (peer) {
    fmt::print(out, "the peer (bench/peer): building its model and running its warm-up, {} threads\n",
               at::get_num_threads());
    peer->start(at::get_num_threads());
  }
  auto bench = build_bench(cfg);
  if (lora_r > 0) {
    models::LoraOptions lora;
    lora.r = lora_r;
    lora.alpha = 2.0 * static_cast<double>(lora_r);
    lora.dropout = 0.05;
    models::add_lora_adapters(*bench.model, lora);
    bench.trainable.clear();
    for (auto& p : bench.model->named_parameters()) {
      const bool train = models::is_lora_parameter(p.key()) || p.key().rfind("projector.", 0) == 0;
      p.value().set_requires_grad(train);
      if (train) bench.trainable.push_back(p.value());
    }
    const auto defaults = static_cast<const torch::optim::AdamWOptions&>(bench.optimizer->defaults());
    bench.optimizer = std::make_unique<FusedAdamW>(bench.trainable, defaults);
  }
  const torch::Device device(device_name);
  bench.model->to(device);  // in place: the optimizer keeps its parameters
  bench.batch = {bench.batch.input_ids_BL.to(device), bench.batch.attention_mask_BL.to(device),
                 bench.batch.labels_BL.to(device), bench.batch.pixel_values_BCHW.to(device)};
  fmt::print(out, "device: {}\n", device.str());
  int64_t trainable = 0;
  for (const auto& p : bench.trainable) trainable += p.numel();
  fmt::print(out, "trainable parameters: {} ({})\n", trainable, lora_r > 0 ? fmt::format("LoRA r {}", lora_r) : "full finetuning");
  const bool recompute = gradient_checkpointing || cfg.boolean_or("gradient_checkpointing", false);
  bench.model->language_model->set_gradient_checkpointing(recompute);
  fmt::print(out, "gradient checkpointing: {}\n", recompute ? "on" : "off");
  const auto steps = cfg.object("steps");
  const int64_t warmup = steps.integer("warmup"), timed = steps.integer("timed");
  for (int64_t i = 0; i < warmup; ++i) {
    step(bench, false);
    step(bench, true);
  }
  std::vector<StepTimes> ce, vista;
  StepBenchResult r;
  for (int64_t i = 0; i < timed; ++i) {  // interleaved: drift hits both arms alike
    ce.push_back(step(bench, false));
    vista.push_back(step(bench, true));
  }
  // Then, with a peer, rounds of one CE+VISTA step each side, so that every timed step of either
  // follows one of the other: switching processes costs both sides alike.
  for (int i = 0; peer && i < peer->rounds(); ++i) {
    r.round_gemm_gflops.push_back(measure_gemm_gflops());
    r.vista_round_s.push_back(step(bench, true).total);
    r.peer_round_s.push_back(peer->step());
    fmt::print(out, "with the peer, round {}/{}: vista {:.3f} s, the peer {:.3f} s ({:.2f}x)\n", i + 1, peer->rounds(),
               r.vista_round_s.back(), r.peer_round_s.back(), r.peer_round_s.back() / r.vista_round_s.back());
  }
  auto med = [](const std::vector<StepTimes>& v, double StepTimes::*field) {
    std::vector<double> x;
    for (const auto& s : v) x.push_back(s.*field);
    return median(x);
  };
  r.name = cfg.string_or("name", path) + (recompute ? "+checkpointing" : "") + (lora_r > 0 ? fmt::format("+lora{}", lora_r) : "");
  r.trainable_params = trainable;
  r.lora_r = lora_r;
  r.ce_step_s = med(ce, &StepTimes::total);
  r.vista_step_s = med(vista, &StepTimes::total);
  r.tokens = vista[0].tokens;
  for (const auto& [name, v] : {std::pair{"ce", &ce}, {"ce+vista", &vista}})
    fmt::print(out, "{:<9} step {:.3f} s  (forward {:.3f}, backward {:.3f}, optimizer {:.3f})  {:.0f} tokens/s\n", name,
               med(*v, &StepTimes::total), med(*v, &StepTimes::forward), med(*v, &StepTimes::backward),
               med(*v, &StepTimes::optimizer), (*v)[0].tokens / med(*v, &StepTimes::total));
  if (vista.back().live_forward_mb > 0)
    fmt::print(out,
               "live heap ({}) at the end of a CE+VISTA step's forward {:.0f} MB, backward {:.0f} MB, optimizer {:.0f} "
               "MB\n",
               vista::allocator_name(), vista.back().live_forward_mb, vista.back().live_backward_mb,
               vista.back().live_optimizer_mb);
  fmt::print(out, "ratio ce+vista / ce: {:.4f}  (VISTA adds {:+.2f}%)\n", r.vista_step_s / r.ce_step_s,
             100.0 * (r.vista_step_s / r.ce_step_s - 1.0));
  {
    const auto spliced = bench.model->prepare_inputs(bench.batch.input_ids_BL, bench.batch.attention_mask_BL,
                                                     bench.batch.labels_BL,
                                                     bench.model->encode_images(bench.batch.pixel_values_BCHW));
    auto hidden = torch::randn_like(spliced.inputs_embeds_BTD).requires_grad_(true);
    auto text = spliced.text_embeds_PD.detach().clone().requires_grad_(true);
    std::vector<double> loss_s;
    for (int i = 0; i < 20; ++i) {
      const auto t = Clock::now();
      auto terms = vista::losses::vista_alignment(hidden, spliced.last_image_pos_B, text, spliced.text_offsets_B1, {});
      terms.term.backward();
      loss_s.push_back(seconds_since(t));
    }
    r.vista_term_s = median(loss_s);
    fmt::print(out, "vista term alone (forward+backward): {:.3f} ms = {:.3f}% of a CE step\n", 1e3 * r.vista_term_s,
               100.0 * r.vista_term_s / r.ce_step_s);
  }
  r.peak_rss_mb = peak_rss_mb();
  if (profile) {
    if (device.is_cuda()) fail("bench train --profile measures CPU operators; drop --device");
    const auto ops = profile_ops([&] { step(bench, true); });
    const double gemm_gflops = measure_gemm_gflops();
    const double step_gflop = static_cast<double>(ops.all_gemm_flops()) / 1e9;
    r.profile = op_profile_json(ops);
    r.profile["machine_gemm_gflops"] = gemm_gflops;
    r.profile["share_of_machine_gemm_rate"] = step_gflop / r.vista_step_s / gemm_gflops;
    fmt::print(out, "profile of one CE+VISTA step ({:.0f} ms under the profiler):\n", ops.wall_ms);
    for (const auto& [phase, ms] : ops.phase_ms) fmt::print(out, "  phase {:<10} {:8.1f} ms\n", phase, ms);
    for (const auto& [kind, ms] : ops.kind_ms)
      fmt::print(out, "  kind  {:<10} {:8.1f} ms  {:5.1f}%\n", kind, ms, 100.0 * ms / ops.wall_ms);
    for (const auto& [phase, stats] : ops.phase_ops)
      for (size_t i = 0; i < std::min<size_t>(6, stats.size()); ++i)
        fmt::print(out, "  {:<10} {:<34} {:6} calls {:8.1f} ms\n", phase, stats[i].name, stats[i].calls,
                   stats[i].self_ms);
    fmt::print(
        out,
        "GEMM: {:.1f} GFLOP per step ({:.1f} in GEMM operators, {:.0f} ms, {:.0f} GFLOP/s; {:.1f} in the attention "
        "kernel); machine {:.0f} GFLOP/s; the timed step reaches {:.0f}% of it\n",
        step_gflop, static_cast<double>(ops.gemm_flops) / 1e9, ops.gemm_ms,
        r.profile["gemm_gflops_achieved"].get<double>(), static_cast<double>(ops.kernel_gemm_flops) / 1e9, gemm_gflops,
        100.0 * r.profile["share_of_machine_gemm_rate"].get<double>());
  }
  return r;
}

std::string step_bench_json(const StepBenchResult& r) {
  auto line = fmt::format(
      "{{\"bench\":\"train_step\",\"config\":\"{}\",\"step_s_median\":{:.4f},\"ce_step_s_median\":{:.4f},"
      "\"tokens_per_s\":{:.1f},\"peak_rss_mb\":{:.1f},\"vista_over_ce\":{:.4f},\"trainable_params\":{},"
      "\"lora_r\":{}}}",
      r.name, r.vista_step_s, r.ce_step_s, r.tokens / r.vista_step_s, r.peak_rss_mb, r.vista_step_s / r.ce_step_s,
      r.trainable_params, r.lora_r);
  if (!r.profile.is_null()) line.insert(line.size() - 1, ",\"profile\":" + r.profile.dump());
  return line;
}

}  // namespace vista::train
