#include "analysis/contribution.h"

#include <algorithm>
#include <filesystem>

#include "data/dataset.h"
#include "data/prompt_tokenizer.h"
#include "data/shapes.h"
#include "image/tensor.h"
#include "models/layers.h"
#include "util/error.h"
#include "util/json_file.h"
#include "util/json_node.h"

namespace vista::analysis {

std::vector<ContributionCase> read_contribution_cases(const std::string& eval_jsonl, const std::string& images,
                                                      int64_t limit) {
  std::vector<ContributionCase> cases;
  for (const auto& line : read_jsonl_file(eval_jsonl)) {
    if (static_cast<int64_t>(cases.size()) >= limit) break;
    const JsonNode question(line.value, line.where);
    if (question.integer_or("preamble_words", 0) != 0) continue;
    cases.push_back({(std::filesystem::path(images) / question.string("image")).string(), question.string("text"),
                     question.string("answer")});
  }
  return cases;
}

namespace {

struct Measured {
  std::vector<double> image_attention_layer;
  double logprob = 0;
};

// One teacher-forced pass: the answer's summed log-probability and, when asked, the attention of
// the position that predicts the first answer token on the image tokens, per layer.
Measured run_once(models::MultimodalLMImpl& model, const torch::Tensor& ids_1L, const torch::Tensor& labels_1L,
                  const torch::Tensor& pixels_1CHW, bool record_attention) {
  const auto spliced =
      model.prepare_inputs(ids_1L, torch::ones_like(ids_1L), labels_1L, model.encode_images(pixels_1CHW));
  const auto supervised = (spliced.labels_BT[0] != models::kIgnoreIndex).nonzero();
  if (supervised.numel() == 0) fail("contribution: the answer has no supervised token");
  const int64_t first = supervised[0][0].item<int64_t>();
  const auto image_keys = spliced.image_mask_BT[0].to(torch::kFloat);
  Measured out;
  torch::Tensor hidden;
  {
    std::optional<models::AttentionRecording> recording;
    if (record_attention)
      recording.emplace([&](const torch::Tensor& probs_BHTS) {
        // The query row of position first - 1, over keys; image keys are the first S of the spliced row.
        const auto row_HS = probs_BHTS[0].select(1, first - 1).to(torch::kFloat);
        const auto keys = image_keys.narrow(0, 0, row_HS.size(1));
        out.image_attention_layer.push_back((row_HS * keys).sum(1).mean().item<double>());
      });
    hidden = model.hidden(spliced);
  }
  const auto T = hidden.size(1);
  const auto logp = torch::log_softmax(model.logits(hidden.narrow(1, 0, T - 1)).to(torch::kDouble), -1)[0];
  const auto targets = spliced.labels_BT[0].narrow(0, 1, T - 1);
  const auto mask = targets != models::kIgnoreIndex;
  const auto picked = logp.gather(1, targets.clamp_min(0).unsqueeze(1)).squeeze(1);
  out.logprob = (picked * mask.to(torch::kDouble)).sum().item<double>();
  return out;
}

}  // namespace

std::vector<ContributionPoint> measure_contribution(models::MultimodalLMImpl& model, const text::Tokenizer& tokenizer,
                                                    const std::vector<ContributionCase>& cases,
                                                    const ContributionOptions& o) {
  torch::NoGradGuard no_grad;
  if (cases.empty()) fail("contribution: no question to measure");
  const auto device = model.parameters().front().device();
  // Sequences the model would truncate (its tokenizer_model_max_length) or cannot place are left out.
  int64_t max_positions = model.config().text.max_position_embeddings;
  if (model.config().mm.tokenizer_model_max_length > 0)
    max_positions = std::min(max_positions, model.config().mm.tokenizer_model_max_length);
  std::vector<ContributionPoint> points;
  for (const int64_t words : o.preamble_words) {
    ContributionPoint point;
    point.preamble_words = words;
    for (size_t i = 0; i < cases.size(); ++i) {
      const auto& c = cases[i];
      const std::string preamble = words > 0 ? data::shapes_preamble(o.seed + i, words) : "";
      data::Conversation conversation{{{"human", "<image>\n" + preamble + c.question}, {"gpt", c.answer}}};
      const auto sample = data::tokenize_conversation(tokenizer, o.tmpl, conversation);
      if (sample.label_mismatch) fail("contribution: question {} tokenizes inconsistently: {}", i, sample.problem);
      const auto image_tokens = model.vision_config().num_positions();  // with a CLS token, one more
      if (static_cast<int64_t>(sample.input_ids.size()) - 1 + image_tokens > max_positions) continue;
      const auto ids = torch::tensor(sample.input_ids, torch::kLong).unsqueeze(0).to(device);
      const auto labels = torch::tensor(sample.labels, torch::kLong).unsqueeze(0).to(device);
      const auto pixels =
          image::to_tensor(data::load_image(c.image_path, o.processor, o.aspect)).unsqueeze(0).to(device);
      const auto real = run_once(model, ids, labels, pixels, true);
      const auto neutral = run_once(model, ids, labels, torch::zeros_like(pixels), false);
      if (point.image_attention_layer.empty())
        point.image_attention_layer.assign(real.image_attention_layer.size(), 0.0);
      for (size_t l = 0; l < real.image_attention_layer.size(); ++l)
        point.image_attention_layer[l] += real.image_attention_layer[l];
      point.logprob_real += real.logprob;
      point.logprob_neutral += neutral.logprob;
      ++point.cases;
    }
    if (point.cases > 0) {
      const double n = static_cast<double>(point.cases);
      for (auto& v : point.image_attention_layer) v /= n;
      for (const double v : point.image_attention_layer)
        point.image_attention += v / static_cast<double>(point.image_attention_layer.size());
      point.logprob_real /= n;
      point.logprob_neutral /= n;
      point.logprob_drop = point.logprob_real - point.logprob_neutral;
    }
    points.push_back(point);
  }
  return points;
}

}  // namespace vista::analysis
