#pragma once
// Line charts as PNG (loss curves, similarity, learning rate), drawn in memory with a built-in
// 5x7 font: no plotting library, no fonts on the system needed.
#include <string>
#include <vector>

namespace vista::viz {

struct Series {
  std::string label;
  std::vector<double> x, y;
};

struct PlotOptions {
  std::string title;
  std::string x_label = "step";
  int width = 800, height = 480;
};

// One panel with every series (distinct colours, a legend); non-finite points are skipped.
void write_line_plot(const std::string& path, const std::vector<Series>& series, const PlotOptions& options);

}  // namespace vista::viz
