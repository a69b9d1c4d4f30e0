#include "serve/server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <sys/socket.h>

#include <cstring>
#include <thread>

#include "data/prompt_tokenizer.h"
#include "image/decode.h"
#include "image/processor.h"
#include "serve/answer_text.h"
#include "serve/api_error.h"
#include "serve/chat_page.h"
#include "util/error.h"
#include "util/measure.h"

namespace vista::serve {

// cpp-httplib 0.11 listens with a backlog of 5: a burst of new connections overflows it and the
// kernel drops SYNs, which clients retry a whole second later. Linux lets a second listen() on the
// bound socket raise the backlog; the socket is a protected member, hence the subclass.
class HttpServer : public httplib::Server {
 public:
  void widen_backlog() { ::listen(svr_sock_, SOMAXCONN); }
};

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The prompt the model continues: the template's rendering of the turns, then the answer's cue.
std::string chat_prompt(const data::Template& tmpl, const data::Conversation& conversation) {
  if (tmpl.is_plain())
    return conversation.turns.back().value.find(data::kImageToken) != std::string::npos ? data::kImageToken : "";
  return data::render_prompt(tmpl, conversation) + "ASSISTANT:";
}

// Counts open chat requests (streams until their last byte), which draining waits for.
struct OpenRequest {
  explicit OpenRequest(std::atomic<int64_t>& count) : count_(count) { ++count_; }
  ~OpenRequest() { --count_; }
  OpenRequest(const OpenRequest&) = delete;
  OpenRequest& operator=(const OpenRequest&) = delete;
  std::atomic<int64_t>& count_;
};

}  // namespace

struct ChatServer::Prepared {
  std::shared_ptr<ServedModel> model;
  EngineRequest engine;
  int64_t prompt_tokens = 0;
  std::string id;
  int64_t created = 0;
  Clock::time_point start, deadline;
};

ChatServer::ChatServer(ServerOptions options) : options_(std::move(options)), http_(std::make_unique<HttpServer>()) {
  const int threads =
      options_.http_threads > 0 ? options_.http_threads : static_cast<int>(options_.max_queue + options_.max_batch + 8);
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_read_timeout(30);
  http_->set_write_timeout(30);
  routes();
}

ChatServer::~ChatServer() {
  stop();
  engine_.reset();
}

int ChatServer::bind() {
  const int port = options_.port == 0 ? http_->bind_to_any_port(options_.host)
                                      : (http_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port < 0) fail("cannot listen on {}:{} (address in use or not available)", options_.host, options_.port);
  static_cast<HttpServer&>(*http_).widen_backlog();
  return port;
}

void ChatServer::listen() {
  listen_entered_ = true;
  if (!stopping_) http_->listen_after_bind();
  listen_returned_ = true;
}

