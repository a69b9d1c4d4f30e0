#pragma once
// Reads the reference fixtures of tests/image without libtorch: raw tensors of a safetensors
// file, the images_v1 manifest, and the extra PIL references under testdata/images_v1/extra.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/image.h"

namespace vista::image::testing {

struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

class RawSafetensors {
 public:
  explicit RawSafetensors(const std::string& path);
  const RawTensor& get(const std::string& name) const;
  bool contains(const std::string& name) const { return tensors_.count(name) > 0; }
  ImageU8 image(const std::string& name) const;     // U8 [H, W, C]
  std::vector<float> floats(const std::string& name) const;  // F32, flattened

 private:
  std::string path_;
  std::map<std::string, RawTensor> tensors_;
};

nlohmann::json read_json(const std::string& path);

struct DiffStats {
  int max_abs = 0;
  double mean_abs = 0.0;
};
// Elementwise |a - b| over two images of the same shape (checked with gtest assertions by callers).
DiffStats diff(const ImageU8& a, const ImageU8& b);
ImageU8 crop(const ImageU8& image, int64_t y, int64_t x, int64_t h, int64_t w);

std::string images_v1(const std::string& relative);  // path under testdata/images_v1

}  // namespace vista::image::testing
