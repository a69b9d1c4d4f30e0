#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

// A fresh temporary folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("vista_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
  static inline int counter_ = 0;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Runs fn, expects a vista::Error (or any std::exception) whose message contains every needle.
template <typename Fn>
void expect_error_containing(Fn&& fn, std::initializer_list<std::string> needles) {
  try {
    fn();
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    const std::string message = e.what();
    for (const auto& needle : needles) EXPECT_NE(message.find(needle), std::string::npos) << "message: " << message << "\nmissing: " << needle;
  }
}

inline std::string testdata(const std::string& relative) { return std::string(VISTA_TESTDATA_DIR) + "/" + relative; }
