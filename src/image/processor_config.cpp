#include "image/processor_config.h"

#include <fstream>

#include "util/json_file.h"
#include "util/json_node.h"
#include "util/error.h"

namespace vista::image {

namespace {

int64_t positive_integer(const nlohmann::json& v, const std::string& source, const std::string& field) {
  if (!v.is_number_integer() || v.get<int64_t>() <= 0)
    fail("{}: field '{}' must be a positive integer, got {}", source, field, v.dump());
  return v.get<int64_t>();
}

std::array<double, 3> triple(const JsonNode& fields, const std::string& key) {
  const auto& v = fields.raw().at(key);
  if (v.is_number()) return {v.get<double>(), v.get<double>(), v.get<double>()};
  if (!v.is_array() || v.size() != 3)
    fail("{}: field '{}' must be a number or a list of 3 numbers, got {}", fields.location(), key, v.dump());
  std::array<double, 3> out{};
  for (size_t i = 0; i < 3; ++i) {
    if (!v[i].is_number()) fail("{}: field '{}[{}]' must be a number, got {}", fields.location(), key, i, v[i].dump());
    out[i] = v[i].get<double>();
  }
  return out;
}

// "size": {"shortest_edge": N} | {"height": H, "width": W} | N (legacy: shortest edge for CLIP,
// square for SigLIP, as get_size_dict reads it).
void read_size(const JsonNode& fields, ImageProcessorConfig& cfg) {
  const auto& v = fields.raw().at("size");
  const std::string& src = fields.location();
  if (v.is_number()) {
    const int64_t n = positive_integer(v, src, "size");
    cfg.resize_shortest_edge = cfg.kind == ProcessorKind::kClip;
    cfg.shortest_edge = cfg.resize_height = cfg.resize_width = n;
    return;
  }
  if (!v.is_object()) fail("{}: field 'size' must be an object or an integer, got {}", src, v.dump());
  if (v.contains("shortest_edge")) {
    if (cfg.kind == ProcessorKind::kSiglip)
      fail("{}: field 'size' of a SiglipImageProcessor must have height and width, got {}", src, v.dump());
    if (v.contains("longest_edge")) fail("{}: field 'size.longest_edge' is not supported", src);
    cfg.resize_shortest_edge = true;
    cfg.shortest_edge = positive_integer(v["shortest_edge"], src, "size.shortest_edge");
    return;
  }
  if (v.contains("height") && v.contains("width")) {
    cfg.resize_shortest_edge = false;
    cfg.resize_height = positive_integer(v["height"], src, "size.height");
    cfg.resize_width = positive_integer(v["width"], src, "size.width");
    return;
  }
  fail("{}: field 'size' must hold 'shortest_edge' or 'height' and 'width', got {}", src, v.dump());
}

void read_crop_size(const JsonNode& fields, ImageProcessorConfig& cfg) {
  const auto& v = fields.raw().at("crop_size");
  const std::string& src = fields.location();
  if (v.is_number()) {
    cfg.crop_height = cfg.crop_width = positive_integer(v, src, "crop_size");
    return;
  }
  if (!v.is_object() || !v.contains("height") || !v.contains("width"))
    fail("{}: field 'crop_size' must be an integer or hold 'height' and 'width', got {}", src, v.dump());
  cfg.crop_height = positive_integer(v["height"], src, "crop_size.height");
  cfg.crop_width = positive_integer(v["width"], src, "crop_size.width");
}

}  // namespace

ImageProcessorConfig parse_processor_config(const nlohmann::json& config, const std::string& source) {
  const JsonNode fields(config, source);
  ImageProcessorConfig cfg;
  cfg.source = source;
  const std::string type = fields.string_or("image_processor_type", "CLIPImageProcessor");
  if (type == "CLIPImageProcessor") {
    cfg.kind = ProcessorKind::kClip;
  } else if (type == "SiglipImageProcessor") {
    // transformers 4.40 SiglipImageProcessor defaults: 224x224, no crop, IMAGENET_STANDARD mean/std.
    cfg.kind = ProcessorKind::kSiglip;
    cfg.resize_shortest_edge = false;
    cfg.do_center_crop = false;
    cfg.image_mean = {0.5, 0.5, 0.5};
    cfg.image_std = {0.5, 0.5, 0.5};
    cfg.do_convert_rgb = false;
  } else {
    fail("{}: field 'image_processor_type' is '{}', supported: CLIPImageProcessor, SiglipImageProcessor", source,
         type);
  }
  cfg.do_resize = fields.boolean_or("do_resize", cfg.do_resize);
  if (fields.has("size")) read_size(fields, cfg);
  cfg.resample = static_cast<int>(fields.integer_or("resample", cfg.resample));
  if (cfg.resample != 3)
    fail("{}: field 'resample' is {}, only 3 (PIL BICUBIC) is supported", source, cfg.resample);
  if (cfg.kind == ProcessorKind::kClip) {
    cfg.do_center_crop = fields.boolean_or("do_center_crop", cfg.do_center_crop);
    if (fields.has("crop_size")) read_crop_size(fields, cfg);
  } else if (fields.boolean_or("do_center_crop", false)) {
    fail("{}: field 'do_center_crop' is true, which SiglipImageProcessor does not do", source);
  }
  cfg.do_rescale = fields.boolean_or("do_rescale", cfg.do_rescale);
  cfg.rescale_factor = fields.number_or("rescale_factor", cfg.rescale_factor);
  cfg.do_normalize = fields.boolean_or("do_normalize", cfg.do_normalize);
  if (fields.has("image_mean")) cfg.image_mean = triple(fields, "image_mean");
  if (fields.has("image_std")) cfg.image_std = triple(fields, "image_std");
  for (int c = 0; c < 3; ++c)
    if (cfg.do_normalize && cfg.image_std[c] == 0.0) fail("{}: field 'image_std[{}]' is zero", source, c);
  cfg.do_convert_rgb = fields.boolean_or("do_convert_rgb", cfg.do_convert_rgb);
  return cfg;
}

ImageProcessorConfig load_processor_config(const std::string& path) {
  return parse_processor_config(read_json_file(path), path);
}

}  // namespace vista::image

namespace vista::image {

nlohmann::json processor_config_json(const ImageProcessorConfig& c) {
  nlohmann::json j;
  const bool clip = c.kind == ProcessorKind::kClip;
  j["image_processor_type"] = clip ? "CLIPImageProcessor" : "SiglipImageProcessor";
  j["do_resize"] = c.do_resize;
  if (clip && c.resize_shortest_edge) j["size"] = {{"shortest_edge", c.shortest_edge}};
  else j["size"] = {{"height", c.resize_height}, {"width", c.resize_width}};
  j["resample"] = c.resample;
  if (clip) {
    j["do_center_crop"] = c.do_center_crop;
    j["crop_size"] = {{"height", c.crop_height}, {"width", c.crop_width}};
  }
  j["do_rescale"] = c.do_rescale;
  j["rescale_factor"] = c.rescale_factor;
  j["do_normalize"] = c.do_normalize;
  j["image_mean"] = c.image_mean;
  j["image_std"] = c.image_std;
  j["do_convert_rgb"] = c.do_convert_rgb;
  return j;
}

void save_processor_config(const std::string& path, const ImageProcessorConfig& config) {
  std::ofstream out(path);
  out << processor_config_json(config).dump(2) << "\n";
  if (!out) fail("{}: write failed", path);
}

}  // namespace vista::image
