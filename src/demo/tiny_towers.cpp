#include "demo/tiny_towers.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "data/conversation.h"
#include "data/dataset.h"
#include "data/prompt_tokenizer.h"
#include "image/processor_config.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "losses/cross_entropy.h"
#include "models/causal_lm.h"
#include "models/model_loading.h"
#include "models/weight_loading.h"
#include "util/error.h"

namespace vista::demo {

namespace fs = std::filesystem;

namespace {

void write_json(const fs::path& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out) fail("{}: write failed", path.string());
}

// Attribute labels parsed back from the caption "a {size} {color} {shape} {at the pos|in the center}".
struct Attributes {
  int64_t shape, color, position, size;
};

int64_t index_of(const std::vector<std::string>& names, const std::string& word) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == word) return static_cast<int64_t>(i);
  return -1;
}

}  // namespace

io::VisionConfig tiny_clip_vision_config(int64_t image_size, int64_t patch_size, int64_t hidden, int64_t layers,
                                         int64_t heads) {
  io::VisionConfig config;
  config.model_type = "clip_vision_model";
  config.family = "clip";
  config.hidden_size = hidden;
  config.intermediate_size = 4 * hidden;
  config.num_hidden_layers = layers;
  config.num_attention_heads = heads;
  config.image_size = image_size;
  config.patch_size = patch_size;
  return config;
}

double prepare_vision_tower(const std::string& out_dir, const std::string& pretrain_json, const std::string& images,
                            const TowerRecipe& r) {
  torch::manual_seed(static_cast<uint64_t>(r.seed));
  const auto records = data::RecordFile::open(pretrain_json);
  const std::vector<std::string> shapes = {"circle", "square", "triangle"},
                                 colors = {"red", "green", "blue", "yellow", "purple", "orange"},
                                 positions = {"left", "right", "top", "bottom", "center"}, sizes = {"small", "large"};
  image::ImageProcessorConfig processor;
  processor.shortest_edge = processor.crop_height = processor.crop_width = r.image_size;
  std::vector<torch::Tensor> pixels;
  std::vector<Attributes> labels;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto rec = records.record(i);
    std::istringstream words(rec.conversation.turns.at(1).value);
    std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
    if (w.size() < 5) continue;
    Attributes a{index_of(shapes, w[3]), index_of(colors, w[2]), index_of(positions, w.back()), index_of(sizes, w[1])};
    if (a.shape < 0 || a.color < 0 || a.position < 0 || a.size < 0) continue;
    const auto img = data::load_image((fs::path(images) / *rec.image).string(), processor, image::AspectMode::kSquare);
    pixels.push_back(torch::from_blob(const_cast<float*>(img.values.data()), {3, img.height, img.width}).clone());
    labels.push_back(a);
  }
  if (pixels.empty()) fail("{}: no usable captions to pretrain the vision tower on", pretrain_json);
  const auto X = torch::stack(pixels);
  auto target = [&](int which) {
    std::vector<int64_t> v;
    for (const auto& a : labels) v.push_back(which == 0 ? a.shape : which == 1 ? a.color : which == 2 ? a.position : a.size);
    return torch::tensor(v);
  };
  const torch::Tensor Y[4] = {target(0), target(1), target(2), target(3)};
  const int64_t classes[4] = {3, 6, 5, 2};

  const auto config = tiny_clip_vision_config(r.image_size, r.patch_size, r.hidden, r.layers, r.heads);
  auto tower = models::make_vision_tower(config);
  torch::nn::Linear head(r.hidden, 16);
  std::vector<torch::Tensor> params = tower->parameters();
  for (const auto& p : head->parameters()) params.push_back(p);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(r.lr).weight_decay(0.0));
  std::mt19937_64 rng(r.seed);
  double accuracy = 0;
  for (int64_t step = 0; step < r.steps; ++step) {
    auto idx = torch::randint(X.size(0), {r.batch}, torch::kInt64);
    // The LLaVA projector reads patch tokens of hidden_states[-2]: train on their mean too, so
    // the attributes are present where the projector looks, not only in the CLS token.
    auto hidden = tower->hidden_state(X.index_select(0, idx), -2);
    auto features = torch::cat({tower->forward(X.index_select(0, idx)).pooled_BD, hidden.narrow(1, 1, hidden.size(1) - 1).mean(1)}, 0);
    auto logits = head->forward(features);
    torch::Tensor loss = torch::zeros({});
    int64_t offset = 0;
    double correct = 0;
    for (int k = 0; k < 4; ++k) {
      auto y = Y[k].index_select(0, idx).repeat({2});
      auto part = logits.narrow(1, offset, classes[k]);
      loss = loss + torch::nn::functional::cross_entropy(part, y);
      correct += (part.argmax(1) == y).to(torch::kFloat32).mean().item<double>();
      offset += classes[k];
    }
    opt.zero_grad();
    loss.backward();
    opt.step();
    accuracy = correct / 4;
  }
  fs::create_directories(out_dir);
  io::save_safetensors((fs::path(out_dir) / "model.safetensors").string(), models::export_state(*tower, {}), {{"format", "pt"}});
  write_json(fs::path(out_dir) / "config.json", io::vision_config_json(config));
  image::save_processor_config((fs::path(out_dir) / "preprocessor_config.json").string(), processor);
  return accuracy;
}

