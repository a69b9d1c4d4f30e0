#include "io/content_hash.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace vista::io {

std::string content_hash(const std::vector<std::string>& files) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](uint64_t word) {
    h ^= word;
    h *= 1099511628211ull;
  };
  std::vector<char> buffer(1 << 20);
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot be read (hashing the base model)", path);
    mix(static_cast<uint64_t>(std::filesystem::file_size(path)));
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto got = static_cast<size_t>(in.gcount());
      size_t i = 0;
      for (; i + 8 <= got; i += 8) {
        uint64_t word;
        std::memcpy(&word, buffer.data() + i, 8);
        mix(word);
      }
      for (; i < got; ++i) mix(static_cast<unsigned char>(buffer[i]));
    }
  }
  return fmt::format("{:016x}", h);
}

}  // namespace vista::io
