#pragma once
// `vista data check`: reads every record the way training will and reports what is wrong with
// the dataset, by record, before any training starts.
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace vista::data {

struct DataProblem {
  size_t index = 0;
  std::string id;
  std::string category;  // invalid_record, malformed_conversation, missing_image, undecodable_image,
                         // label_mismatch, image_truncated, no_supervised_tokens (warning), text_truncated (warning)
  std::string message;
  bool is_error = true;
};

struct DataReport {
  size_t records = 0, image_records = 0, text_records = 0, ok = 0;
  std::vector<DataProblem> problems;
  std::map<std::string, size_t> counts;   // category -> records
  std::vector<int64_t> lengths;           // LLM sequence length (tokens + image tokens) of readable records
  size_t errors() const;
};

DataReport check_dataset(const LlavaDataset& dataset, std::ostream* progress = nullptr);

// Human-readable report: counts by category, the first `max_listed` problems with record ids,
// and a length histogram with the max-length line.
void print_report(const DataReport& report, const DatasetOptions& options, std::ostream& out, size_t max_listed = 50);

}  // namespace vista::data
