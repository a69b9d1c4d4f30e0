// vista: train, evaluate and serve LLaVA-style models with explicit vision-text alignment losses.
#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdio>
#include <map>

#include "apps/vista/commands.h"
#include "util/allocator.h"
#include "util/error.h"
#include "runtime/cuda_support.h"
#include "runtime/split_mm.h"
#include "runtime/threads.h"
#include "runtime/torch_compat.h"

int main(int argc, char** argv) {
  // Progress and result lines must reach a pipe or log file as they happen.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  CLI::App app{"vista: LLaVA-style multimodal models with VISTA alignment objectives"};
  app.set_version_flag("--version", [] {
    return "vista, built against " + vista::compat::build_summary() + "; allocator: " + vista::allocator_name();
  });
  app.require_subcommand(1);
  vista::app::GlobalOptions global;
  app.add_option("--threads", global.threads, "intra-op threads (0 = all cores)")->capture_default_str();
  app.add_option("--device", global.device, "torch device: cpu, cuda, cuda:1 ...")->capture_default_str();
  app.add_flag("--tf32", global.tf32, "allow TF32 matmuls and convolutions on CUDA (faster, not float32; off by default)");

  std::map<CLI::App*, vista::app::CommandRunner> runners;
  // Each add_*_command creates one subcommand; remember which runner belongs to it.
  auto register_command = [&](vista::app::CommandRunner runner) {
    runners[app.get_subcommands([](CLI::App*) { return true; }).back()] = std::move(runner);
  };
  register_command(vista::app::add_check_fixtures_command(app));
  register_command(vista::app::add_convert_command(app));
  register_command(vista::app::add_tokenize_command(app));
  register_command(vista::app::add_data_command(app));
  register_command(vista::app::add_demo_command(app));
  register_command(vista::app::add_study_command(app));
  register_command(vista::app::add_generate_command(app));
  register_command(vista::app::add_bench_command(app));
  register_command(vista::app::add_eval_command(app));
  register_command(vista::app::add_serve_command(app));
  {
    auto runner = vista::app::add_lora_command(app);  // runs as "lora merge"
    runners[app.get_subcommand("lora")->get_subcommand("merge")] = runner;
  }
  for (auto add : {vista::app::add_sea_command, vista::app::add_analyze_command}) {
    auto runner = add(app);  // runs as "<command> <subcommand>"
    for (auto* sub :
         app.get_subcommands([](CLI::App*) { return true; }).back()->get_subcommands([](CLI::App*) { return true; }))
      runners[sub] = runner;
  }
  {
    auto runner = vista::app::add_dist_command(app);  // runs as "dist check"
    auto* dist = app.get_subcommand("dist");
    runners[dist->get_subcommand("check")] = runner;
  }
  {
    auto runner = vista::app::add_train_command(app);  // two subcommands share it
    for (auto* sub : app.get_subcommands([](CLI::App* s) { return s->get_name() == "train" || s->get_name() == "plot"; }))
      runners[sub] = runner;
  }

  CLI11_PARSE(app, argc, argv);
  try {
    vista::runtime::load_cuda_where_present();
    vista::runtime::require_cuda_for(global.device);
    vista::configure_threads(global.threads);
    vista::compat::set_tf32(global.tf32);
    fmt::print(stderr, "vista: {}; {}; device {}; {}{}\n", vista::threads_summary(), vista::split_mm_summary(),
               global.device, vista::allocator_name(),
               vista::runtime::cuda_plugin_built() ? "; " + vista::runtime::cuda_summary() : "");
    for (auto* sub : app.get_subcommands()) {
      if (runners.count(sub)) return runners[sub](global);
      for (auto* nested : sub->get_subcommands())
        if (runners.count(nested)) return runners[nested](global);
    }
  } catch (const vista::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    fmt::print(stderr, "error (libtorch): {}\n", e.what_without_backtrace());
    return 2;
  } catch (const std::exception& e) {
    // The last line of defence: whatever a library threw ends the program with its message, never
    // with std::terminate's abort.
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  return 1;
}
