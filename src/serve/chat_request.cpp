#include "serve/chat_request.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "serve/base64.h"

namespace vista::serve {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string strip(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\n\r\f\v");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\n\r\f\v") - begin + 1);
}

double number_in(const json& body, const char* key, double fallback, double lo, double hi) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  const auto& v = body[key];
  if (!v.is_number()) throw bad_request(fmt::format("'{}' must be a number, got {}", key, v.dump()), key);
  const double x = v.get<double>();
  if (!(x >= lo && x <= hi))
    throw bad_request(fmt::format("'{}' is {}, expected a value in [{}, {}]", key, x, lo, hi), key);
  return x;
}

std::optional<int64_t> integer(const json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) return std::nullopt;
  const auto& v = body[key];
  if (!v.is_number_integer()) throw bad_request(fmt::format("'{}' must be an integer, got {}", key, v.dump()), key);
  return v.get<int64_t>();
}

bool boolean(const json& body, const char* key, bool fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  if (!body[key].is_boolean())
    throw bad_request(fmt::format("'{}' must be true or false, got {}", key, body[key].dump()), key);
  return body[key].get<bool>();
}

std::string read_media_file(const std::string& url, const RequestLimits& limits, const std::string& where) {
  if (limits.allowed_media_dir.empty())
    throw bad_request(
        fmt::format("{}: file:// images are disabled (the server was started without --allowed-media-dir)", where),
        where);
  std::error_code ec;
  const auto root = fs::weakly_canonical(limits.allowed_media_dir, ec);
  const auto path = fs::weakly_canonical(url.substr(7), ec);
  const auto relative = path.lexically_relative(root);
  if (ec || relative.empty() || *relative.begin() == "..")
    throw bad_request(fmt::format("{}: '{}' is outside the allowed media folder", where, url), where);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw bad_request(fmt::format("{}: cannot read '{}'", where, url), where);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (bytes.str().size() > limits.max_image_bytes)
    throw bad_request(fmt::format("{}: '{}' is over {} bytes", where, url, limits.max_image_bytes), where);
  return bytes.str();
}

std::string image_bytes(const std::string& url, const RequestLimits& limits, const std::string& where) {
  if (url.rfind("data:", 0) == 0) {
    const auto comma = url.find(',');
    if (comma == std::string::npos || url.substr(0, comma).find(";base64") == std::string::npos)
      throw bad_request(fmt::format("{}: expected a base64 data URL (data:image/png;base64,...)", where), where);
    if (url.size() - comma - 1 > limits.max_image_bytes / 3 * 4 + 4)
      throw bad_request(fmt::format("{}: image is over {} bytes", where, limits.max_image_bytes), where);
    auto bytes = decode_base64(std::string_view(url).substr(comma + 1));
    if (!bytes) throw bad_request(fmt::format("{}: the data URL is not valid base64", where), where);
    return *bytes;
  }
  if (url.rfind("file://", 0) == 0) return read_media_file(url, limits, where);
  throw bad_request(
      fmt::format("{}: only data: URLs{} are accepted; the server fetches nothing from the network", where,
                  limits.allowed_media_dir.empty() ? "" : " and file:// URLs below the media folder"),
      where);
}

// A message's text, and its images appended to `images`.
std::string message_content(const json& content, const std::string& role, const std::string& where,
                            const RequestLimits& limits, ChatRequest& request, int64_t* images_here) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array())
    throw bad_request(fmt::format("{}.content must be a string or an array of content parts", where), where);
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const auto part_where = fmt::format("{}.content[{}]", where, i);
    const auto& part = content[i];
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      throw bad_request(fmt::format("{} must be an object with a string 'type'", part_where), part_where);
    const auto type = part["type"].get<std::string>();
    if (type == "text") {
      if (!part.contains("text") || !part["text"].is_string())
        throw bad_request(fmt::format("{}.text must be a string", part_where), part_where);
      if (!text.empty()) text += "\n";
      text += part["text"].get<std::string>();
    } else if (type == "image_url") {
      if (role != "user")
        throw bad_request(fmt::format("{}: only user messages can hold images", part_where), part_where);
      const auto& image = part.contains("image_url") ? part["image_url"] : json();
      const json& url = image.is_object() && image.contains("url") ? image["url"] : image;
      if (!url.is_string()) throw bad_request(fmt::format("{}.image_url.url must be a string", part_where), part_where);
      if (static_cast<int64_t>(request.images.size()) >= limits.max_images)
        throw bad_request(fmt::format("{}: more than {} image{} in one request", part_where, limits.max_images,
                                      limits.max_images == 1 ? "" : "s"),
                          part_where);
      request.images.push_back({image_bytes(url.get<std::string>(), limits, part_where), part_where});
      ++*images_here;
    } else {
      throw bad_request(
          fmt::format("{}: content part type '{}' is not supported (expected text or image_url)", part_where, type),
          part_where);
    }
  }
  return text;
}

