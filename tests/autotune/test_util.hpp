// Helpers shared by the autotune tests.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "spool/autotune/store.hpp"

namespace spool::autotune::test {

// A fresh directory under the system temp dir, removed (recursively) at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("spool-autotune-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

// The copies of store `name` in dir that the store moved aside as corrupt
// (`<name>.corrupt-<time>`), without their -wal / -shm companions.
inline std::vector<std::filesystem::path> aside_files(const TempDir& dir, const std::string& name) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    const std::string f = e.path().filename().string();
    if (f.rfind(name + ".corrupt-", 0) == 0 && f.find("-wal") == std::string::npos &&
        f.find("-shm") == std::string::npos) {
      out.push_back(e.path());
    }
  }
  return out;
}

inline DeviceKey lavapipe(std::string driver = "23.2.1", std::string api = "1.3.255") {
  return DeviceKey{"vulkan", "6c6c766d-7069-7065-5555-494400000000", "llvmpipe (LLVM 15.0.6, 256 bits)",
                   std::move(driver), std::move(api)};
}

inline KernelKey saxpy(std::string hash = "sha256:aaaa") { return KernelKey{"saxpy", std::move(hash)}; }

}  // namespace spool::autotune::test
