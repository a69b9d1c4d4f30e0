#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
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

// The project's shared fixture set (reference data made by the real libraries). A user's clone has
// none: tests that need it call GTEST_SKIP with shared_fixtures_missing(). $VISTA_SHARED_FIXTURES
// overrides the folder the build was configured with (../shared/fixtures beside the checkout).
inline std::string shared_fixtures_root() {
  if (const char* env = std::getenv("VISTA_SHARED_FIXTURES"); env && *env) return env;
#ifdef VISTA_SHARED_FIXTURES_DIR
  return VISTA_SHARED_FIXTURES_DIR;
#else
  return "";
#endif
}
inline std::string shared_fixtures(const std::string& relative) { return shared_fixtures_root() + "/" + relative; }
inline bool have_shared_fixtures(const std::string& relative) {
  return !shared_fixtures_root().empty() && std::filesystem::exists(shared_fixtures(relative));
}
inline std::string shared_fixtures_missing(const std::string& relative) {
  return "skipped: " + shared_fixtures(relative) + " not found (a clone without the project's shared fixture set; " +
         "set VISTA_SHARED_FIXTURES to its fixtures/ folder)";
}