std::vector<std::string> stop_strings(const json& body) {
  if (!body.contains("stop") || body["stop"].is_null()) return {};
  const auto& stop = body["stop"];
  std::vector<std::string> out;
  if (stop.is_string()) out.push_back(stop.get<std::string>());
  else if (stop.is_array() && stop.size() <= 4)
    for (const auto& s : stop) {
      if (!s.is_string()) throw bad_request("'stop' must be a string or an array of up to 4 strings", "stop");
      out.push_back(s.get<std::string>());
    }
  else throw bad_request("'stop' must be a string or an array of up to 4 strings", "stop");
  for (const auto& s : out)
    if (s.empty()) throw bad_request("'stop' strings must not be empty", "stop");
  return out;
}

}  // namespace

ChatRequest parse_chat_request(const std::string& body_text, const RequestLimits& limits) {
  json body;
  try {
    body = json::parse(body_text);
  } catch (const json::exception& e) {
    throw bad_request(fmt::format("the body is not valid JSON: {}", e.what()));
  }
  if (!body.is_object()) throw bad_request("the body must be a JSON object");
  ChatRequest r;
  if (body.contains("model") && !body["model"].is_null()) {
    if (!body["model"].is_string()) throw bad_request("'model' must be a string", "model");
    r.model = body["model"].get<std::string>();
  }
  for (const char* unsupported : {"tools", "functions", "tool_choice", "logit_bias"})
    if (body.contains(unsupported) && !body[unsupported].is_null() &&
        !(body[unsupported].is_array() && body[unsupported].empty()))
      throw bad_request(fmt::format("'{}' is not supported by this server", unsupported), unsupported);
  if (boolean(body, "logprobs", false)) throw bad_request("'logprobs' is not supported by this server", "logprobs");
  if (const auto n = integer(body, "n"); n && *n != 1) throw bad_request("'n' must be 1", "n");

  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
    throw bad_request("'messages' must be a non-empty array", "messages");
  const auto& messages = body["messages"];
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto where = fmt::format("messages[{}]", i);
    const auto& m = messages[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      throw bad_request(fmt::format("{} must be an object with a string 'role'", where), where);
    const auto role = m["role"].get<std::string>();
    if (role != "system" && role != "developer" && role != "user" && role != "assistant")
      throw bad_request(fmt::format("{}.role '{}' is not supported (expected system, user or assistant)", where, role),
                        where);
    if (!m.contains("content") || m["content"].is_null())
      throw bad_request(fmt::format("{}.content is missing", where), where);
    int64_t images_here = 0;
    const auto text = message_content(m["content"], role, where, limits, r, &images_here);
    if (text.find(data::kImageToken) != std::string::npos)
      throw bad_request(fmt::format("{}: the text holds '<image>'; send images as image_url parts", where), where);
    if (role == "system" || role == "developer") {
      if (!r.conversation.turns.empty())
        throw bad_request(fmt::format("{}: a system message must come before the conversation", where), where);
      r.system = r.system ? *r.system + "\n" + text : text;
      continue;
    }
    // As LLaVA's training data has it: the images first, each "<image>\n", then the stripped text.
    std::string value;
    for (int64_t k = 0; k < images_here; ++k) value += std::string(data::kImageToken) + "\n";
    value += images_here > 0 ? strip(text) : text;
    const std::string from = role == "user" ? "human" : "gpt";
    auto& turns = r.conversation.turns;
    if (!turns.empty() && turns.back().from == from) {
      turns.back().value += "\n" + value;  // consecutive messages of one role are one turn
    } else {
      if (turns.empty() && from == "gpt")
        throw bad_request(fmt::format("{}: the conversation must begin with a user message", where), where);
      turns.push_back({from, value});
    }
  }
  if (r.conversation.turns.empty() || r.conversation.turns.back().from != "human")
    throw bad_request("the last message must be a user message", "messages");

  const auto max_tokens =
      integer(body, "max_completion_tokens") ? integer(body, "max_completion_tokens") : integer(body, "max_tokens");
  if (max_tokens) {
    if (*max_tokens < 1)
      throw bad_request(fmt::format("'max_tokens' is {}, expected at least 1", *max_tokens), "max_tokens");
    r.max_tokens = *max_tokens;
  }
  r.sampling.temperature = number_in(body, "temperature", 1.0, 0.0, 2.0);
  r.sampling.top_p = number_in(body, "top_p", 1.0, 0.0, 1.0);
  if (r.sampling.top_p <= 0) throw bad_request("'top_p' must be above 0", "top_p");
  if (const auto k = integer(body, "top_k")) {
    if (*k < 0) throw bad_request("'top_k' must be 0 (off) or positive", "top_k");
    r.sampling.top_k = *k;
  }
  if (const auto seed = integer(body, "seed")) r.sampling.seed = static_cast<uint64_t>(*seed);
  r.stop = stop_strings(body);
  r.stream = boolean(body, "stream", false);
  r.ignore_eos = boolean(body, "ignore_eos", false);
  if (body.contains("stream_options") && !body["stream_options"].is_null()) {
    const auto& options = body["stream_options"];
    if (!options.is_object()) throw bad_request("'stream_options' must be an object", "stream_options");
    if (!r.stream) throw bad_request("'stream_options' needs 'stream': true", "stream_options");
    r.include_usage = boolean(options, "include_usage", false);
  }
  return r;
}

}  // namespace vista::serve
