#pragma once
// CLIPImageProcessor / SiglipImageProcessor.preprocess (transformers 4.40) on an RGB image, and
// LLaVA's image_aspect_ratio handling in front of it.
//   CLIP:   resize (shortest edge -> N, other edge int(N * long / short), PIL bicubic) ->
//           center crop -> rescale -> normalize -> CHW float32
//   SigLIP: resize to height x width (PIL bicubic) -> rescale -> normalize -> CHW float32
#include <array>
#include <cstdint>

#include "image/image.h"
#include "image/normalize.h"
#include "image/processor_config.h"

namespace vista::image {

enum class AspectMode {
  kSquare,  // the processor alone ("square" in LLaVA, TinyLLaVA)
  kPad,     // expand2square with background int(255 * image_mean) first (LLaVA "pad")
};

// get_resize_output_image_size(size=shortest_edge, default_to_square=False): {height, width}.
std::array<int64_t, 2> shortest_edge_output_size(int64_t height, int64_t width, int64_t shortest_edge);

// Resize (+ center crop for CLIP): the uint8 image the processor rescales next.
ImageU8 resize_and_crop(const ImageU8& rgb, const ImageProcessorConfig& config);

NormalizeOptions normalize_options(const ImageProcessorConfig& config);

// The processor's pixel_values for one image: [3, H, W] float32.
FloatImage preprocess(const ImageU8& rgb, const ImageProcessorConfig& config);

// The LLaVA pipeline: optional expand2square, then the processor.
FloatImage preprocess_for_llava(const ImageU8& rgb, const ImageProcessorConfig& config, AspectMode mode);

}  // namespace vista::image
