#pragma once
// Reading the metrics_v1 reference fixtures (testdata/metrics_v1, copied from the shared fixture set:
// numbers made by the official Python scorers, never by vista) for the scorer tests.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace vista::eval::testing {

inline std::string metrics_dir(const std::string& kind) { return testdata("metrics_v1/" + kind); }

// The lines of <kind>/cases.jsonl, parsed with nlohmann directly (not with the code under test).
inline std::vector<nlohmann::json> fixture_cases(const std::string& kind) {
  std::ifstream in(metrics_dir(kind) + "/cases.jsonl", std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << metrics_dir(kind) << "/cases.jsonl";
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

inline nlohmann::json fixture_expected(const std::string& kind) {
  std::ifstream in(metrics_dir(kind) + "/expected.json", std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << metrics_dir(kind) << "/expected.json";
  return nlohmann::json::parse(in);
}

inline std::vector<std::string> strings(const nlohmann::json& list) { return list.get<std::vector<std::string>>(); }

// Bit-for-bit float equality (what the fixtures require).
inline bool same_bits(double a, double b) {
  uint64_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return x == y;
}

}  // namespace vista::eval::testing

#define EXPECT_BITS_EQ(expected, actual)                                                                   \
  EXPECT_TRUE(::vista::eval::testing::same_bits((expected), (actual)))                                     \
      << "expected " << ::testing::PrintToString(static_cast<double>(expected)) << " (bits), got "        \
      << ::testing::PrintToString(static_cast<double>(actual))
