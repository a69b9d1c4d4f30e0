#include "data/dataset.h"

#include <filesystem>

#include "image/decode.h"
#include "util/error.h"

namespace vista::data {

LlavaDataset::LlavaDataset(DatasetOptions options, std::shared_ptr<const text::Tokenizer> tokenizer)
    : options_(std::move(options)),
      tokenizer_(std::move(tokenizer)),
      records_(RecordFile::open(options_.data_path)),
      template_(get_template(options_.template_name)) {}

image::FloatImage load_image(const std::string& path, const image::ImageProcessorConfig& processor,
                             image::AspectMode aspect) {
  return image::preprocess_for_llava(image::read_image_file(path), processor, aspect);
}

Example LlavaDataset::get(size_t index) const {
  const auto record = records_.record(index);
  const auto where = [&] { return fmt::format("{}: record {} (id '{}')", records_.path(), index, record.id); };
  Example ex;
  ex.id = record.id;
  ex.index = index;
  auto conversation = record.conversation;
  bool mentions_image = false;
  for (const auto& t : conversation.turns) mentions_image = mentions_image || t.value.find(kImageToken) != std::string::npos;
  if (record.image && !mentions_image && !conversation.turns.empty())
    conversation.turns[0].value = std::string(kImageToken) + "\n" + conversation.turns[0].value;
  if (!record.image && mentions_image)
    fail("{}: a turn contains <image> but the record has no 'image' field", where());
  try {
    ex.tokens = tokenize_conversation(*tokenizer_, template_, conversation);
  } catch (const Error& e) {
    fail("{}: {}", where(), e.what());
  }
  if (record.image) {
    ex.image = record.image;
    const auto path = (std::filesystem::path(options_.image_root) / *record.image).string();
    try {
      ex.pixels = load_image(path, options_.processor, options_.aspect);
    } catch (const Error& e) {
      fail("{}: image: {}", where(), e.what());
    }
  }
  return ex;
}

int64_t LlavaDataset::modality_length(size_t index) const {
  const auto record = records_.record(index);
  int64_t words = records_.word_count(index);
  if (words == 0) words = 1;
  return record.image ? words + 128 : -words;
}

}  // namespace vista::data
