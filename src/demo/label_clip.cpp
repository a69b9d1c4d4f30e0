#include "demo/label_clip.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/dataset.h"
#include "data/records.h"
#include "demo/tiny_towers.h"
#include "image/processor_config.h"
#include "io/clip_config.h"
#include "io/safetensors.h"
#include "models/clip_model.h"
#include "models/weight_loading.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace vista::demo {

namespace fs = std::filesystem;

double prepare_label_clip(const std::string& out_dir, const std::string& pretrain_json, const std::string& images,
                          const std::string& tokenizer_dir, const LabelClipRecipe& r) {
  torch::manual_seed(r.seed);
  const auto tokenizer = text::Tokenizer::from_dir(tokenizer_dir);
  // The words the captions use for the four attributes, in groups of alternatives.
  const std::vector<std::vector<std::string>> groups = {{"circle", "square", "triangle"},
                                                        {"red", "green", "blue", "yellow", "purple", "orange"},
                                                        {"left", "right", "top", "bottom", "center"},
                                                        {"small", "large"}};
  std::vector<std::string> words;
  for (const auto& g : groups) words.insert(words.end(), g.begin(), g.end());
  image::ImageProcessorConfig processor;
  processor.shortest_edge = processor.crop_height = processor.crop_width = r.image_size;
  const auto records = data::RecordFile::open(pretrain_json);
  std::vector<torch::Tensor> pixels;
  std::vector<std::array<int64_t, 4>> targets;  // per group: the index of the caption's word in `words`
  for (size_t i = 0; i < records.size(); ++i) {
    const auto rec = records.record(i);
    if (!rec.image || rec.conversation.turns.size() < 2) continue;
    std::istringstream in(rec.conversation.turns[1].value);
    std::array<int64_t, 4> t{-1, -1, -1, -1};
    for (std::string w; in >> w;) {
      int64_t offset = 0;
      for (size_t g = 0; g < groups.size(); ++g) {
        for (size_t k = 0; k < groups[g].size(); ++k)
          if (groups[g][k] == w) t[g] = offset + static_cast<int64_t>(k);
        offset += static_cast<int64_t>(groups[g].size());
      }
    }
    if (std::find(t.begin(), t.end(), -1) != t.end()) continue;
    const auto img = data::load_image((fs::path(images) / *rec.image).string(), processor, image::AspectMode::kSquare);
    pixels.push_back(torch::from_blob(const_cast<float*>(img.values.data()), {3, img.height, img.width}).clone());
    targets.push_back(t);
  }
  if (pixels.empty()) fail("{}: no caption names all four attributes; cannot train the label CLIP", pretrain_json);
  const auto X = torch::stack(pixels);
  std::vector<int64_t> flat;
  for (const auto& t : targets) flat.insert(flat.end(), t.begin(), t.end());
  const auto Y = torch::tensor(flat).view({-1, 4});

  io::ClipModelConfig config;
  config.projection_dim = r.projection;
  config.vision = tiny_clip_vision_config(r.image_size, r.patch_size, r.hidden, r.layers, r.heads);
  const auto& v = config.vision;
  auto& t = config.text;
  const auto vocab = static_cast<int64_t>(tokenizer.vocab_size());
  t.vocab_size = vocab + 2;
  t.bos_token_id = vocab;
  t.eos_token_id = vocab + 1;
  t.pad_token_id = 0;
  t.hidden_size = r.hidden;
  t.intermediate_size = 4 * r.hidden;
  t.num_hidden_layers = r.layers;
  t.num_attention_heads = r.heads;
  t.max_position_embeddings = 16;
  models::ClipModel clip(config);

  // The words as CLIP text rows: BOS, the word's tokens, EOS, right padding.
  std::vector<std::vector<int64_t>> rows;
  int64_t longest = 0;
  for (const auto& w : words) {
    auto ids = tokenizer.encode_ids(w, false);
    ids.insert(ids.begin(), t.bos_token_id);
    ids.push_back(t.eos_token_id);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(ids.size()));
    rows.push_back(ids);
  }
  auto ids_QS = torch::zeros({static_cast<int64_t>(rows.size()), longest}, torch::kLong);
  auto mask_QS = torch::zeros_like(ids_QS);
  for (size_t i = 0; i < rows.size(); ++i) {
    ids_QS[i].narrow(0, 0, static_cast<int64_t>(rows[i].size())).copy_(torch::tensor(rows[i]));
    mask_QS[i].narrow(0, 0, static_cast<int64_t>(rows[i].size())).fill_(1);
  }
  torch::optim::AdamW opt(clip->parameters(), torch::optim::AdamWOptions(r.lr).weight_decay(0.0));
  double accuracy = 0;
  for (int64_t step = 0; step < r.steps; ++step) {
    const auto idx = torch::randint(X.size(0), {r.batch}, torch::kLong);
    const auto words_QP = clip->text_embeds(ids_QS, mask_QS);
    const auto image = clip->image_outputs(X.index_select(0, idx));
    const auto patches_BNP = image.patch_embeds_BNP / image.patch_embeds_BNP.norm(2, -1, true);
    // Per word, the best-matching patch (multiple-instance): some patch must show each attribute.
    const auto patch_logits_BQ = std::get<0>(torch::matmul(patches_BNP, words_QP.t()).max(1)) * clip->logit_scale.exp();
    const auto image_logits_BQ = clip->logits_per_image(image.image_embeds_BP, words_QP);
    const auto y = Y.index_select(0, idx);
    torch::Tensor loss = torch::zeros({});
    double correct = 0;
    int64_t offset = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      const auto n = static_cast<int64_t>(groups[g].size());
      const auto target = y.select(1, static_cast<int64_t>(g)) - offset;
      for (const auto& logits : {patch_logits_BQ, image_logits_BQ})
        loss = loss + torch::nn::functional::cross_entropy(logits.narrow(1, offset, n), target);
      correct += (patch_logits_BQ.narrow(1, offset, n).argmax(1) == target).to(torch::kFloat).mean().item<double>();
      offset += n;
    }
    opt.zero_grad();
    loss.backward();
    opt.step();
    accuracy = correct / static_cast<double>(groups.size());
  }
  fs::create_directories(out_dir);
  const fs::path dir(out_dir);
  io::save_safetensors((dir / "model.safetensors").string(), models::export_state(*clip, {}), {{"format", "pt"}});
  nlohmann::json text = {{"model_type", "clip_text_model"},
                         {"vocab_size", t.vocab_size},
                         {"hidden_size", t.hidden_size},
                         {"intermediate_size", t.intermediate_size},
                         {"num_hidden_layers", t.num_hidden_layers},
                         {"num_attention_heads", t.num_attention_heads},
                         {"max_position_embeddings", t.max_position_embeddings},
                         {"bos_token_id", t.bos_token_id},
                         {"eos_token_id", t.eos_token_id},
                         {"pad_token_id", t.pad_token_id}};
  nlohmann::json vision = {{"model_type", "clip_vision_model"},
                           {"hidden_size", v.hidden_size},
                           {"intermediate_size", v.intermediate_size},
                           {"num_hidden_layers", v.num_hidden_layers},
                           {"num_attention_heads", v.num_attention_heads},
                           {"image_size", v.image_size},
                           {"patch_size", v.patch_size}};
  std::ofstream((dir / "config.json").string()) << nlohmann::json{{"model_type", "clip"},
                                                                  {"architectures", {"CLIPModel"}},
                                                                  {"projection_dim", config.projection_dim},
                                                                  {"text_config", text},
                                                                  {"vision_config", vision}}
                                                       .dump(2)
                                                << "\n";
  fs::copy_file(fs::path(tokenizer_dir) / "tokenizer.json", dir / "tokenizer.json",
                fs::copy_options::overwrite_existing);
  image::save_processor_config((dir / "preprocessor_config.json").string(), processor);
  return accuracy;
}

}  // namespace vista::demo
