#pragma once
// A LLaVA dataset: records + image folder + tokenizer + template + image processor. Turning a
// record into a training example can fail (missing image, corrupt file, bad conversation); the
// error names the file, the record and the problem, and the caller decides (skip-and-count or stop).
#include <memory>
#include <optional>
#include <string>

#include "data/prompt_tokenizer.h"
#include "data/records.h"
#include "image/processor.h"
#include "text/tokenizer.h"

namespace vista::data {

struct Example {
  std::string id;
  size_t index = 0;
  TokenizedSample tokens;
  std::optional<image::FloatImage> pixels;  // [3, H, W]; none for text-only records
  std::optional<std::string> image;         // the record's image path, relative to the image folder
};

struct DatasetOptions {
  std::string data_path;
  std::string image_root;
  std::string template_name = "vicuna_v1";
  image::ImageProcessorConfig processor;
  image::AspectMode aspect = image::AspectMode::kPad;
  int64_t max_length = 2048;          // model_max_length, in input_ids (before image expansion)
  int64_t image_tokens = 576;         // tokens one image expands into (for length accounting)
};

class LlavaDataset {
 public:
  LlavaDataset(DatasetOptions options, std::shared_ptr<const text::Tokenizer> tokenizer);
  size_t size() const { return records_.size(); }
  // Throws vista::Error naming the data file, record index and id for any problem.
  Example get(size_t index) const;
  // Sampler length proxy: word count (+128 for image records, as LLaVA), negative when text-only.
  int64_t modality_length(size_t index) const;
  const RecordFile& records() const { return records_; }
  const DatasetOptions& options() const { return options_; }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const Template& conversation_template() const { return template_; }

 private:
  DatasetOptions options_;
  std::shared_ptr<const text::Tokenizer> tokenizer_;
  RecordFile records_;
  Template template_;
};

// The image of a record, decoded and preprocessed; errors name the file.
image::FloatImage load_image(const std::string& path, const image::ImageProcessorConfig& processor,
                             image::AspectMode aspect);

}  // namespace vista::data
