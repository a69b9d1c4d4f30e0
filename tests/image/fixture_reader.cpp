#include "image/fixture_reader.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vista::image::testing {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

RawSafetensors::RawSafetensors(const std::string& path) : path_(path) {
  const std::string bytes = slurp(path);
  uint64_t header_len = 0;
  if (bytes.size() < 8) throw std::runtime_error(path + ": too short");
  std::memcpy(&header_len, bytes.data(), 8);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_len));
  const size_t base = 8 + header_len;
  for (const auto& [name, spec] : header.items()) {
    if (name == "__metadata__") continue;
    RawTensor t;
    t.dtype = spec.at("dtype").get<std::string>();
    t.shape = spec.at("shape").get<std::vector<int64_t>>();
    const auto offsets = spec.at("data_offsets").get<std::vector<size_t>>();
    t.bytes.assign(bytes.begin() + base + offsets[0], bytes.begin() + base + offsets[1]);
    tensors_[name] = std::move(t);
  }
}

const RawTensor& RawSafetensors::get(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) throw std::runtime_error(path_ + ": no tensor " + name);
  return it->second;
}

ImageU8 RawSafetensors::image(const std::string& name) const {
  const auto& t = get(name);
  if (t.dtype != "U8" || t.shape.size() != 3) throw std::runtime_error(name + ": not a U8 [H, W, C] tensor");
  ImageU8 image;
  image.height = t.shape[0];
  image.width = t.shape[1];
  image.channels = t.shape[2];
  image.pixels = t.bytes;
  return image;
}

std::vector<float> RawSafetensors::floats(const std::string& name) const {
  const auto& t = get(name);
  if (t.dtype != "F32") throw std::runtime_error(name + ": not F32");
  std::vector<float> out(t.bytes.size() / 4);
  std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(slurp(path)); }

DiffStats diff(const ImageU8& a, const ImageU8& b) {
  DiffStats s;
  if (a.pixels.size() != b.pixels.size()) throw std::runtime_error("diff: sizes differ");
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const int d = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    s.max_abs = std::max(s.max_abs, d);
    sum += d;
  }
  s.mean_abs = a.pixels.empty() ? 0.0 : sum / a.pixels.size();
  return s;
}

ImageU8 crop(const ImageU8& image, int64_t y, int64_t x, int64_t h, int64_t w) {
  ImageU8 out = make_image(h, w, image.channels);
  for (int64_t r = 0; r < h; ++r)
    std::memcpy(out.row(r), image.row(y + r) + x * image.channels, static_cast<size_t>(w * image.channels));
  return out;
}

std::string images_v1(const std::string& relative) { return std::string(VISTA_TESTDATA_DIR) + "/images_v1/" + relative; }

}  // namespace vista::image::testing
