#pragma once
// The parsers under test read files; each input goes to one scratch file per process.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

inline std::string write_scratch(const uint8_t* data, size_t size, const char* suffix) {
  static const std::string path = "/tmp/vista_fuzz_" + std::to_string(::getpid()) + suffix;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}
