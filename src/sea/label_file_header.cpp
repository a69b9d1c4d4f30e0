#include "sea/label_file_header.h"

#include <cstring>

#include "util/error.h"

namespace vista::sea {

namespace {

constexpr char kMagic[8] = {'V', 'S', 'E', 'A', 'L', 'B', 'L', '1'};
constexpr size_t kAlign = 64;

nlohmann::json header_json(const LabelFileHeader& h) {
  return {{"version", 1},
          {"top_n", h.top_n},
          {"grid", {h.grid_rows, h.grid_cols}},
          {"num_words", h.num_words},
          {"words_hash", h.words_hash},
          {"producer", h.producer},
          {"images", h.images}};
}

// A float such as 1e300 must not reach get<int64_t>(): converting it is undefined behaviour
// (found by the fuzzer).
int64_t integer_at(const std::string& path, const nlohmann::json& value, const char* field) {
  if (!value.is_number_integer()) fail("{}: header field '{}' must be an integer, got {}", path, field, value.dump());
  return value.get<int64_t>();
}

}  // namespace

std::string label_file_header_bytes(const LabelFileHeader& h) {
  const std::string json = header_json(h).dump();
  std::string out(kMagic, sizeof(kMagic));
  const uint64_t length = json.size();
  out.append(reinterpret_cast<const char*>(&length), sizeof(length));
  out += json;
  out.append((kAlign - out.size() % kAlign) % kAlign, '\0');
  return out;
}

LabelFileHeader parse_label_file_header(const std::string& path, const char* data, size_t size, size_t* data_offset) {
  if (size < 16 || std::memcmp(data, kMagic, sizeof(kMagic)) != 0)
    fail("{}: not a SEA label file (expected the magic 'VSEALBL1'; written by `vista sea label`)", path);
  uint64_t length = 0;
  std::memcpy(&length, data + 8, sizeof(length));
  if (length > size - 16) fail("{}: header length {} runs past the end of the file ({} bytes)", path, length, size);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data + 16, data + 16 + length);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: the header is not valid JSON: {}", path, e.what());
  }
  LabelFileHeader h;
  try {
    if (!j.at("version").is_number_integer() || j.at("version").get<int64_t>() != 1)
      fail("{}: header field 'version' is {}, expected 1", path, j.at("version").dump());
    h.top_n = integer_at(path, j.at("top_n"), "top_n");
    h.grid_rows = integer_at(path, j.at("grid").at(0), "grid");
    h.grid_cols = integer_at(path, j.at("grid").at(1), "grid");
    h.num_words = integer_at(path, j.at("num_words"), "num_words");
    h.words_hash = j.at("words_hash").get<std::string>();
    h.producer = j.at("producer");
    h.images = j.at("images").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    fail("{}: header field missing or of the wrong type: {}", path, e.what());
  }
  if (h.top_n <= 0 || h.grid_rows <= 0 || h.grid_cols <= 0 || h.num_words <= 0)
    fail("{}: header fields top_n, grid and num_words must be positive", path);
  // Bounds that keep every size computation far from overflow (a 336 px CLIP has a 24x24 grid).
  if (h.top_n > 1024 || h.grid_rows > 1024 || h.grid_cols > 1024 || h.num_words > (int64_t{1} << 31))
    fail("{}: header fields top_n {} (at most 1024), grid {}x{} (at most 1024 a side) or num_words {} out of range",
         path, h.top_n, h.grid_rows, h.grid_cols, h.num_words);
  const size_t header_end = 16 + length;
  *data_offset = header_end + (kAlign - header_end % kAlign) % kAlign;
  return h;
}

void check_label_file_size(const std::string& path, const LabelFileHeader& h, size_t data_offset, size_t size) {
  size_t records = 0, expected = 0;
  if (__builtin_mul_overflow(h.images.size(), h.record_bytes(), &records) ||
      __builtin_add_overflow(data_offset, records, &expected))
    fail("{}: {} images of {} bytes each cannot be a file", path, h.images.size(), h.record_bytes());
  if (size != expected)
    fail("{}: {} bytes, expected {} for {} images of {} patches x {} labels (truncated or not a finished pass)", path,
         size, expected, h.images.size(), h.patches(), h.top_n);
}

}  // namespace vista::sea
