#include "viz/line_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "image/png_write.h"
#include "util/error.h"
#include "viz/canvas.h"

namespace vista::viz {

namespace {

const uint8_t kPalette[][3] = {{31, 119, 180},  {214, 39, 40},  {44, 160, 44},
                               {148, 103, 189}, {255, 127, 14}, {23, 190, 207}};
const uint8_t kGrid[3] = {225, 225, 225};

}  // namespace

void write_line_plot(const std::string& path, const std::vector<Series>& series, const PlotOptions& o) {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  if (!std::isfinite(xmin)) fail("plot {}: no finite points to draw", path);
  if (xmax == xmin) xmax = xmin + 1;
  if (ymax == ymin) ymax = ymin + 1;
  const double pad = 0.05 * (ymax - ymin);
  ymin -= pad;
  ymax += pad;
  Canvas canvas(o.width, o.height);
  const int left = 70, right = o.width - 20, top = 40, bottom = o.height - 50;
  auto px = [&](double x) { return left + (x - xmin) / (xmax - xmin) * (right - left); };
  auto py = [&](double y) { return bottom - (y - ymin) / (ymax - ymin) * (bottom - top); };
  for (int i = 0; i <= 5; ++i) {
    const double yv = ymin + (ymax - ymin) * i / 5.0, xv = xmin + (xmax - xmin) * i / 5.0;
    canvas.line(left, py(yv), right, py(yv), kGrid);
    canvas.line(px(xv), top, px(xv), bottom, kGrid);
    const auto ylabel = tick(yv);
    canvas.text(left - 6 - static_cast<int>(ylabel.size()) * 6, static_cast<int>(py(yv)) - 3, ylabel, kBlack);
    const auto xlabel = tick(xv);
    canvas.text(static_cast<int>(px(xv)) - static_cast<int>(xlabel.size()) * 3, bottom + 8, xlabel, kBlack);
  }
  canvas.line(left, top, left, bottom, kBlack);
  canvas.line(left, bottom, right, bottom, kBlack);
  canvas.text(left, 12, o.title, kBlack, 2);
  canvas.text((left + right) / 2 - static_cast<int>(o.x_label.size()) * 3, bottom + 24, o.x_label, kBlack);
  for (size_t k = 0; k < series.size(); ++k) {
    const auto* colour = kPalette[k % std::size(kPalette)];
    const auto& s = series[k];
    bool have_prev = false;
    double prev_x = 0, prev_y = 0;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        have_prev = false;
        continue;
      }
      const double x = px(s.x[i]), y = py(s.y[i]);
      if (have_prev) canvas.line(prev_x, prev_y, x, y, colour, 2);
      else canvas.line(x, y, x, y, colour, 2);
      prev_x = x;
      prev_y = y;
      have_prev = true;
    }
    const int ly = top + 6 + static_cast<int>(k) * 12;
    canvas.line(right - 150, ly + 3, right - 130, ly + 3, colour, 2);
    canvas.text(right - 124, ly, s.label, kBlack);
  }
  image::write_png(path, canvas.img);
}

}  // namespace vista::viz
