#include "data/data_check.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <filesystem>

#include "image/decode.h"
#include "util/error.h"

namespace vista::data {

size_t DataReport::errors() const {
  size_t n = 0;
  for (const auto& p : problems) n += p.is_error ? 1 : 0;
  return n;
}

namespace {

std::string conversation_problem(const Conversation& c) {
  if (c.turns.empty()) return "no turns";
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const char* expected = i % 2 == 0 ? "human" : "gpt";
    if (c.turns[i].from != expected)
      return fmt::format("turn {} is from '{}', expected '{}'", i, c.turns[i].from, expected);
  }
  if (c.turns.back().from != "gpt") return "the last human turn has no reply";
  return "";
}

}  // namespace

DataReport check_dataset(const LlavaDataset& dataset, std::ostream* progress) {
  DataReport report;
  const auto& options = dataset.options();
  const auto& records = dataset.records();
  report.records = records.size();
  auto add = [&](size_t index, const std::string& id, const std::string& category, const std::string& message,
                 bool is_error = true) {
    report.problems.push_back({index, id, category, message, is_error});
    ++report.counts[category];
  };
  for (size_t i = 0; i < records.size(); ++i) {
    if (progress && i % 1000 == 0 && i > 0) fmt::print(*progress, "checked {}/{} records\n", i, records.size());
    Record record;
    try {
      record = records.record(i);
    } catch (const Error& e) {
      add(i, std::to_string(i), "invalid_record", e.what());
      continue;
    }
    record.image ? ++report.image_records : ++report.text_records;
    if (const auto problem = conversation_problem(record.conversation); !problem.empty()) {
      add(i, record.id, "malformed_conversation", problem);
      continue;
    }
    if (record.image) {
      const auto path = (std::filesystem::path(options.image_root) / *record.image).string();
      if (!std::filesystem::exists(path)) {
        add(i, record.id, "missing_image", fmt::format("{} does not exist", path));
        continue;
      }
    }
    Example example;
    try {
      example = dataset.get(i);
    } catch (const Error& e) {
      add(i, record.id, record.image ? "undecodable_image" : "malformed_conversation", e.what());
      continue;
    }
    bool clean = true;
    if (example.tokens.label_mismatch) {
      add(i, record.id, "label_mismatch", example.tokens.problem + " (all labels masked)");
      clean = false;
    }
    const auto& ids = example.tokens.input_ids;
    const int64_t n = static_cast<int64_t>(ids.size());
    const auto image_at = std::find(ids.begin(), ids.end(), kImagePlaceholderId);
    const int64_t llm_length = n + (image_at != ids.end() ? options.image_tokens - 1 : 0);
    report.lengths.push_back(llm_length);
    if (image_at != ids.end() && image_at - ids.begin() >= options.max_length) {
      add(i, record.id, "image_truncated",
          fmt::format("the image placeholder is token {} but max_length is {}: the image would be cut away",
                      image_at - ids.begin(), options.max_length));
      clean = false;
    } else if (n > options.max_length) {
      add(i, record.id, "text_truncated", fmt::format("{} tokens, truncated to {}", n, options.max_length), false);
    }
    const bool supervised = std::any_of(example.tokens.labels.begin(),
                                        example.tokens.labels.begin() + std::min(n, options.max_length),
                                        [](int64_t l) { return l != kIgnoreLabel; });
    if (!supervised && !example.tokens.label_mismatch)
      add(i, record.id, "no_supervised_tokens", "no token of the sample is supervised (after truncation)", false);
    if (clean) ++report.ok;
  }
  return report;
}

void print_report(const DataReport& report, const DatasetOptions& options, std::ostream& out, size_t max_listed) {
  fmt::print(out, "data: {} ({} records: {} with image, {} text-only)\n", options.data_path, report.records,
             report.image_records, report.text_records);
  fmt::print(out, "clean records: {} ; errors: {} ; warnings: {}\n", report.ok, report.errors(),
             report.problems.size() - report.errors());
  for (const auto& [category, count] : report.counts) fmt::print(out, "  {:<24} {}\n", category, count);
  size_t listed = 0;
  for (const auto& p : report.problems) {
    if (listed++ == max_listed) {
      fmt::print(out, "  ... {} more\n", report.problems.size() - max_listed);
      break;
    }
    fmt::print(out, "  {} record {} (id '{}') {}: {}\n", p.is_error ? "ERROR" : "warn ", p.index, p.id, p.category,
               p.message);
  }
  if (report.lengths.empty()) return;
  auto sorted = report.lengths;
  std::sort(sorted.begin(), sorted.end());
  fmt::print(out, "LLM sequence length (tokens + {} per image): min {}, median {}, p99 {}, max {}\n", options.image_tokens,
             sorted.front(), sorted[sorted.size() / 2], sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)],
             sorted.back());
  size_t widest = 1;
  std::vector<std::pair<int64_t, size_t>> rows;
  for (int64_t lo = 0, hi = 16; lo < sorted.back() + 1; lo = hi, hi *= 2) {
    const auto count = static_cast<size_t>(std::count_if(sorted.begin(), sorted.end(), [&](int64_t v) { return v >= lo && v < hi; }));
    rows.emplace_back(hi, count);
    widest = std::max(widest, count);
  }
  for (const auto& [hi, count] : rows)
    fmt::print(out, "  < {:>6} {:>8} {}\n", hi, count, std::string(count * 40 / widest, '#'));
}

}  // namespace vista::data
