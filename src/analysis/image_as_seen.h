#pragma once
// The image a model saw: its preprocessed pixels (after pad or crop and normalisation) turned back
// into 8-bit RGB, so that pictures drawn on the patch grid line up with what the tower read.
#include "image/image.h"
#include "image/normalize.h"
#include "image/processor_config.h"

namespace vista::analysis {

image::ImageU8 image_as_seen(const image::FloatImage& processed, const image::ImageProcessorConfig& processor);

}  // namespace vista::analysis
