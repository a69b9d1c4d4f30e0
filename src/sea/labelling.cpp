#include "sea/labelling.h"

#include <chrono>
#include <filesystem>
#include <ostream>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "data/dataset.h"
#include "data/records.h"
#include "image/processor_config.h"
#include "image/tensor.h"
#include "io/content_hash.h"
#include "sea/label_file.h"
#include "sea/labels.h"
#include "sea/word_list.h"
#include "util/error.h"

namespace vista::sea {

namespace fs = std::filesystem;

torch::Tensor word_text_embeds(models::ClipModelImpl& clip, const text::Tokenizer& clip_tokenizer,
                               const std::vector<std::string>& words, int64_t batch) {
  torch::NoGradGuard no_grad;
  const auto& tc = clip.config().text;
  const auto device = clip.logit_scale.device();
  std::vector<torch::Tensor> out;
  for (size_t begin = 0; begin < words.size(); begin += static_cast<size_t>(batch)) {
    const size_t end = std::min(words.size(), begin + static_cast<size_t>(batch));
    std::vector<std::vector<int64_t>> rows;
    int64_t longest = 0;
    for (size_t w = begin; w < end; ++w) {
      auto ids = clip_tokenizer.encode_ids(words[w], false);
      if (static_cast<int64_t>(ids.size()) > tc.max_position_embeddings - 2) ids.resize(tc.max_position_embeddings - 2);
      ids.insert(ids.begin(), tc.bos_token_id);
      ids.push_back(tc.eos_token_id);
      longest = std::max<int64_t>(longest, static_cast<int64_t>(ids.size()));
      rows.push_back(std::move(ids));
    }
    auto ids_QS = torch::full({static_cast<int64_t>(rows.size()), longest}, tc.pad_token_id, torch::kLong);
    auto mask_QS = torch::zeros({static_cast<int64_t>(rows.size()), longest}, torch::kLong);
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto n = static_cast<int64_t>(rows[r].size());
      ids_QS[r].narrow(0, 0, n).copy_(torch::tensor(rows[r], torch::kLong));
      mask_QS[r].narrow(0, 0, n).fill_(1);
    }
    out.push_back(clip.text_embeds(ids_QS.to(device), mask_QS.to(device)).to(torch::kFloat));
  }
  return torch::cat(out, 0);
}

std::vector<std::string> distinct_images(const std::string& data_path) {
  const auto records = data::RecordFile::open(data_path);
  std::vector<std::string> images;
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto record = records.record(i);
    if (record.image && seen.insert(*record.image).second) images.push_back(*record.image);
  }
  return images;
}

LabelPassReport run_label_pass(const LabelPassOptions& o, std::ostream& log) {
  const auto start = std::chrono::steady_clock::now();
  const auto words = read_word_list(o.words_path);
  auto clip = models::load_clip_model(o.clip_dir, o.device);
  clip->eval();
  const std::string tokenizer_path = o.clip_dir + "/tokenizer.json";
  if (!fs::exists(tokenizer_path))
    fail("{}: the CLIP folder has no tokenizer.json (needed to embed the words)", o.clip_dir);
  const auto tokenizer = text::Tokenizer::from_file(tokenizer_path);
  const auto processor = image::load_processor_config(o.clip_dir + "/preprocessor_config.json");
  const auto& vc = clip->config().vision;
  const int64_t side = vc.image_size / vc.patch_size;

  LabelFileHeader header;
  header.top_n = std::min<int64_t>(o.top_n, static_cast<int64_t>(words.size()));
  header.grid_rows = side;
  header.grid_cols = side;
  header.num_words = static_cast<int64_t>(words.size());
  header.words_hash = io::content_hash({o.words_path});
  header.producer = {{"clip", io::content_hash({o.clip_dir + "/config.json"})},
                     {"score_sign", o.score_sign},
                     {"aspect", o.aspect == image::AspectMode::kPad ? "pad" : "square"}};
  header.images = distinct_images(o.data_path);
  if (header.images.empty()) fail("{}: no record has an image; nothing to label", o.data_path);
  LabelFileWriter writer(o.out_path, header);
  LabelPassReport report;
  report.images = static_cast<int64_t>(header.images.size());
  report.resumed_from = writer.done();
  if (writer.done() > 0)
    fmt::print(log, "sea label: resuming {}.partial at image {}/{}\n", o.out_path, writer.done(), report.images);

  torch::NoGradGuard no_grad;
  const auto word_embeds_QP = word_text_embeds(*clip, tokenizer, words);
  auto last_print = std::chrono::steady_clock::now();
  const auto pass_start = last_print;
  for (int64_t begin = writer.done(); begin < report.images; begin += o.batch) {
    if (o.stop_after_images >= 0 && report.labelled_now >= o.stop_after_images) {
      fmt::print(log, "sea label: stopped after {} images as asked; run again to go on\n", report.labelled_now);
      report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return report;
    }
    const int64_t end = std::min(report.images, begin + o.batch);
    std::vector<torch::Tensor> pixels;
    for (int64_t i = begin; i < end; ++i)
      pixels.push_back(image::to_tensor(data::load_image(
          (fs::path(o.images_dir) / header.images[static_cast<size_t>(i)]).string(), processor, o.aspect)));
    const auto patches_BNP = clip->patch_embeds(torch::stack(pixels).to(o.device)).to(torch::kFloat);
    const auto scores = patch_word_scores(patches_BNP, word_embeds_QP, o.score_sign);
    const auto top = top_labels(scores, header.top_n);
    const auto ids = top.ids_BNn.cpu(), best = top.scores_BNn.cpu(), keep = top.keep_BNn.cpu();
    for (int64_t b = 0; b < end - begin; ++b) writer.append(ids[b], best[b], keep[b]);
    report.labelled_now += end - begin;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_print > std::chrono::seconds(10) || end == report.images) {
      const double elapsed = std::chrono::duration<double>(now - pass_start).count();
      const double rate = static_cast<double>(report.labelled_now) / std::max(elapsed, 1e-9);
      fmt::print(log, "sea label: {}/{} images, {:.1f} images/s, ETA {:.0f}s\n", end, report.images, rate,
                 static_cast<double>(report.images - end) / std::max(rate, 1e-9));
      last_print = now;
    }
  }
  writer.finish();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double pass_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - pass_start).count();
  report.images_per_second = static_cast<double>(report.labelled_now) / std::max(pass_seconds, 1e-9);
  fmt::print(log, "sea label: wrote {} ({} images, grid {}x{}, top {} of {} words), {:.1f} images/s\n", o.out_path,
             report.images, side, side, header.top_n, words.size(), report.images_per_second);
  return report;
}

}  // namespace vista::sea
