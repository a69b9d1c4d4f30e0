#include "viz/canvas.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "viz/font5x7.h"

namespace vista::viz {

Canvas::Canvas(int w, int h, uint8_t background) {
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels.assign(static_cast<size_t>(w) * h * 3, background);
}

void Canvas::set(int x, int y, const uint8_t* c) {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  auto* p = img.pixels.data() + (static_cast<size_t>(y) * img.width + x) * 3;
  p[0] = c[0];
  p[1] = c[1];
  p[2] = c[2];
}

void Canvas::line(double x0, double y0, double x1, double y1, const uint8_t* c, int thickness) {
  const int steps = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const int x = static_cast<int>(std::lround(x0 + t * (x1 - x0))),
              y = static_cast<int>(std::lround(y0 + t * (y1 - y0)));
    for (int dx = 0; dx < thickness; ++dx)
      for (int dy = 0; dy < thickness; ++dy) set(x + dx, y + dy, c);
  }
}

void Canvas::fill(int x, int y, int width, int height, const uint8_t* c) {
  for (int dy = 0; dy < height; ++dy)
    for (int dx = 0; dx < width; ++dx) set(x + dx, y + dy, c);
}

void Canvas::text(int x, int y, const std::string& s, const uint8_t* c, int scale) {
  for (char raw : s) {
    const char ch = static_cast<char>(std::toupper(static_cast<unsigned char>(raw)));
    for (const auto& g : kGlyphs) {
      if (g.c != ch) continue;
      for (int r = 0; r < 7; ++r)
        for (int col = 0; col < 5; ++col)
          if (g.rows[r] & (1 << (4 - col)))
            for (int sx = 0; sx < scale; ++sx)
              for (int sy = 0; sy < scale; ++sy) set(x + col * scale + sx, y + r * scale + sy, c);
    }
    x += 6 * scale;
  }
}

void Canvas::paste(const image::ImageU8& rgb, int x, int y, int scale) {
  for (int64_t r = 0; r < rgb.height; ++r)
    for (int64_t col = 0; col < rgb.width; ++col)
      fill(x + static_cast<int>(col) * scale, y + static_cast<int>(r) * scale, scale, scale,
           rgb.row(r) + col * rgb.channels);
}

std::string tick(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e4 || a < 1e-2) return fmt::format("{:.1e}", v);
  if (a >= 100) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3g}", v);
}

}  // namespace vista::viz
