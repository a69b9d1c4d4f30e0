#pragma once
// `vista serve`: the OpenAI Chat Completions API over one model, on cpp-httplib.
//   POST /v1/chat/completions  text and image_url content parts, streamed (SSE) or not
//   GET  /v1/models, /health (503 while loading or draining), /metrics (when enabled), / (chat page)
// Every failure answers with its status and an OpenAI-style error body.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "image/processor_config.h"
#include "inference/model_settings.h"
#include "models/multimodal_lm.h"
#include "serve/chat_request.h"
#include "serve/engine.h"
#include "serve/metrics.h"
#include "text/tokenizer.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace vista::serve {

struct ServedModel {
  models::MultimodalLM model{nullptr};
  text::Tokenizer tokenizer;
  image::ImageProcessorConfig processor;
  inference::ModelSettings settings;
  std::string id;  // the name /v1/models lists and requests may give
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (bind() returns it)
  int64_t max_batch = 8;
  int64_t max_queue = 64;
  size_t max_body_bytes = 32u << 20;
  int64_t max_images = 1;
  int64_t max_image_pixels = 4096 * 4096;
  std::string allowed_media_dir;
  double request_timeout_s = 600;
  bool metrics = false;
  int http_threads = 0;  // 0: enough for every queued and running request, plus a few
};

class ChatServer {
 public:
  explicit ChatServer(ServerOptions options);
  ~ChatServer();
  // Binds the address; returns the port. Throws vista::Error when it cannot.
  int bind();
  // Answers requests until stop(); returns then.
  void listen();
  // The model is ready: /health turns 200 and chat requests are answered.
  void set_model(std::shared_ptr<ServedModel> model);
  // Loading failed: /health answers 500 with the message.
  void set_load_error(const std::string& message);
  // Refuses new chat requests, lets every running one finish (streams included), then stops.
  void drain_and_stop();
  // Ends listen(), whether it is running, about to start, or never called.
  void stop();

 private:
  struct Prepared;
  void routes();
  void handle_chat(const httplib::Request& req, httplib::Response& res);
  Prepared prepare(const ChatRequest& request) const;
  void answer_whole(const ChatRequest& request, Prepared prepared, httplib::Response& res);
  void answer_stream(const ChatRequest& request, Prepared prepared, httplib::Response& res);
  void reply_error(httplib::Response& res, int status, const std::string& type, const std::string& message,
                   const std::string& param = "");

  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::shared_ptr<ServedModel> model_;
  std::unique_ptr<Engine> engine_;
  std::mutex model_mutex_;
  std::string load_error_;
  std::atomic<bool> ready_{false}, draining_{false};
  // httplib's stop() does nothing before the listen loop has started; these close that window.
  std::atomic<bool> listen_entered_{false}, listen_returned_{false}, stopping_{false};
  std::atomic<int64_t> open_requests_{0};
  mutable std::atomic<int64_t> next_id_{1};
  Metrics metrics_;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

}  // namespace vista::serve
