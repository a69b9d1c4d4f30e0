#pragma once
// An RGB drawing surface for the pictures vista writes: pixels, lines, 5x7 text, pasted images.
#include <cstdint>
#include <string>

#include "image/image.h"

namespace vista::viz {

inline constexpr uint8_t kBlack[3] = {0, 0, 0};

struct Canvas {
  image::ImageU8 img;
  Canvas(int width, int height, uint8_t background = 255);
  void set(int x, int y, const uint8_t* rgb);
  void line(double x0, double y0, double x1, double y1, const uint8_t* rgb, int thickness = 1);
  void fill(int x, int y, int width, int height, const uint8_t* rgb);
  // Upper-case 5x7 glyphs, 6 * scale pixels per character.
  void text(int x, int y, const std::string& s, const uint8_t* rgb, int scale = 1);
  // An RGB image at (x, y), each pixel drawn as a scale x scale block.
  void paste(const image::ImageU8& rgb, int x, int y, int scale = 1);
};

// Short tick labels: 0, 0.123, 12.3, 1.2e+04.
std::string tick(double v);

}  // namespace vista::viz
