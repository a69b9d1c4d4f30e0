#pragma once
// The body of POST /v1/chat/completions, read into what the server runs: a conversation in the
// model's terms (human/gpt turns, "<image>\n" where each image goes, as LLaVA's training data puts
// it), the images' encoded bytes, and the decoding parameters. Every problem is a 400 ApiError
// naming the parameter. No libtorch here: the parser is fuzzed on its own.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/conversation.h"
#include "serve/api_error.h"
#include "serve/sampling.h"

namespace vista::serve {

struct RequestLimits {
  int64_t max_images = 1;         // per request, all messages together
  std::string allowed_media_dir;  // file:// URLs below this folder; empty: none
  size_t max_image_bytes = 20u << 20;
};

struct ChatImage {
  std::string bytes;   // PNG or JPEG as sent
  std::string source;  // where it was in the request, for errors: messages[0].content[1]
};

struct ChatRequest {
  std::string model;
  std::optional<std::string> system;  // replaces the template's system text
  data::Conversation conversation;    // alternating human/gpt, ending with human
  std::vector<ChatImage> images;      // in the order of their "<image>" marks
  int64_t max_tokens = -1;            // -1: up to the end of the context
  SamplingParams sampling;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
  bool ignore_eos = false;  // vLLM's extension: run to max_tokens past the terminator (benchmarks)
};

ChatRequest parse_chat_request(const std::string& body, const RequestLimits& limits);

}  // namespace vista::serve
