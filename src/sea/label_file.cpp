#include "sea/label_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/error.h"

namespace vista::sea {

namespace fs = std::filesystem;

namespace {

void write_all(int fd, const void* data, size_t size, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: write failed: {}", path, std::strerror(errno));
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

std::string read_prefix(const std::string& path, size_t max_bytes) {
  std::string out;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("{}: cannot open: {}", path, std::strerror(errno));
  out.resize(max_bytes);
  out.resize(std::fread(out.data(), 1, max_bytes, f));
  std::fclose(f);
  return out;
}

}  // namespace

LabelFileWriter::LabelFileWriter(const std::string& path, LabelFileHeader header)
    : path_(path), header_(std::move(header)) {
  if (fs::exists(path)) fail("{}: exists already; remove it to label again", path);
  const std::string partial = path + ".partial";
  const std::string wanted = label_file_header_bytes(header_);
  if (fs::exists(partial)) {
    const std::string found = read_prefix(partial, wanted.size());
    if (found != wanted) {
      size_t offset = 0;
      const auto old = found.size() >= 16 ? parse_label_file_header(partial, found.data(), found.size(), &offset)
                                          : LabelFileHeader{};
      std::string field = "the image list";
      if (old.top_n != header_.top_n) field = "top_n";
      else if (old.grid_rows != header_.grid_rows || old.grid_cols != header_.grid_cols) field = "grid";
      else if (old.num_words != header_.num_words || old.words_hash != header_.words_hash) field = "the word list";
      else if (old.producer != header_.producer) field = "producer (CLIP folder or score sign)";
      fail("{}: an interrupted pass with other settings ({} differs); remove it or label with the same settings",
           partial, field);
    }
    const auto size = static_cast<size_t>(fs::file_size(partial));
    done_ = static_cast<int64_t>((size - wanted.size()) / header_.record_bytes());
    fs::resize_file(partial, wanted.size() + static_cast<size_t>(done_) * header_.record_bytes());
    fd_ = ::open(partial.c_str(), O_WRONLY | O_APPEND);
  } else {
    fd_ = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd_ >= 0) write_all(fd_, wanted.data(), wanted.size(), partial);
  }
  if (fd_ < 0) fail("{}: cannot open for writing: {}", partial, std::strerror(errno));
}

LabelFileWriter::~LabelFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void LabelFileWriter::append(const torch::Tensor& ids_Nn, const torch::Tensor& scores_Nn,
                             const torch::Tensor& keep_Nn) {
  const int64_t n = header_.top_n, patches = header_.patches();
  if (done_ >= static_cast<int64_t>(header_.images.size()))
    fail("{}.partial: more records than the {} images of the header", path_, header_.images.size());
  if (ids_Nn.dim() != 2 || ids_Nn.size(0) != patches || ids_Nn.size(1) > n)
    fail("{}: labels {} do not fit records of {} patches x {} labels", path_, shape_string(ids_Nn.sizes().vec()),
         patches, n);
  auto ids = torch::full({patches, n}, -1, torch::kInt);
  auto scores = torch::zeros({patches, n}, torch::kHalf);
  const int64_t k = ids_Nn.size(1);
  const auto keep = keep_Nn.to(torch::kCPU, torch::kBool);
  ids.narrow(1, 0, k).copy_(
      torch::where(keep, ids_Nn.to(torch::kCPU, torch::kLong), torch::full_like(ids_Nn, -1, torch::kLong).cpu()));
  scores.narrow(1, 0, k).copy_(
      torch::where(keep, scores_Nn.to(torch::kCPU, torch::kFloat), torch::zeros({1}, torch::kFloat)));
  write_all(fd_, ids.data_ptr(), static_cast<size_t>(ids.numel()) * sizeof(int32_t), path_ + ".partial");
  write_all(fd_, scores.data_ptr(), static_cast<size_t>(scores.numel()) * sizeof(uint16_t), path_ + ".partial");
  ++done_;
}

void LabelFileWriter::finish() {
  if (done_ != static_cast<int64_t>(header_.images.size()))
    fail("{}.partial: {} of {} images labelled; run the pass again to go on", path_, done_, header_.images.size());
  if (::fsync(fd_) != 0) fail("{}.partial: fsync failed: {}", path_, std::strerror(errno));
  ::close(fd_);
  fd_ = -1;
  fs::rename(path_ + ".partial", path_);
}

struct LabelFile::Mapping {
  const char* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data) ::munmap(const_cast<char*>(data), size);
  }
};

LabelFile LabelFile::open(const std::string& path) {
  if (!fs::exists(path)) {
    if (fs::exists(path + ".partial"))
      fail("{}: not finished (only {}.partial exists); run `vista sea label` again to complete it", path, path);
    fail("{}: no such SEA label file (write one with `vista sea label`)", path);
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  ::fstat(fd, &st);
  auto mapping = std::make_shared<Mapping>();
  mapping->size = static_cast<size_t>(st.st_size);
  void* p = mapping->size ? ::mmap(nullptr, mapping->size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (p == MAP_FAILED) fail("{}: cannot map ({} bytes)", path, mapping->size);
  mapping->data = static_cast<const char*>(p);
  LabelFile file;
  file.path_ = path;
  file.mapping_ = mapping;
  file.header_ = parse_label_file_header(path, mapping->data, mapping->size, &file.data_offset_);
  check_label_file_size(path, file.header_, file.data_offset_, mapping->size);
  for (size_t i = 0; i < file.header_.images.size(); ++i)
    if (!file.index_.emplace(file.header_.images[i], static_cast<int64_t>(i)).second)
      fail("{}: image '{}' is listed twice in the header", path, file.header_.images[i]);
  return file;
}

std::optional<int64_t> LabelFile::find(const std::string& image) const {
  const auto it = index_.find(image);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

PatchLabels LabelFile::labels(const std::string& image) const {
  const auto record = find(image);
  if (!record) fail("{}: image '{}' has no labels in this file (labelled from another data file?)", path_, image);
  return labels_at(*record);
}

PatchLabels LabelFile::labels_at(int64_t record) const {
  const int64_t patches = header_.patches(), n = header_.top_n;
  const char* base = mapping_->data + data_offset_ + static_cast<size_t>(record) * header_.record_bytes();
  auto ids = torch::from_blob(const_cast<char*>(base), {patches, n}, torch::kInt).to(torch::kLong);
  auto scores = torch::from_blob(const_cast<char*>(base) + patches * n * sizeof(int32_t), {patches, n}, torch::kHalf)
                    .to(torch::kFloat);
  if (ids.max().item<int64_t>() >= header_.num_words || ids.min().item<int64_t>() < -1)
    fail("{}: record {} holds a word index outside the {} words", path_, record, header_.num_words);
  return {ids, scores};
}

}  // namespace vista::sea
