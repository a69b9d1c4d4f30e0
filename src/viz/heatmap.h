#pragma once
// Values on an image's patch grid drawn over the image (the paper's Figures 2 and 3): one panel per
// model side by side, one colour scale for all panels with a colour bar, so panels compare.
#include <string>
#include <vector>

#include "image/image.h"

namespace vista::viz {

struct HeatmapPanel {
  std::string title;
  image::ImageU8 image;        // RGB, as the model saw it (after pad / crop)
  std::vector<double> values;  // rows x cols, row-major over the patch grid
  int64_t rows = 0, cols = 0;
};

struct HeatmapOptions {
  std::string title;
  std::string scale_label = "cosine";
  double alpha = 0.55;   // how much of each pixel is the colour
  int panel_size = 288;  // each panel is drawn at least this wide
};

// Viridis-like colour of t in [0, 1].
void colour_of(double t, uint8_t rgb[3]);

void write_heatmaps(const std::string& path, const std::vector<HeatmapPanel>& panels, const HeatmapOptions& options);

}  // namespace vista::viz
