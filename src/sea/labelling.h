#pragma once
// The SEA labelling pass: every image of a LLaVA data file through a CLIPModel, each patch scored
// against every word of the word list, the top-n written to a label file (label_file.h). Images
// go through CLIP in batches; the pass prints progress with images/s and an ETA, and an
// interrupted pass started again continues where it stopped.
#include <cstdint>
#include <iosfwd>
#include <string>

#include <torch/torch.h>

#include "image/processor.h"
#include "models/clip_model.h"
#include "text/tokenizer.h"

namespace vista::sea {

struct LabelPassOptions {
  std::string clip_dir;    // HF CLIPModel folder with tokenizer.json and preprocessor_config.json
  std::string words_path;  // word list (word_list.h)
  std::string data_path;   // LLaVA records; every distinct image is labelled once
  std::string images_dir;
  std::string out_path;
  int64_t top_n = 10;
  double score_sign = -1.0;  // the paper's -cos; +1 labels with the raw cosine
  int64_t batch = 16;
  image::AspectMode aspect = image::AspectMode::kPad;
  torch::Device device = torch::kCPU;
  int64_t stop_after_images = -1;  // stop as an interruption would (for tests)
};

struct LabelPassReport {
  int64_t images = 0, labelled_now = 0, resumed_from = 0;
  double seconds = 0, images_per_second = 0;
};

LabelPassReport run_label_pass(const LabelPassOptions& options, std::ostream& log);

// [Q,P] L2-normalised CLIP text embeddings of the words: each word wrapped in the text config's
// BOS/EOS, batched with padding; words longer than the positions are cut before EOS.
torch::Tensor word_text_embeds(models::ClipModelImpl& clip, const text::Tokenizer& clip_tokenizer,
                               const std::vector<std::string>& words, int64_t batch = 256);

// The distinct images of a data file, in first-use order.
std::vector<std::string> distinct_images(const std::string& data_path);

}  // namespace vista::sea
