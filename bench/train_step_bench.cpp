// Standalone form of `vista bench train --config FILE`.
#include <fmt/format.h>

#include <iostream>

#include "train/step_bench.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} CONFIG.json [--threads N]\n", argv[0]);
    return 2;
  }
  try {
    const int threads = argc >= 4 && std::string(argv[2]) == "--threads" ? std::stoi(argv[3]) : 0;
    const auto result = vista::train::bench_train_step(argv[1], threads, std::cout);
    fmt::print("{}\n", vista::train::step_bench_json(result));
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  return 0;
}
