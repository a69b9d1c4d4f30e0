#include "viz/heatmap.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "image/png_write.h"
#include "util/error.h"
#include "viz/canvas.h"

namespace vista::viz {

namespace {
// Stops of matplotlib's viridis (at 0, 0.25, 0.5, 0.75, 1), linearly interpolated.
constexpr double kStops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
}  // namespace

void colour_of(double t, uint8_t rgb[3]) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4.0;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<uint8_t>(std::lround(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c])));
}

void write_heatmaps(const std::string& path, const std::vector<HeatmapPanel>& panels, const HeatmapOptions& o) {
  if (panels.empty()) fail("heatmap {}: nothing to draw", path);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& p : panels) {
    if (p.rows <= 0 || p.cols <= 0 || static_cast<int64_t>(p.values.size()) != p.rows * p.cols)
      fail("heatmap {}: panel '{}' has {} values for a {}x{} grid", path, p.title, p.values.size(), p.rows, p.cols);
    if (p.image.channels != 3 || p.image.height <= 0 || p.image.width <= 0)
      fail("heatmap {}: panel '{}' needs an RGB image", path, p.title);
    for (const double v : p.values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) fail("heatmap {}: no finite value", path);
  if (hi == lo) hi = lo + 1e-12;
  const int64_t side = std::max(panels[0].image.height, panels[0].image.width);
  const int scale = std::max<int>(1, static_cast<int>((o.panel_size + side - 1) / side));
  const int gap = 24, top = 44, bar = 70;
  int width = gap, height = 0;
  for (const auto& p : panels) {
    width += static_cast<int>(p.image.width) * scale + gap;
    height = std::max(height, static_cast<int>(p.image.height) * scale);
  }
  Canvas canvas(width + bar, height + top + 30);
  canvas.text(gap, 10, o.title, kBlack, 2);
  int x = gap;
  for (const auto& p : panels) {
    // Blend every pixel with the colour of the patch it lies in.
    image::ImageU8 blended = p.image;
    for (int64_t r = 0; r < p.image.height; ++r)
      for (int64_t c = 0; c < p.image.width; ++c) {
        const int64_t gr = std::min(p.rows - 1, r * p.rows / p.image.height);
        const int64_t gc = std::min(p.cols - 1, c * p.cols / p.image.width);
        uint8_t colour[3];
        colour_of((p.values[static_cast<size_t>(gr * p.cols + gc)] - lo) / (hi - lo), colour);
        auto* px = blended.row(r) + c * 3;
        for (int k = 0; k < 3; ++k)
          px[k] = static_cast<uint8_t>(std::lround((1 - o.alpha) * px[k] + o.alpha * colour[k]));
      }
    canvas.paste(blended, x, top, scale);
    canvas.text(x, top + static_cast<int>(p.image.height) * scale + 8, p.title, kBlack);
    x += static_cast<int>(p.image.width) * scale + gap;
  }
  // The colour bar: high at the top.
  const int bx = x + 4, bw = 14;
  for (int y = 0; y < height; ++y) {
    uint8_t colour[3];
    colour_of(1.0 - static_cast<double>(y) / std::max(1, height - 1), colour);
    canvas.fill(bx, top + y, bw, 1, colour);
  }
  canvas.text(bx, top - 12, tick(hi), kBlack);
  canvas.text(bx, top + height + 4, tick(lo), kBlack);
  canvas.text(bx - 4, top + height + 16, o.scale_label, kBlack);
  image::write_png(path, canvas.img);
}

}  // namespace vista::viz