double prepare_llm(const std::string& out_dir, const std::string& finetune_json, const std::string& pretrain_json,
                   const std::string& tokenizer_dir, const LlmRecipe& r) {
  torch::manual_seed(static_cast<uint64_t>(r.seed));
  const auto tokenizer = text::Tokenizer::from_dir(tokenizer_dir);
  // Corpus: the stage-2 conversations as text-only instruction data (loss on the answers, so the
  // LLM learns which kind of word answers which question) and the stage-1 captions as plain text
  // (loss on every token, so stage 1 only has to supply what the image shows).
  struct Sequence {
    std::vector<int64_t> ids, labels;
  };
  std::vector<Sequence> corpus;
  const auto tmpl = data::get_template("vicuna_v1");
  const auto records = data::RecordFile::open(finetune_json);
  for (size_t i = 0; i < records.size(); ++i) {
    auto conv = records.record(i).conversation;
    for (auto& t : conv.turns)
      for (size_t p; (p = t.value.find("<image>\n")) != std::string::npos;) t.value.erase(p, 8);
    const auto sample = data::tokenize_conversation(tokenizer, tmpl, conv);
    if (sample.label_mismatch) continue;
    corpus.push_back({sample.input_ids, sample.labels});
  }
  const auto captions = data::RecordFile::open(pretrain_json);
  for (size_t i = 0; i < captions.size(); ++i) {
    const auto ids = tokenizer.encode_ids(captions.record(i).conversation.turns.at(1).value + "\n", true);
    corpus.push_back({ids, ids});
  }
  for (auto& seq : corpus)
    if (static_cast<int64_t>(seq.ids.size()) > r.max_tokens) {
      seq.ids.resize(static_cast<size_t>(r.max_tokens));
      seq.labels.resize(static_cast<size_t>(r.max_tokens));
    }
  io::DecoderConfig config;
  config.model_type = "llama";
  config.family = "llama";
  config.vocab_size = static_cast<int64_t>(tokenizer.vocab_size());
  config.hidden_size = r.hidden;
  config.intermediate_size = r.intermediate;
  config.num_hidden_layers = r.layers;
  config.num_attention_heads = r.heads;
  config.num_key_value_heads = r.kv_heads;
  config.head_dim = r.hidden / r.heads;
  config.max_position_embeddings = 1024;
  config.rms_norm_eps = 1e-5;
  config.tie_word_embeddings = true;
  config.pad_token_id = 0;
  config.bos_token_id = 1;
  config.eos_token_id = 2;
  auto lm = models::make_causal_lm(config);
  {
    torch::NoGradGuard no_grad;  // HF's init scale keeps the tied logits small at the start
    for (auto& p : lm->parameters())
      if (p.dim() == 2) p.normal_(0.0, 0.02);
  }
  torch::optim::AdamW opt(lm->parameters(), torch::optim::AdamWOptions(r.lr).weight_decay(0.0));
  std::mt19937_64 rng(r.seed);
  double last = 0;
  for (int64_t step = 0; step < r.steps; ++step) {
    std::vector<const Sequence*> batch;
    int64_t L = 0;
    for (int64_t b = 0; b < r.batch; ++b) {
      batch.push_back(&corpus[rng() % corpus.size()]);
      L = std::max<int64_t>(L, static_cast<int64_t>(batch.back()->ids.size()));
    }
    auto ids = torch::zeros({r.batch, L}, torch::kInt64);
    auto mask = torch::zeros({r.batch, L}, torch::kInt64);
    auto labels = torch::full({r.batch, L}, int64_t{-100}, torch::kInt64);
    for (int64_t b = 0; b < r.batch; ++b) {
      const auto& seq = *batch[static_cast<size_t>(b)];
      for (size_t t = 0; t < seq.ids.size(); ++t) {
        ids[b][static_cast<int64_t>(t)] = seq.ids[t];
        mask[b][static_cast<int64_t>(t)] = 1;
        labels[b][static_cast<int64_t>(t)] = seq.labels[t];
      }
    }
    const auto lr = r.lr * std::min(1.0, (step + 1) / 10.0) * (0.5 * (1 + std::cos(M_PI * step / r.steps)));
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    auto hidden = lm->hidden(lm->embed(ids), mask, models::default_position_ids(r.batch, L, torch::kCPU));
    // Vocabulary logits only at supervised positions (the same loss, far less work).
    const auto rows = losses::supervised_positions(labels);
    const auto h = hidden.narrow(1, 0, L - 1).reshape({-1, r.hidden}).index_select(0, rows);
    const auto targets = labels.narrow(1, 1, L - 1).reshape({-1}).index_select(0, rows);
    auto loss = losses::cross_entropy_rows(lm->logits(h.unsqueeze(0)).squeeze(0), targets).loss;
    opt.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(lm->parameters(), 1.0);
    opt.step();
    last = loss.item<double>();
  }
  fs::create_directories(out_dir);
  io::save_safetensors((fs::path(out_dir) / "model.safetensors").string(), models::export_state(*lm, {}), {{"format", "pt"}});
  write_json(fs::path(out_dir) / "config.json", io::decoder_config_json(config));
  return last;
}

}  // namespace vista::demo