void ChatServer::stop() {
  stopping_ = true;
  // A model that fails to load can call this before the listen thread has reached httplib's loop,
  // when httplib's stop() is a no-op: ask again until the loop has ended.
  while (listen_entered_ && !listen_returned_) {
    http_->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void ChatServer::set_model(std::shared_ptr<ServedModel> model) {
  std::lock_guard lock(model_mutex_);
  model->model->eval();
  EngineOptions engine;
  engine.max_batch = options_.max_batch;
  engine.max_queue = options_.max_queue;
  const auto& tmpl = model->settings.tmpl;
  if (const auto id = model->tokenizer.token_to_id(tmpl.terminator)) engine.eos_token_id = *id;
  else engine.eos_token_id = model->model->config().text.eos_token_id;
  engine_ = std::make_unique<Engine>(*model->model, engine);
  model_ = std::move(model);
  ready_ = true;
}

void ChatServer::set_load_error(const std::string& message) {
  std::lock_guard lock(model_mutex_);
  load_error_ = message;
}

void ChatServer::drain_and_stop() {
  draining_ = true;
  if (engine_) engine_->drain();
  // Streams still writing their last events.
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  while (open_requests_ > 0 && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop();
}

void ChatServer::reply_error(httplib::Response& res, int status, const std::string& type, const std::string& message,
                             const std::string& param) {
  res.status = status;
  res.set_content(error_body(status, type, message, param).dump(), "application/json");
}

void ChatServer::routes() {
  auto& http = *http_;
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(chat_page_html(), "text/html; charset=utf-8");
  });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    std::string error;
    {
      std::lock_guard lock(model_mutex_);
      error = load_error_;
    }
    if (!error.empty()) {
      res.status = 500;
      res.set_content(json{{"status", "error"}, {"message", error}}.dump(), "application/json");
    } else {
      res.status = draining_ ? 503 : ready_ ? 200 : 503;
      res.set_content(json{{"status", draining_ ? "draining" : ready_ ? "ok" : "loading"}}.dump(), "application/json");
    }
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json data = json::array();
    if (ready_)
      data.push_back(
          {{"id", model_->id},
           {"object", "model"},
           {"created", std::chrono::duration_cast<std::chrono::seconds>(started_.time_since_epoch()).count()},
           {"owned_by", "vista"}});
    res.set_content(json{{"object", "list"}, {"data", data}}.dump(), "application/json");
    metrics_.count_request("/v1/models", 200);
  });
  if (options_.metrics)
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      const auto stats = engine_ && ready_ ? engine_->stats() : EngineStats{};
      res.set_content(metrics_.render(stats.queued, stats.running, stats.steps), "text/plain; version=0.0.4");
    });
  http.Post("/v1/chat/completions",
            [this](const httplib::Request& req, httplib::Response& res) { handle_chat(req, res); });
  // Statuses the library sets itself (404, 413, ...) get the same error body as ours.
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
        if (res.body.empty()) {
          const auto type = res.status == 404   ? "not_found"
                            : res.status == 413 ? "request_too_large"
                                                : "invalid_request_error";
          const auto message = res.status == 413   ? fmt::format("the body is over {} bytes", options_.max_body_bytes)
                               : res.status == 404 ? fmt::format("no route for {} {}", req.method, req.path)
                                                   : fmt::format("HTTP error {}", res.status);
          reply_error(res, res.status, type, message);
          if (req.path == "/v1/chat/completions") metrics_.count_request(req.path, res.status);
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
    }
    reply_error(res, 500, "server_error", message);
  });
}

ChatServer::Prepared ChatServer::prepare(const ChatRequest& request) const {
  Prepared p;
  p.model = model_;
  const auto& m = *p.model;
  if (!request.model.empty() && request.model != m.id)
    throw ApiError(404, "model_not_found",
                   fmt::format("model '{}' is not served here; this server serves '{}'", request.model, m.id), "model");
  auto tmpl = m.settings.tmpl;
  if (request.system && !tmpl.is_plain()) tmpl.system = *request.system;
  const auto ids = data::tokenize_with_images(m.tokenizer, chat_prompt(tmpl, request.conversation));
  int64_t placeholders = 0;
  for (const auto id : ids) placeholders += id == models::kImageTokenIndex;
  if (placeholders != static_cast<int64_t>(request.images.size()))
    throw bad_request(fmt::format("the model's '{}' template places {} image(s), the request has {}", tmpl.name,
                                  placeholders, request.images.size()),
                      "messages");
  if (!request.images.empty()) {
    const int64_t side = m.processor.do_center_crop ? m.processor.crop_height : m.processor.resize_height;
    auto pixels = torch::empty({static_cast<int64_t>(request.images.size()), 3, side, side});
    for (size_t k = 0; k < request.images.size(); ++k) {
      const auto& image = request.images[k];
      image::FloatImage processed;
      try {
        const auto rgb = image::decode_image(reinterpret_cast<const uint8_t*>(image.bytes.data()), image.bytes.size(),
                                             image.source, options_.max_image_pixels);
        processed = image::preprocess_for_llava(rgb, m.processor, m.settings.aspect);
      } catch (const Error& e) {
        throw bad_request(e.what(), image.source);
      }
      std::memcpy(pixels[static_cast<int64_t>(k)].data_ptr<float>(), processed.values.data(),
                  processed.values.size() * sizeof(float));
    }
    p.engine.pixels_KCHW = pixels;
  }
  const auto& vision = m.model->vision_config();
  const int64_t per_image = vision.num_positions() - (m.model->config().mm.mm_vision_select_feature == "patch" ? 1 : 0);
  p.prompt_tokens = static_cast<int64_t>(ids.size()) + placeholders * (per_image - 1);
  const int64_t context = m.model->config().text.max_position_embeddings;
  if (context > 0 && p.prompt_tokens >= context)
    throw bad_request(
        fmt::format("the prompt is {} tokens (images included); the model's context is {}", p.prompt_tokens, context),
        "messages");
  p.engine.max_tokens = request.max_tokens > 0 ? request.max_tokens : context > 0 ? context - p.prompt_tokens : 256;
  if (context > 0 && p.prompt_tokens + p.engine.max_tokens > context)
    throw bad_request(fmt::format("the prompt ({} tokens) and max_tokens ({}) exceed the model's context of {} tokens",
                                  p.prompt_tokens, p.engine.max_tokens, context),
                      "max_tokens");
  p.engine.prompt_ids = ids;
  p.engine.sampling = request.sampling;
  p.engine.ignore_eos = request.ignore_eos;
  p.id = fmt::format("chatcmpl-{:016x}", static_cast<uint64_t>(next_id_++) * 0x9E3779B97F4A7C15ull);
  p.created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return p;
}

