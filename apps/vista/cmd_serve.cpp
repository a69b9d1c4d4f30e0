#include <fmt/format.h>

#include <filesystem>
#include <thread>

#include "apps/vista/commands.h"
#include "apps/vista/model_bundle.h"
#include "serve/server.h"
#include "train/signal_guard.h"
#include "util/error.h"

namespace vista::app {

CommandRunner add_serve_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("serve", "an OpenAI-compatible chat server (continuous batching) with a chat page at /");
  struct Args {
    std::string model, tokenizer, vision_tower, templ, aspect, model_id;
    serve::ServerOptions server;
    double max_body_mb = 32;
  };
  auto args = std::make_shared<Args>();
  auto& s = args->server;
  cmd->add_option("--model", args->model, "model folder (any layout, or a LoRA adapter folder)")->required();
  cmd->add_option("--host", s.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", s.port, "port (0: any free port; the line 'listening on' names it)")->capture_default_str();
  cmd->add_option("--max-batch", s.max_batch, "sequences decoded together")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--max-queue", s.max_queue, "requests waiting to join the batch (more: 503)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--max-body-mb", args->max_body_mb, "largest request body in MiB (more: 413)")->capture_default_str();
  cmd->add_option("--max-images", s.max_images, "images per request")->capture_default_str()->check(CLI::Range(0, 64));
  cmd->add_option("--max-image-pixels", s.max_image_pixels, "largest decoded image (width x height)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{178956970}));
  cmd->add_option("--allowed-media-dir", s.allowed_media_dir, "file:// image URLs are read below this folder only");
  cmd->add_option("--request-timeout", s.request_timeout_s, "seconds a request may run")->capture_default_str();
  cmd->add_flag("--metrics", s.metrics, "serve Prometheus metrics at /metrics");
  cmd->add_option("--model-id", args->model_id, "the model's name in the API (default: the folder's name)");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer folder (default: the model's)");
  cmd->add_option("--vision-tower", args->vision_tower, "vision tower folder (llava layout)");
  cmd->add_option("--template", args->templ, "vicuna_v1 or phi (default: the model's)");
  cmd->add_option("--aspect", args->aspect, "pad or square (default: the model's)");
  return [args](const GlobalOptions& global) {
    auto options = args->server;
    if (args->max_body_mb <= 0) fail("--max-body-mb must be positive, got {}", args->max_body_mb);
    options.max_body_bytes = static_cast<size_t>(args->max_body_mb * 1024 * 1024);
    if (!options.allowed_media_dir.empty() && !std::filesystem::is_directory(options.allowed_media_dir))
      fail("--allowed-media-dir {}: not a folder", options.allowed_media_dir);
    serve::ChatServer server(options);
    const int port = server.bind();
    train::SignalGuard signals;  // SIGTERM / SIGINT: drain, then exit
    std::thread http([&server] { server.listen(); });
    fmt::print("listening on http://{}:{}\n", options.host, port);
    std::fflush(stdout);
    // /health says 503 "loading" until the model is in.
    try {
      auto model = load_served_model(args->model, {args->tokenizer, args->vision_tower, args->templ, args->aspect},
                                     global.device, args->model_id);
      fmt::print(stderr, "serve: model '{}' ready; template {} ({}), aspect {} ({})\n", model->id,
                 model->settings.tmpl.name, model->settings.template_source, model->settings.aspect_name,
                 model->settings.aspect_source);
      server.set_model(model);
    } catch (const std::exception& e) {
      server.set_load_error(e.what());
      server.stop();
      http.join();
      throw;
    }
    fmt::print("ready\n");
    std::fflush(stdout);
    while (!signals.received()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fmt::print(stderr, "serve: signal {}: finishing the requests in flight\n", signals.received());
    server.drain_and_stop();
    http.join();
    fmt::print(stderr, "serve: stopped\n");
    return 0;
  };
}

}  // namespace vista::app
