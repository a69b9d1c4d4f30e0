// Image preprocessing throughput: LLaVA-1.5's CLIP "pad" pipeline at 336 px (expand2square ->
// PIL-exact bicubic resize -> center crop -> rescale/normalize to CHW float32), one thread.
//
//   vista_bench_image [--seconds S] [FILE ...]     (default: the PNG/JPEG files of
//                                                  testdata/images_v1/images)
//
// Prints images/s for decoding alone, preprocessing alone (decode excluded) and both (decode
// included), interleaved in rounds so that all three see the same machine state; the median of
// the rounds is reported, with the decode share of the end-to-end time as the in-run ratio,
// and a JSON line for scripts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "image/decode.h"
#include "image/processor.h"
#include "image/processor_config.h"
#include "util/error.h"

namespace {

using Clock = std::chrono::steady_clock;
using vista::image::ImageU8;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

vista::image::ImageProcessorConfig clip_336() {
  // openai/clip-vit-large-patch14-336 preprocessor_config.json
  return vista::image::parse_processor_config(
      {{"image_processor_type", "CLIPImageProcessor"},
       {"size", {{"shortest_edge", 336}}},
       {"crop_size", {{"height", 336}, {"width", 336}}},
       {"resample", 3},
       {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
       {"image_std", {0.26862954, 0.26130258, 0.27577711}}},
      "clip-vit-large-patch14-336");
}

// Runs fn over every item until at least `seconds` passed; returns items per second.
template <typename Fn>
double throughput(size_t items, double seconds, Fn&& fn) {
  size_t done = 0;
  const auto start = Clock::now();
  double elapsed = 0.0;
  do {
    for (size_t i = 0; i < items; ++i) fn(i);
    done += items;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(done) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    double seconds = 1.0;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--seconds" && i + 1 < argc) {
        seconds = std::atof(argv[++i]);
      } else {
        files.push_back(arg);
      }
    }
    if (files.empty()) {
      const std::string folder = std::string(VISTA_TESTDATA_DIR) + "/images_v1/images";
      for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        const auto name = entry.path().filename().string();
        if (name.rfind("bad_", 0) == 0) continue;
        files.push_back(entry.path().string());
      }
      std::sort(files.begin(), files.end());
    }
    const auto config = clip_336();
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<ImageU8> decoded;
    int64_t pixels = 0;
    for (const auto& f : files) {
      bytes.push_back(vista::image::read_file_bytes(f));
      decoded.push_back(vista::image::decode_image(bytes.back(), f));
      pixels += decoded.back().height * decoded.back().width;
    }
    fmt::print("image_bench: {} files, {:.0f} kpixels on average, CLIP pad pipeline at 336 px, 1 thread, {} s x 5 rounds\n",
               files.size(), pixels / 1000.0 / static_cast<double>(files.size()), seconds);

    volatile float sink = 0.0f;
    const auto mode = vista::image::AspectMode::kPad;
    std::vector<double> decode_only, preprocess_only, end_to_end;
    for (int round = 0; round < 5; ++round) {
      decode_only.push_back(throughput(files.size(), seconds, [&](size_t i) {
        sink = sink + vista::image::decode_image(bytes[i], files[i]).pixels[0];
      }));
      preprocess_only.push_back(throughput(files.size(), seconds, [&](size_t i) {
        sink = sink + vista::image::preprocess_for_llava(decoded[i], config, mode).values[0];
      }));
      end_to_end.push_back(throughput(files.size(), seconds, [&](size_t i) {
        sink = sink + vista::image::preprocess_for_llava(vista::image::decode_image(bytes[i], files[i]), config, mode)
                          .values[0];
      }));
    }
    const double dec = median(decode_only), pre = median(preprocess_only), e2e = median(end_to_end);
    fmt::print("  decode only                 {:8.1f} images/s  ({:.2f} ms/image)\n", dec, 1000.0 / dec);
    fmt::print("  preprocess, decode excluded {:8.1f} images/s  ({:.2f} ms/image)\n", pre, 1000.0 / pre);
    fmt::print("  preprocess, decode included {:8.1f} images/s  ({:.2f} ms/image)\n", e2e, 1000.0 / e2e);
    fmt::print("  decode share of end-to-end time: {:.0f}%\n", 100.0 * (1000.0 / dec) / (1000.0 / e2e));
    fmt::print("{{\"bench\": \"image_preprocess\", \"size\": 336, \"pipeline\": \"clip_pad\", \"threads\": 1, "
               "\"decode_images_per_s\": {:.1f}, \"preprocess_images_per_s\": {:.1f}, "
               "\"end_to_end_images_per_s\": {:.1f}}}\n",
               dec, pre, e2e);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "image_bench: %s\n", e.what());
    return 2;
  }
}
