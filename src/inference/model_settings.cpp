#include "inference/model_settings.h"

#include <filesystem>

#include "util/json_file.h"
#include "io/model_companions.h"
#include "util/error.h"

namespace vista::inference {

namespace fs = std::filesystem;

namespace {

// The template whose exported chat_template is exactly `chat_template`; empty when none is.
std::string template_of_chat_template(const std::string& chat_template) {
  for (const char* name : {"vicuna_v1", "phi", "plain"})
    if (io::chat_template_for(name) == chat_template) return name;
  return "";
}

struct Found {
  std::string name, source;
};

Found template_from_folders(const std::string& model_dir, const std::string& tokenizer_dir) {
  for (const auto& dir : {model_dir, tokenizer_dir}) {
    if (dir.empty()) continue;
    const auto path = (fs::path(dir) / "tokenizer_config.json").string();
    if (!fs::exists(path)) continue;
    const auto config = read_json_file(path);
    if (!config.is_object() || !config.contains("chat_template")) continue;
    const auto& chat = config["chat_template"];
    if (!chat.is_string()) fail("{}: field 'chat_template' must be a string, got {}", path, chat.type_name());
    const auto name = template_of_chat_template(chat.get<std::string>());
    if (name.empty())
      fail(
          "{}: the chat_template is none of vista's conversation templates (vicuna_v1, phi, plain); pass "
          "--template NAME to choose one",
          path);
    return {name, path};
  }
  return {};
}

}  // namespace

image::AspectMode parse_aspect_mode(const std::string& name, const std::string& source) {
  if (name == "pad") return image::AspectMode::kPad;
  if (name == "square") return image::AspectMode::kSquare;
  fail("{}: image aspect mode '{}' is not supported (expected pad or square)", source, name);
}

ModelSettings resolve_model_settings(const std::string& model_dir, const std::string& tokenizer_dir,
                                     const io::LlavaConfig& config, const std::string& template_flag,
                                     const std::string& aspect_flag) {
  ModelSettings s;
  if (!template_flag.empty()) {
    s.tmpl = data::get_template(template_flag);
    s.template_source = "--template";
  } else if (auto found = template_from_folders(model_dir, tokenizer_dir); !found.name.empty()) {
    s.tmpl = data::get_template(found.name);
    s.template_source = found.source;
  } else {
    const bool phi = config.text.family == "phi";
    s.tmpl = data::get_template(phi ? "phi" : "vicuna_v1");
    s.template_source =
        fmt::format("no chat_template in {}: the {} decoder's usual template", model_dir, config.text.family);
  }
  if (!aspect_flag.empty()) {
    s.aspect_name = aspect_flag;
    s.aspect_source = "--aspect";
  } else {
    s.aspect_name = config.mm.image_aspect_ratio;
    s.aspect_source = (fs::path(model_dir) / "config.json").string() + " field 'image_aspect_ratio'";
  }
  s.aspect = parse_aspect_mode(s.aspect_name, s.aspect_source);
  return s;
}

}  // namespace vista::inference