void ChatServer::handle_chat(const httplib::Request& req, httplib::Response& res) {
  const auto start = Clock::now();
  try {
    if (draining_) throw ApiError(503, "server_shutting_down", "the server is shutting down; no new requests");
    if (!ready_) throw ApiError(503, "model_loading", "the model is still loading; /health turns 200 when it is ready");
    RequestLimits limits;
    limits.max_images = options_.max_images;
    limits.allowed_media_dir = options_.allowed_media_dir;
    limits.max_image_bytes = options_.max_body_bytes;
    const auto request = parse_chat_request(req.body, limits);
    auto prepared = prepare(request);
    prepared.start = start;
    prepared.deadline = start + std::chrono::milliseconds(static_cast<int64_t>(options_.request_timeout_s * 1000));
    if (request.stream) answer_stream(request, std::move(prepared), res);
    else answer_whole(request, std::move(prepared), res);
  } catch (const ApiError& e) {
    res.status = e.status();
    res.set_content(error_body(e).dump(), "application/json");
    metrics_.count_request(req.path, e.status());
    fmt::print(stderr, "POST {} {} {}\n", req.path, e.status(), e.what());
  }
}

void ChatServer::answer_whole(const ChatRequest& request, Prepared p, httplib::Response& res) {
  OpenRequest open(open_requests_);
  auto generation = engine_->submit(std::move(p.engine));
  AnswerText answer(p.model->tokenizer, request.stop);
  std::string content, reason;
  double first_token = -1;
  for (int64_t token;;) {
    const auto next = generation->next(&token, p.deadline);
    if (next == Generation::Next::kTimeout) {
      generation->cancel();
      throw ApiError(504, "timeout",
                     fmt::format("no answer within {} s (--request-timeout)", options_.request_timeout_s));
    }
    if (next == Generation::Next::kEnd) break;
    if (first_token < 0) first_token = seconds_since(p.start);
    content += answer.push(token);
    if (answer.stopped()) {
      generation->cancel();
      reason = "stop";
      break;
    }
  }
  content += answer.finish();
  if (reason.empty()) {
    Generation::Next next;
    int64_t ignored;
    while ((next = generation->next(&ignored, p.deadline)) == Generation::Next::kToken) {
    }
    if (!generation->error().empty()) throw ApiError(500, "server_error", generation->error());
    reason = generation->finish_reason();
  }
  const int64_t completion = generation->generated();
  const json body = {{"id", p.id},
                     {"object", "chat.completion"},
                     {"created", p.created},
                     {"model", p.model->id},
                     {"choices",
                      {{{"index", 0},
                        {"message", {{"role", "assistant"}, {"content", content}}},
                        {"logprobs", nullptr},
                        {"finish_reason", reason}}}},
                     {"usage",
                      {{"prompt_tokens", p.prompt_tokens},
                       {"completion_tokens", completion},
                       {"total_tokens", p.prompt_tokens + completion}}}};
  res.set_content(body.dump(), "application/json");
  metrics_.count_request("/v1/chat/completions", 200);
  metrics_.count_tokens(p.prompt_tokens, completion);
  metrics_.observe_latency(seconds_since(p.start), first_token);
  fmt::print(stderr, "POST /v1/chat/completions 200 {} prompt + {} answer tokens in {:.2f} s ({})\n", p.prompt_tokens,
             completion, seconds_since(p.start), reason);
}

