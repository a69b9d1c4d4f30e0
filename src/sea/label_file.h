#pragma once
// SEA's per-patch labels on disk: for every image, the top-n word indices and scores of each
// patch, in fixed-size records that are memory-mapped for training (a 576-patch, top-10 image
// takes 34.6 KB). Layout: "VSEALBL1", u64 header length, a JSON header (top_n, grid, word count
// and hash, what made it, the image names in record order), zero padding to 64 bytes, then one
// record per image: int32 ids[N*n] (-1 = no label) followed by float16 scores[N*n].
// A pass writes <file>.partial and renames it when every image is in; a pass started again on a
// .partial with the same header keeps its complete records and goes on from there.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sea/label_file_header.h"

namespace vista::sea {

class LabelFileWriter {
 public:
  // Starts <path>.partial, or resumes it when its header equals `header` (else an error naming
  // both and the field that differs). The final file must not exist yet.
  LabelFileWriter(const std::string& path, LabelFileHeader header);
  ~LabelFileWriter();
  int64_t done() const { return done_; }
  const LabelFileHeader& header() const { return header_; }
  // ids_Nn: int64 word indices, scores_Nn: float; labels with keep_Nn false are stored as id -1.
  void append(const torch::Tensor& ids_Nn, const torch::Tensor& scores_Nn, const torch::Tensor& keep_Nn);
  // Flushes, checks every image is in, renames <path>.partial to <path>.
  void finish();

 private:
  std::string path_;
  LabelFileHeader header_;
  int fd_ = -1;
  int64_t done_ = 0;
};

struct PatchLabels {
  torch::Tensor ids_Nn;     // int64, -1 = no label
  torch::Tensor scores_Nn;  // float32, 0 where no label
};

class LabelFile {
 public:
  static LabelFile open(const std::string& path);
  const LabelFileHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  std::optional<int64_t> find(const std::string& image) const;
  // Throws naming the file when the image has no record.
  PatchLabels labels(const std::string& image) const;
  PatchLabels labels_at(int64_t record) const;

 private:
  struct Mapping;
  std::string path_;
  LabelFileHeader header_;
  std::shared_ptr<Mapping> mapping_;
  size_t data_offset_ = 0;
  std::unordered_map<std::string, int64_t> index_;
};

}  // namespace vista::sea
