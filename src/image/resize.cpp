#include "image/resize.h"

#include <cmath>
#include <vector>

#include "util/error.h"

namespace vista::image {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr double kBicubicSupport = 2.0;

// Same operations in the same order as PIL's bicubic_filter (a = -0.5), so doubles match bit for bit.
double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Taps of one axis: output i reads input [start[i], start[i] + count[i]) with weights[i * ksize + k].
struct Taps {
  int ksize = 0;
  std::vector<int> start, count;
  std::vector<int32_t> weights;
};

Taps precompute_taps(int in_size, int out_size) {
  // PIL passes the box as floats; in1 - in0 is exact for any realistic size.
  const float in0 = 0.0f, in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = kBicubicSupport * filterscale;
  Taps taps;
  taps.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.start.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(static_cast<size_t>(out_size) * taps.ksize, 0);
  std::vector<double> k(taps.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    for (int x = 0; x < xmax; ++x) {
      const double w = bicubic_filter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
    }
    int32_t* fixed = taps.weights.data() + static_cast<size_t>(xx) * taps.ksize;
    for (int x = 0; x < xmax; ++x) {
      const double v = k[x] * (1 << kPrecisionBits);
      fixed[x] = static_cast<int32_t>(k[x] < 0 ? -0.5 + v : 0.5 + v);
    }
    taps.start[xx] = xmin;
    taps.count[xx] = xmax;
  }
  return taps;
}

inline uint8_t clip8(int32_t acc) {
  const int32_t v = acc >> kPrecisionBits;  // arithmetic shift, as PIL's lookup index
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Horizontal pass over input rows [row0, row0 + rows).
template <int C>
void resample_horizontal(const ImageU8& in, int64_t row0, int64_t rows, const Taps& taps, ImageU8& out) {
  const int64_t out_w = out.width;
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* src = in.row(row0 + y);
    uint8_t* dst = out.row(y);
    for (int64_t xx = 0; xx < out_w; ++xx) {
      const int32_t* k = taps.weights.data() + xx * taps.ksize;
      const uint8_t* p = src + static_cast<int64_t>(taps.start[xx]) * C;
      const int n = taps.count[xx];
      int32_t acc[C];
      for (int c = 0; c < C; ++c) acc[c] = 1 << (kPrecisionBits - 1);
      for (int x = 0; x < n; ++x)
        for (int c = 0; c < C; ++c) acc[c] += p[x * C + c] * k[x];
      for (int c = 0; c < C; ++c) dst[xx * C + c] = clip8(acc[c]);
    }
  }
}

// Vertical pass; `row_shift` is subtracted from the tap starts (rows skipped by the first pass).
template <int C>
void resample_vertical(const ImageU8& in, const Taps& taps, int row_shift, ImageU8& out) {
  const int64_t row_len = in.width * C;
  std::vector<int32_t> acc(static_cast<size_t>(row_len));
  for (int64_t yy = 0; yy < out.height; ++yy) {
    const int32_t* k = taps.weights.data() + yy * taps.ksize;
    const int start = taps.start[yy] - row_shift;
    const int n = taps.count[yy];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int y = 0; y < n; ++y) {
      const uint8_t* src = in.row(start + y);
      const int32_t w = k[y];
      for (int64_t i = 0; i < row_len; ++i) acc[i] += src[i] * w;
    }
    uint8_t* dst = out.row(yy);
    for (int64_t i = 0; i < row_len; ++i) dst[i] = clip8(acc[i]);
  }
}

template <int C>
ImageU8 resize_impl(const ImageU8& image, int out_h, int out_w) {
  const bool need_horizontal = out_w != image.width;
  const bool need_vertical = out_h != image.height;
  const Taps vertical = precompute_taps(static_cast<int>(image.height), out_h);
  // Rows of the source the vertical pass reads.
  const int row_first = vertical.start[0];
  const int row_last = vertical.start[out_h - 1] + vertical.count[out_h - 1];

  ImageU8 horizontal_out;
  const ImageU8* current = &image;
  int row_shift = 0;
  if (need_horizontal) {
    const Taps horizontal = precompute_taps(static_cast<int>(image.width), out_w);
    horizontal_out = make_image(row_last - row_first, out_w, C);
    resample_horizontal<C>(image, row_first, row_last - row_first, horizontal, horizontal_out);
    current = &horizontal_out;
    row_shift = row_first;
  }
  if (need_vertical) {
    ImageU8 out = make_image(out_h, current->width, C);
    resample_vertical<C>(*current, vertical, row_shift, out);
    return out;
  }
  if (need_horizontal) return horizontal_out;  // row_first = 0 and all rows when heights match
  return image;
}

}  // namespace

ImageU8 resize_bicubic(const ImageU8& image, int64_t out_height, int64_t out_width) {
  if (image.height <= 0 || image.width <= 0 || image.channels <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.height * image.width * image.channels))
    fail("resize_bicubic: invalid input image {}", image_shape(image));
  if (out_height <= 0 || out_width <= 0 || out_height > (1 << 20) || out_width > (1 << 20))
    fail("resize_bicubic: invalid output size {}x{} (height x width)", out_height, out_width);
  const int h = static_cast<int>(out_height), w = static_cast<int>(out_width);
  switch (image.channels) {
    case 1: return resize_impl<1>(image, h, w);
    case 2: return resize_impl<2>(image, h, w);
    case 3: return resize_impl<3>(image, h, w);
    case 4: return resize_impl<4>(image, h, w);
    default: fail("resize_bicubic: {} channels not supported (1 to 4)", image.channels);
  }
}

}  // namespace vista::image