void ChatServer::answer_stream(const ChatRequest& request, Prepared p, httplib::Response& res) {
  struct Stream {
    Stream(Prepared prepared, std::shared_ptr<Generation> g, const ChatRequest& request,
           std::atomic<int64_t>& open_count)
        : p(std::move(prepared)),
          generation(std::move(g)),
          answer(p.model->tokenizer, request.stop),
          include_usage(request.include_usage),
          open(open_count) {}
    Prepared p;
    std::shared_ptr<Generation> generation;
    AnswerText answer;
    bool include_usage = false, began = false, ended = false;
    double first_token = -1;
    OpenRequest open;
  };
  auto generation = engine_->submit(std::move(p.engine));
  auto stream = std::make_shared<Stream>(std::move(p), generation, request, open_requests_);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, stream](size_t, httplib::DataSink& sink) {
        auto& s = *stream;
        const auto chunk = [&](json delta, json finish_reason) {
          return json{
              {"id", s.p.id},
              {"object", "chat.completion.chunk"},
              {"created", s.p.created},
              {"model", s.p.model->id},
              {"choices", {{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish_reason}}}}};
        };
        const auto send = [&](const json& event) {
          const auto line = "data: " + event.dump() + "\n\n";
          return sink.write(line.data(), line.size());
        };
        const auto finish = [&](const std::string& rest, const std::string& reason, const std::string& error) {
          bool ok = rest.empty() || send(chunk({{"content", rest}}, nullptr));
          if (!error.empty()) ok = ok && send(error_body(500, "server_error", error));
          else ok = ok && send(chunk(json::object(), reason));
          const int64_t completion = s.generation->generated();
          if (s.include_usage)
            ok = ok && send({{"id", s.p.id},
                             {"object", "chat.completion.chunk"},
                             {"created", s.p.created},
                             {"model", s.p.model->id},
                             {"choices", json::array()},
                             {"usage",
                              {{"prompt_tokens", s.p.prompt_tokens},
                               {"completion_tokens", completion},
                               {"total_tokens", s.p.prompt_tokens + completion}}}});
          const std::string done = "data: [DONE]\n\n";
          ok = ok && sink.write(done.data(), done.size());
          sink.done();
          s.ended = true;
          metrics_.count_request("/v1/chat/completions", 200);
          metrics_.count_tokens(s.p.prompt_tokens, completion);
          metrics_.observe_latency(seconds_since(s.p.start), s.first_token);
          fmt::print(stderr, "POST /v1/chat/completions 200 (stream) {} prompt + {} answer tokens in {:.2f} s ({})\n",
                     s.p.prompt_tokens, completion, seconds_since(s.p.start), error.empty() ? reason : error);
          return ok;
        };
        if (s.ended) return false;
        if (!s.began) {
          s.began = true;
          return send(chunk({{"role", "assistant"}, {"content", ""}}, nullptr)) || (s.generation->cancel(), false);
        }
        int64_t token;
        switch (s.generation->next(&token, s.p.deadline)) {
          case Generation::Next::kTimeout:
            s.generation->cancel();
            return finish(s.answer.finish(), "length",
                          fmt::format("no answer within {} s (--request-timeout)", options_.request_timeout_s));
          case Generation::Next::kEnd: {
            const auto reason = s.generation->finish_reason();
            return finish(s.answer.finish(), reason, s.generation->error());
          }
          case Generation::Next::kToken:
            break;
        }
        if (s.first_token < 0) s.first_token = seconds_since(s.p.start);
        const auto text = s.answer.push(token);
        if (s.answer.stopped()) {
          s.generation->cancel();
          return finish(text, "stop", "");
        }
        if (text.empty()) return true;
        if (!send(chunk({{"content", text}}, nullptr))) {
          s.generation->cancel();  // the client has gone
          return false;
        }
        return true;
      },
      [stream](bool success) {
        if (!success) stream->generation->cancel();
      });
}

}  // namespace vista::serve
