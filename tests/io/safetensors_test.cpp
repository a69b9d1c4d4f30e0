#include "io/safetensors.h"

#include <cstring>

#include "test_util.h"
#include "util/error.h"

using vista::io::SafetensorsFile;

namespace {

// A safetensors file from a raw header text and a data buffer of n bytes.
std::string make_file(const std::string& header, size_t data_bytes, uint64_t declared_len = UINT64_MAX) {
  const uint64_t len = declared_len == UINT64_MAX ? header.size() : declared_len;
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &len, 8);
  bytes += header;
  bytes += std::string(data_bytes, '\x01');
  return bytes;
}

}  // namespace

TEST(Safetensors, RoundTripsEveryDtype) {
  TempDir dir;
  std::map<std::string, torch::Tensor> tensors = {
      {"f32", torch::randn({2, 3})},
      {"f16", torch::randn({3}).to(torch::kFloat16)},
      {"bf16", torch::randn({2, 2}).to(torch::kBFloat16)},
      {"i64", torch::arange(5)},
      {"i32", torch::arange(4).to(torch::kInt32)},
      {"u8", torch::arange(7).to(torch::kUInt8)},
      {"bool", torch::tensor({true, false, true})},
      {"empty", torch::zeros({0, 4})},
      {"scalar", torch::tensor(3.5f).reshape({})},
  };
  vista::io::save_safetensors(dir.file("t.safetensors"), tensors, {{"format", "pt"}});
  const auto file = SafetensorsFile::open(dir.file("t.safetensors"));
  EXPECT_EQ(file.metadata().at("format"), "pt");
  ASSERT_EQ(file.entries().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    const auto loaded = file.tensor(name);
    EXPECT_EQ(loaded.scalar_type(), t.scalar_type()) << name;
    EXPECT_EQ(loaded.sizes(), t.sizes()) << name;
    EXPECT_TRUE(torch::equal(loaded, t)) << name;
  }
}

TEST(Safetensors, ReadsTheFixtureModel) {
  const auto file = SafetensorsFile::open(testdata("oracle_v1/llama/model/model.safetensors"));
  EXPECT_EQ(file.entries().size(), 21u);
  EXPECT_EQ(file.tensor("model.embed_tokens.weight").sizes(), (std::vector<int64_t>{256, 64}));
}

TEST(Safetensors, RejectsFileShorterThanHeaderLength) {
  TempDir dir;
  write_file(dir.file("a"), "abc");
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "too short"});
}

TEST(Safetensors, RejectsHeaderLengthPastEndOfFile) {
  TempDir dir;
  write_file(dir.file("a"), make_file("{}", 0, 1000));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "header length 1000", "past the end"});
}

TEST(Safetensors, RejectsInvalidJson) {
  TempDir dir;
  write_file(dir.file("a"), make_file("{\"x\": [1, 2", 0));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "not valid JSON"});
}

TEST(Safetensors, RejectsOffsetsOutsideData) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "'w'", "outside the data buffer"});
}

TEST(Safetensors, RejectsOverlappingOffsets) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "overlaps"});
}

TEST(Safetensors, RejectsReversedOffsets) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "begin 8 > end 0"});
}

TEST(Safetensors, RejectsHoleInData) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "hole"});
}

TEST(Safetensors, RejectsTrailingBytes) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "index only 4"});
}

TEST(Safetensors, RejectsUnknownDtype) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"a":{"dtype":"F8_E4M3X","shape":[1],"data_offsets":[0,1]}})", 1));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "unknown dtype 'F8_E4M3X'"});
}

TEST(Safetensors, RejectsByteCountNotMatchingShape) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "byte count 8", "[3]", "12 bytes expected"});
}

TEST(Safetensors, RejectsAShapeWhoseByteCountWrapsAround) {
  // 4 bytes x 2^32 x 2^32 is 2^66: in 64 bits it wraps to 0 and would match an empty range.
  TempDir dir;
  write_file(dir.file("a"),
             make_file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {dir.file("a"), "too large"});
  // A later zero does not help: libtorch computes the partial products too.
  write_file(dir.file("b"),
             make_file(R"({"b":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})", 0));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("b")); }, {dir.file("b"), "too large"});
  write_file(dir.file("c"), make_file(R"({"c":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]}})", 0));
  EXPECT_EQ(SafetensorsFile::open(dir.file("c")).tensor("c").numel(), 0);
}

TEST(Safetensors, RejectsNegativeShapeAndMissingFields) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", 0));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {"'shape'", "non-negative"});
  write_file(dir.file("b"), make_file(R"({"a":{"dtype":"F32","shape":[1]}})", 4));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("b")); }, {dir.file("b"), "missing field 'data_offsets'"});
}

TEST(Safetensors, RejectsDuplicateNames) {
  TempDir dir;
  write_file(dir.file("a"), make_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                      R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2));
  expect_error_containing([&] { SafetensorsFile::open(dir.file("a")); }, {"names tensor 'a' twice"});
}

TEST(Safetensors, RejectsMissingFile) {
  expect_error_containing([] { SafetensorsFile::open("/nonexistent/x.safetensors"); }, {"/nonexistent/x.safetensors", "cannot open"});
}
