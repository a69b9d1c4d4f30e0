#include <filesystem>
#include <fstream>
#include <set>

#include "data/collate.h"
#include "data/data_check.h"
#include "data/sampler.h"
#include "data/shapes.h"
#include "test_util.h"

using namespace vista::data;
namespace fs = std::filesystem;

namespace {

ShapesOptions small_shapes() {
  ShapesOptions o;
  o.pretrain_records = 6;
  o.finetune_records = 12;
  o.text_only_records = 3;
  o.eval_records = 6;
  return o;
}

DatasetOptions options_for(const std::string& data, const std::string& images, int64_t max_length = 512) {
  DatasetOptions o;
  o.data_path = data;
  o.image_root = images;
  o.template_name = "vicuna_v1";
  o.processor.shortest_edge = o.processor.crop_height = o.processor.crop_width = 32;
  o.max_length = max_length;
  o.image_tokens = 16;
  return o;
}

std::shared_ptr<const vista::text::Tokenizer> tokenizer() {
  static auto t = std::make_shared<const vista::text::Tokenizer>(vista::text::Tokenizer::from_dir(testdata("tokenizers/mistral7b")));
  return t;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST(Shapes, SameSeedSameBytes) {
  TempDir a, b;
  generate_shapes(a.path(), small_shapes());
  generate_shapes(b.path(), small_shapes());
  for (const auto* f : {"pretrain.json", "finetune.json", "eval.jsonl", "images/shape_00003.png"})
    EXPECT_EQ(read(a.file(f)), read(b.file(f))) << f;
  auto other = small_shapes();
  other.seed = 1;
  TempDir c;
  generate_shapes(c.path(), other);
  EXPECT_NE(read(a.file("finetune.json")), read(c.file("finetune.json")));
}

TEST(Shapes, EvalSplitHasAnswersAndPreambleLengths) {
  TempDir dir;
  const auto files = generate_shapes(dir.path(), small_shapes());
  std::ifstream in(files.eval_jsonl);
  std::set<int64_t> preambles;
  size_t n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_TRUE(fs::exists(fs::path(files.images) / j["image"].get<std::string>()));
    EXPECT_FALSE(j["answer"].get<std::string>().empty());
    preambles.insert(j["preamble_words"].get<int64_t>());
  }
  EXPECT_EQ(n, 6u);
  EXPECT_EQ(preambles, (std::set<int64_t>{0, 32, 96}));
}

TEST(DataCheck, CleanShapesDataHasNoErrors) {
  TempDir dir;
  const auto files = generate_shapes(dir.path(), small_shapes());
  const LlavaDataset dataset(options_for(files.finetune_json, files.images), tokenizer());
  const auto report = check_dataset(dataset);
  EXPECT_EQ(report.errors(), 0u);
  EXPECT_EQ(report.records, 15u);
  EXPECT_EQ(report.text_records, 3u);
  EXPECT_EQ(report.ok, 15u);
}

TEST(DataCheck, BrokenCopyReportsEveryProblemByRecordId) {
  TempDir dir;
  const auto files = generate_shapes(dir.path(), small_shapes());
  auto records = nlohmann::json::parse(read(files.finetune_json));
  // 0: missing image; 1: truncated image; 2: conversation without a reply; 3: over-long text;
  // 4: image placeholder beyond max_length; plus one line that is not JSON.
  fs::remove(fs::path(files.images) / records[0]["image"].get<std::string>());
  {
    const auto path = (fs::path(files.images) / records[1]["image"].get<std::string>()).string();
    const auto bytes = read(path);
    write_file(path, bytes.substr(0, bytes.size() / 2));
  }
  records[2]["conversations"].erase(records[2]["conversations"].size() - 1);
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "word ";
  records[3]["conversations"][1]["value"] = long_text;
  records[4]["conversations"][0]["value"] = long_text + "<image>";  // normalisation moves it to the front ...
  records[4]["conversations"][0]["value"] = "<image>\n" + long_text;
  std::string jsonl;
  for (size_t i = 0; i < records.size(); ++i) {
    jsonl += records[i].dump() + "\n";
    if (i == 5) jsonl += "{\"id\": \"broken-line\", \"conversations\": [\n";
  }
  write_file(dir.file("broken.jsonl"), jsonl);
  auto options = options_for(dir.file("broken.jsonl"), files.images, 256);
  const LlavaDataset dataset(options, tokenizer());
  const auto report = check_dataset(dataset);
  auto has = [&](const std::string& category, const std::string& id) {
    return std::any_of(report.problems.begin(), report.problems.end(),
                       [&](const DataProblem& p) { return p.category == category && p.id == id; });
  };
  EXPECT_TRUE(has("missing_image", records[0]["id"]));
  EXPECT_TRUE(has("undecodable_image", records[1]["id"]));
  EXPECT_TRUE(has("malformed_conversation", records[2]["id"]));
  EXPECT_TRUE(has("text_truncated", records[3]["id"]));
  EXPECT_TRUE(has("invalid_record", "6"));  // the bad line is record 6; its id cannot be read
  EXPECT_GE(report.errors(), 4u);
  std::ostringstream text;
  print_report(report, options, text);
  EXPECT_NE(text.str().find("missing_image"), std::string::npos);
  EXPECT_NE(text.str().find(records[0]["id"].get<std::string>()), std::string::npos);
}

TEST(DataCheck, ImagePlaceholderPastMaxLengthIsReported) {
  TempDir dir;
  const auto files = generate_shapes(dir.path(), small_shapes());
  auto records = nlohmann::json::parse(read(files.pretrain_json));
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "word ";
  records[0]["conversations"][1]["value"] = long_text;  // plain: "<image>" + caption, image stays first
  write_file(dir.file("pre.json"), records.dump());
  auto options = options_for(dir.file("pre.json"), files.images, 1);
  options.template_name = "plain";
  const auto report = check_dataset(LlavaDataset(options, tokenizer()));
  EXPECT_GE(report.counts.count("image_truncated"), 1u);
}

TEST(Records, LazyIndexOfArrayAndJsonl) {
  TempDir dir;
  write_file(dir.file("a.json"), R"([{"id": "x", "conversations": [{"from": "human", "value": "a \"}\" b"}, {"from": "gpt", "value": "c"}]},
    {"id": 7, "image": "i.png", "conversations": []}])");
  const auto file = RecordFile::open(dir.file("a.json"));
  ASSERT_EQ(file.size(), 2u);
  EXPECT_EQ(file.record(0).conversation.turns[0].value, "a \"}\" b");
  EXPECT_EQ(file.record(1).id, "7");
  EXPECT_EQ(*file.record(1).image, "i.png");
  write_file(dir.file("b.json"), R"([{"id": "x", "conversations": "nope"}])");
  expect_error_containing([&] { RecordFile::open(dir.file("b.json")).record(0); },
                          {dir.file("b.json"), "record 0", "'x'", "'conversations'"});
  write_file(dir.file("c.json"), R"([{"id": "x")");
  expect_error_containing([&] { RecordFile::open(dir.file("c.json")); }, {dir.file("c.json"), "not closed"});
}

