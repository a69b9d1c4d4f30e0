// The training data stream: loading ahead on worker threads must give the step exactly what
// loading in the step gives (order, examples, bad-sample counts), across epochs, ranks and a
// restart from a checkpointed position.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "data/example_loader.h"
#include "data/shapes.h"
#include "test_util.h"
#include "train/data_stream.h"
#include "util/error.h"

using namespace vista;
namespace fs = std::filesystem;

namespace {

struct StreamData {
  TempDir dir;
  data::ShapesFiles files;
  std::unique_ptr<data::LlavaDataset> dataset;
  StreamData() {
    data::ShapesOptions shapes;
    shapes.pretrain_records = 2;
    shapes.finetune_records = 9;
    shapes.text_only_records = 2;
    shapes.eval_records = 2;
    files = data::generate_shapes(dir.path(), shapes);
    // One record's image missing: a bad sample in every epoch.
    std::ifstream in(files.finetune_json);
    for (const auto& record : nlohmann::json::parse(in))
      if (record.contains("image")) {
        fs::remove(fs::path(files.images) / record["image"].get<std::string>());
        break;
      }
    data::DatasetOptions o;
    o.data_path = files.finetune_json;
    o.image_root = files.images;
    o.processor.shortest_edge = o.processor.crop_height = o.processor.crop_width = 32;
    o.max_length = 512;
    o.image_tokens = 16;
    dataset = std::make_unique<data::LlavaDataset>(
        o, std::make_shared<const text::Tokenizer>(text::Tokenizer::from_dir(testdata("tokenizers/mistral7b"))));
  }
};

StreamData& stream_data() {
  static StreamData d;
  return d;
}

// What a rank's step sees: per micro-batch the ids, tokens and pixels of its examples and its bad count.
struct Seen {
  std::vector<std::string> ids;
  std::vector<std::vector<int64_t>> tokens;
  std::vector<std::vector<float>> pixels;
  std::vector<int64_t> bad;
  std::vector<std::string> first_bad;
};

void take(train::DataStream& stream, int rank, int world, int64_t per_rank, int batches, Seen& seen) {
  for (int b = 0; b < batches; ++b) {
    auto local = stream.next(rank, world, per_rank);
    seen.bad.push_back(local.bad);
    seen.first_bad.push_back(local.first_bad);
    for (const auto& e : local.examples) {
      seen.ids.push_back(e.id);
      seen.tokens.push_back(e.tokens.input_ids);
      seen.pixels.push_back(e.pixels ? e.pixels->values : std::vector<float>{});
    }
  }
}

void expect_same(const Seen& a, const Seen& b) {
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.bad, b.bad);
  EXPECT_EQ(a.first_bad, b.first_bad);
}

train::StreamOptions options(int loader_threads, int64_t prefetch = 2) {
  train::StreamOptions o;
  o.seed = 3;
  o.loader_threads = loader_threads;
  o.prefetch_batches = prefetch;
  return o;
}

}  // namespace

TEST(DataStream, LoaderThreadsGiveWhatLoadingInTheStepGives) {
  auto& d = stream_data();
  ASSERT_EQ(d.dataset->size(), 11u);
  for (const int world : {1, 2})
    for (int rank = 0; rank < world; ++rank) {
      // 3 slots per rank over 11 records: micro-batches cross epoch ends; 9 batches = several epochs.
      train::DataStream in_step(*d.dataset, options(0), {});
      train::DataStream ahead(*d.dataset, options(2, 3), {});
      Seen a, b;
      take(in_step, rank, world, 3, 9, a);
      take(ahead, rank, world, 3, 9, b);
      expect_same(a, b);
      EXPECT_GT(std::accumulate(a.bad.begin(), a.bad.end(), int64_t{0}), 0) << "the missing image was never drawn";
      EXPECT_EQ(in_step.position().epoch, ahead.position().epoch);
      EXPECT_EQ(in_step.position().cursor, ahead.position().cursor);
      EXPECT_GE(ahead.position().epoch, 2 * world - 1);
    }
}

TEST(DataStream, RestartFromATakenPositionContinuesTheSameSequence) {
  auto& d = stream_data();
  train::DataStream whole(*d.dataset, options(1), {});
  Seen first, rest_whole;
  take(whole, 0, 1, 4, 2, first);  // the loader is now ahead of this position
  const auto at = whole.position();
  take(whole, 0, 1, 4, 4, rest_whole);
  train::DataStream restarted(*d.dataset, options(1), at);
  Seen rest_restarted;
  take(restarted, 0, 1, 4, 4, rest_restarted);
  expect_same(rest_whole, rest_restarted);
}

TEST(DataStream, ChangingTheBatchLayoutDropsLoadsForTheOldOne) {
  auto& d = stream_data();
  train::DataStream in_step(*d.dataset, options(0), {});
  train::DataStream ahead(*d.dataset, options(1), {});
  Seen a, b;
  for (const int64_t per_rank : {2, 5, 1, 3}) {
    take(in_step, 0, 1, per_rank, 1, a);
    take(ahead, 0, 1, per_rank, 1, b);
  }
  expect_same(a, b);
}

TEST(DataStream, ReportsTheTimeTheStepWaitedForItsSamples) {
  auto& d = stream_data();
  train::DataStream in_step(*d.dataset, options(0), {});
  in_step.next(0, 1, 4);
  EXPECT_GT(in_step.last_wait_seconds(), 0.0);
}

TEST(ExampleLoader, TakesInRequestOrderAndRefusesATakeWithoutARequest) {
  auto& d = stream_data();
  data::ExampleLoader loader(*d.dataset, 3);
  for (const size_t index : {5u, 1u, 7u, 1u}) loader.request(index);
  EXPECT_EQ(loader.requested(), 4u);
  for (const size_t index : {5u, 1u, 7u}) {
    const auto loaded = loader.take();
    EXPECT_EQ(loaded.index, index);
    const auto direct = data::load_example(*d.dataset, index);
    EXPECT_EQ(loaded.problem, direct.problem);
    EXPECT_EQ(loaded.example.has_value(), direct.example.has_value());
    if (loaded.example) {
      EXPECT_EQ(loaded.example->id, direct.example->id);
    }
  }
  loader.clear();
  EXPECT_EQ(loader.requested(), 0u);
  EXPECT_THROW(loader.take(), Error);
  EXPECT_THROW(data::ExampleLoader(*d.dataset, 0), Error);
}
