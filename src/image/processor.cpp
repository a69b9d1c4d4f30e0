#include "image/processor.h"

#include "image/center_crop.h"
#include "image/pad_square.h"
#include "image/resize.h"
#include "util/error.h"

namespace vista::image {

std::array<int64_t, 2> shortest_edge_output_size(int64_t height, int64_t width, int64_t shortest_edge) {
  if (height <= 0 || width <= 0 || shortest_edge <= 0)
    fail("shortest_edge_output_size: invalid sizes {}x{} -> {}", height, width, shortest_edge);
  const bool width_is_short = width <= height;
  const int64_t short_side = width_is_short ? width : height;
  const int64_t long_side = width_is_short ? height : width;
  // Python: int(requested_new_short * long / short), true division in float64, truncated.
  const auto new_long =
      static_cast<int64_t>(static_cast<double>(shortest_edge * long_side) / static_cast<double>(short_side));
  return width_is_short ? std::array<int64_t, 2>{new_long, shortest_edge}
                        : std::array<int64_t, 2>{shortest_edge, new_long};
}

ImageU8 resize_and_crop(const ImageU8& rgb, const ImageProcessorConfig& config) {
  require_rgb(rgb, config.source);
  if (!config.do_resize) {
    if (config.kind == ProcessorKind::kClip && config.do_center_crop)
      return center_crop(rgb, config.crop_height, config.crop_width);
    return rgb;
  }
  int64_t out_h = config.resize_height, out_w = config.resize_width;
  if (config.resize_shortest_edge) {
    const auto size = shortest_edge_output_size(rgb.height, rgb.width, config.shortest_edge);
    out_h = size[0];
    out_w = size[1];
  }
  ImageU8 resized = resize_bicubic(rgb, out_h, out_w);
  if (config.kind == ProcessorKind::kClip && config.do_center_crop)
    return center_crop(resized, config.crop_height, config.crop_width);
  return resized;
}

NormalizeOptions normalize_options(const ImageProcessorConfig& config) {
  NormalizeOptions options;
  options.do_rescale = config.do_rescale;
  options.rescale_factor = config.rescale_factor;
  options.do_normalize = config.do_normalize;
  options.mean = config.image_mean;
  options.std = config.image_std;
  return options;
}

FloatImage preprocess(const ImageU8& rgb, const ImageProcessorConfig& config) {
  return rescale_normalize(resize_and_crop(rgb, config), normalize_options(config));
}

FloatImage preprocess_for_llava(const ImageU8& rgb, const ImageProcessorConfig& config, AspectMode mode) {
  if (mode == AspectMode::kPad) return preprocess(expand_to_square(rgb, background_from_mean(config.image_mean)), config);
  return preprocess(rgb, config);
}

}  // namespace vista::image