TEST(Sampler, DeterministicPermutationWithSingleModalityMegabatches) {
  std::vector<int64_t> lengths;
  for (int i = 0; i < 50; ++i) lengths.push_back(i % 5 == 0 ? -(10 + i) : 100 + i);
  const auto order = modality_length_grouped_order(lengths, 4, 2, 7);
  EXPECT_EQ(order, modality_length_grouped_order(lengths, 4, 2, 7));
  EXPECT_NE(order, modality_length_grouped_order(lengths, 4, 2, 8));
  auto sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) ASSERT_EQ(sorted[i], i);
  // Every full megabatch of 8 except the final remainder is a single modality.
  // LLaVA merges the LAST megabatch of each modality (full or not) into one final mixed batch.
  const size_t remainder = 8 + 2;
  for (size_t m = 0; m + 8 <= order.size() - remainder; m += 8) {
    const bool image = lengths[order[m]] > 0;
    for (size_t j = m; j < m + 8; ++j) EXPECT_EQ(lengths[order[j]] > 0, image) << "megabatch at " << m;
  }
}

TEST(Collate, PadsMasksAndKeepsRealEosWhenPadEqualsEos) {
  Example a, b;
  a.id = "a";
  a.tokens.input_ids = {5, 6, 2};
  a.tokens.labels = {-100, 6, 2};
  b.id = "b";
  b.tokens.input_ids = {5, 2};
  b.tokens.labels = {-100, 2};
  const auto batch = collate({a, b}, /*pad=*/2, /*max_length=*/8, 3, 4, 4);
  EXPECT_TRUE(torch::equal(batch.attention_mask_BL, torch::tensor(std::vector<int64_t>{1, 1, 1, 1, 1, 0}).view({2, 3})));
  EXPECT_TRUE(torch::equal(batch.labels_BL, torch::tensor(std::vector<int64_t>{-100, 6, 2, -100, 2, -100}).view({2, 3})));
  EXPECT_EQ(batch.pixel_values_BCHW.sizes(), (std::vector<int64_t>{2, 3, 4, 4}));
}
