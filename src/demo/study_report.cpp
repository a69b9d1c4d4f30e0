#include "demo/study_report.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "analysis/contribution.h"
#include "analysis/contribution_plot.h"
#include "analysis/similarity_map.h"
#include "data/conversation.h"
#include "image/processor_config.h"
#include "image/decode.h"
#include "models/model_loading.h"
#include "train/lora_setup.h"
#include "util/error.h"
#include "viz/heatmap.h"
#include "viz/line_plot.h"

namespace vista::demo {

namespace fs = std::filesystem;

namespace {

std::string base64(const std::vector<uint8_t>& bytes) {
  static const char* kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int k = 18; k >= 0; k -= 6) out += kTable[(v >> k) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = bytes[i] << 16;
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

std::string img_tag(const std::string& png, const std::string& alt) {
  return fmt::format("<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>\n",
                     escape(alt), base64(image::read_file_bytes(png)), escape(alt));
}

struct MeanSd {
  double mean = 0, sd = 0;
};
MeanSd mean_sd(const std::vector<double>& v) {
  MeanSd r;
  if (v.empty()) return r;
  for (const double x : v) r.mean += x / static_cast<double>(v.size());
  if (v.size() > 1) {
    for (const double x : v) r.sd += (x - r.mean) * (x - r.mean);
    r.sd = std::sqrt(r.sd / static_cast<double>(v.size() - 1));
  }
  return r;
}

// Student's t density, integrated by Simpson's rule: the two-sided tail for |t| with df degrees.
double t_two_sided(double t, double df) {
  const double c = std::exp(std::lgamma((df + 1) / 2) - std::lgamma(df / 2)) / std::sqrt(df * M_PI);
  auto pdf = [&](double x) { return c * std::pow(1 + x * x / df, -(df + 1) / 2); };
  const double a = std::abs(t);
  const int n = 2000;
  const double h = a / n;
  double s = pdf(0) + pdf(a);
  for (int i = 1; i < n; ++i) s += pdf(i * h) * (i % 2 ? 4 : 2);
  return std::clamp(1.0 - 2.0 * s * h / 3.0, 0.0, 1.0);
}

std::vector<double> accuracies(const StudyRuns& runs, size_t arm, int64_t preamble) {
  std::vector<double> out;
  for (const auto& seed : runs.by_seed) {
    const auto& r = seed[arm];
    if (preamble < 0) out.push_back(r.accuracy());
    else if (r.by_preamble.count(preamble) && r.by_preamble.at(preamble).second > 0)
      out.push_back(static_cast<double>(r.by_preamble.at(preamble).first) / r.by_preamble.at(preamble).second);
  }
  return out;
}

}  // namespace

double welch_p_value(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  const auto x = mean_sd(a), y = mean_sd(b);
  const double va = x.sd * x.sd / a.size(), vb = y.sd * y.sd / b.size();
  if (va + vb == 0) return x.mean == y.mean ? 1.0 : 0.0;
  const double t = (x.mean - y.mean) / std::sqrt(va + vb);
  const double df = (va + vb) * (va + vb) / (va * va / (a.size() - 1) + vb * vb / (b.size() - 1));
  return t_two_sided(t, df);
}

void write_study_report(const std::string& work_dir, const StudyRuns& runs, const Ingredients& in) {
  const fs::path work(work_dir), pics = work / "report";
  fs::create_directories(pics);
  std::string html;
  html += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(runs.title) + "</title>\n";
  html +=
      "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse}"
      "td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}th{background:#eee}td:first-child{text-align:left}"
      "figure{display:inline-block;margin:8px}img{max-width:100%}pre{background:#f6f6f6;padding:8px;overflow:auto;"
      "font-size:12px}</style></head><body>\n";
  html += "<h1>" + escape(runs.title) + "</h1>\n<p>" + escape(runs.setting) + "</p>\n";

  // The table: accuracy mean ± sd over seeds, overall and per preamble length.
  nlohmann::json results = {
      {"seeds", runs.seeds}, {"preamble_words", runs.preambles}, {"arms", nlohmann::json::array()}};
  html += "<h2>Held-out accuracy (greedy, exact match), mean ± sd over " + std::to_string(runs.seeds.size()) +
          " seed(s)</h2>\n<table><tr><th>arm</th><th>all</th>";
  for (const auto p : runs.preambles) html += fmt::format("<th>preamble {} words</th>", p);
  html += "</tr>\n";
  std::vector<std::string> notes;
  for (size_t a = 0; a < runs.arms.size(); ++a) {
    html += "<tr><td>" + escape(runs.arms[a].name) + "</td>";
    nlohmann::json arm = {{"arm", runs.arms[a].name}, {"by_preamble", nlohmann::json::object()}};
    std::vector<int64_t> columns{-1};
    columns.insert(columns.end(), runs.preambles.begin(), runs.preambles.end());
    for (const auto p : columns) {
      const auto v = accuracies(runs, a, p);
      const auto m = mean_sd(v);
      html += v.empty() ? "<td>-</td>" : fmt::format("<td>{:.3f} ± {:.3f}</td>", m.mean, m.sd);
      const nlohmann::json cell = {{"mean", m.mean}, {"sd", m.sd}, {"values", v}};
      if (p < 0) arm["all"] = cell;
      else arm["by_preamble"][std::to_string(p)] = cell;
      if (a > 0 && runs.arms[0].vista.empty() && !runs.arms[0].sea) {
        const double pv = welch_p_value(v, accuracies(runs, 0, p));
        if (std::isfinite(pv) && pv < 0.05)
          notes.push_back(fmt::format("{} vs {} ({}): p = {:.3f}", runs.arms[a].name, runs.arms[0].name,
                                      p < 0 ? "all" : fmt::format("{} words", p), pv));
      }
    }
    html += "</tr>\n";
    results["arms"].push_back(arm);
  }
  html += "</table>\n<p><b>Significance.</b> Welch's t-test of each arm against " + escape(runs.arms[0].name) +
          " per column, two-sided, uncorrected for the number of comparisons. ";
  if (runs.seeds.size() < 2) html += "One seed: no test is possible; differences are anecdotes.";
  else if (notes.empty()) html += "No difference reaches p &lt; 0.05.";
  else {
    html += "Columns with p &lt; 0.05: ";
    for (size_t i = 0; i < notes.size(); ++i) html += (i ? "; " : "") + escape(notes[i]);
    html += ".";
  }
  html += "</p>\n";

  // Curves of the first seed: stage-2 CE and alignment similarity.
  std::vector<viz::Series> ce, sim;
  for (size_t a = 0; a < runs.arms.size(); ++a) {
    const auto metrics = runs.by_seed[0][a].dir + "/stage2/metrics.jsonl";
    viz::Series c{runs.arms[a].name, {}, {}}, s{runs.arms[a].name, {}, {}};
    for (const auto& [x, y] : read_curve(metrics, "ce")) c.x.push_back(x), c.y.push_back(y);
    for (const auto& [x, y] : read_curve(metrics, "similarity")) s.x.push_back(x), s.y.push_back(y);
    ce.push_back(c);
    sim.push_back(s);
  }
  const auto ce_png = (pics / "stage2_ce.png").string(), sim_png = (pics / "stage2_similarity.png").string();
  viz::write_line_plot(ce_png, ce, {"stage 2 CE (seed " + std::to_string(runs.seeds[0]) + ")"});
  viz::write_line_plot(sim_png, sim, {"stage 2 alignment score: l2 distance, or cosine in cos arms"});
  html += "<h2>Training curves</h2>\n" + img_tag(ce_png, "stage-2 cross-entropy per step, first seed") +
          img_tag(sim_png,
                  "stage-2 VISTA alignment score per step (measured in every arm; l2 distance, lower = closer, except "
                  "in cosine arms: cosine, higher = closer), first seed");

  // Contribution and heatmaps from each arm's first-seed model.
  const auto cases = analysis::read_contribution_cases(in.files.eval_jsonl, in.files.images, 12);
  std::vector<std::string> heat_images;
  for (size_t i = 0; i < std::min<size_t>(2, cases.size()); ++i) heat_images.push_back(cases[i].image_path);
  std::vector<analysis::ContributionCurve> curves;
  std::vector<std::vector<viz::HeatmapPanel>> heat(heat_images.size());
  nlohmann::json contribution = nlohmann::json::array();
  const auto tok = text::Tokenizer::from_dir(in.tokenizer);
  for (size_t a = 0; a < runs.arms.size(); ++a) {
    const auto& r = runs.by_seed[0][a];
    auto model = fs::exists(fs::path(r.stage2_final) / "adapter_config.json")
                     ? train::load_adapter_model(r.stage2_final, torch::kCPU).model
                     : models::load_multimodal(r.stage2_final);
    model->eval();
    const auto processor = image::load_processor_config(r.stage2_final + "/preprocessor_config.json");
    analysis::ContributionOptions o;
    o.preamble_words = runs.preambles;
    o.tmpl = data::get_template("vicuna_v1");
    o.processor = processor;
    const auto points = analysis::measure_contribution(*model, tok, cases, o);
    curves.push_back({runs.arms[a].name, points});
    contribution.push_back(analysis::contribution_json(curves.back()));
    for (size_t i = 0; i < heat_images.size(); ++i) {
      const auto map = analysis::similarity_map(*model, tok, processor, image::AspectMode::kPad, heat_images[i],
                                                "What color is the shape? Answer with one word.");
      heat[i].push_back({runs.arms[a].name, map.seen, map.values, map.rows, map.cols});
    }
  }
  results["contribution"] = contribution;
  analysis::write_contribution_plots((pics / "contribution").string(), curves);
  const auto att_png = (pics / "contribution_attention.png").string(),
             drop_png = (pics / "contribution_logprob_drop.png").string();
  html +=
      "<h2>Visual contribution over text length (first seed, " + std::to_string(cases.size()) + " questions)</h2>\n";
  html +=
      "<p>Left: the attention the first answer position puts on the image tokens, mean over layers and heads. "
      "Right: how much the answer's log-probability falls when the image is replaced by a neutral one. "
      "Questions the model would truncate are left out of the longer preambles.</p>\n";
  html += img_tag(att_png, "attention on image tokens vs preamble words") +
          img_tag(drop_png, "answer log-prob drop (real minus neutral image) vs preamble words");
  html += "<h2>Image-text similarity (the paper's Figures 2 and 3), first seed, one colour scale per image</h2>\n";
  for (size_t i = 0; i < heat.size(); ++i) {
    const auto png = (pics / fmt::format("heatmap_{}.png", i)).string();
    viz::write_heatmaps(png, heat[i], {"image tokens vs the question's tokens", "cosine"});
    html += img_tag(png, fmt::format("held-out image {}: {}", i + 1, fs::path(heat_images[i]).filename().string()));
  }
  html += "<h2>Exact configs</h2>\n";
  for (size_t a = 0; a < runs.arms.size(); ++a)
    html += "<details><summary>" + escape(runs.arms[a].name) + " (first seed)</summary><pre>" +
            escape(runs.by_seed[0][a].configs.dump(2)) + "</pre></details>\n";
  html += "</body></html>\n";
  std::ofstream(work / "report.html") << html;
  std::ofstream(work / "results_study.json") << results.dump(2) << "\n";
}

}  // namespace vista::demo
