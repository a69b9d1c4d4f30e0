// A POST /v1/chat/completions body from anyone: it parses into a conversation whose "<image>"
// marks match its images, or it is a 400 ApiError; nothing else escapes.
#include <cstdint>
#include <string>

#include "serve/chat_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vista::serve::RequestLimits limits;
  limits.max_images = 4;
  limits.max_image_bytes = 1 << 16;
  try {
    const auto r = vista::serve::parse_chat_request(std::string(reinterpret_cast<const char*>(data), size), limits);
    size_t marks = 0;
    for (const auto& turn : r.conversation.turns)
      for (size_t at = 0; (at = turn.value.find(vista::data::kImageToken, at)) != std::string::npos; ++at) ++marks;
    if (marks != r.images.size() || r.conversation.turns.empty() || r.conversation.turns.back().from != "human")
      __builtin_trap();
    for (size_t i = 0; i < r.conversation.turns.size(); ++i)
      if (r.conversation.turns[i].from != (i % 2 == 0 ? "human" : "gpt")) __builtin_trap();
  } catch (const vista::serve::ApiError& e) {
    if (e.status() != 400 && e.status() != 404) __builtin_trap();
  }
  return 0;
}
