#pragma once
// FNV-1a over the bytes of what determines a stage's results (the configuration, every setting that
// changes them, the output layout). A rerun resumes from the file only when its stored fingerprint
// matches (search_stage.cpp, md_pairs_stage.cpp).
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace tlsmap {

class Fingerprint {
 public:
  template <class T>
  void add(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    add_bytes(&v, sizeof v);
  }
  template <class T>
  void add_vec(const std::vector<T>& v) {
    for (const auto& x : v) add(x);
  }
  void add_string(const std::string& s) { add_bytes(s.data(), s.size()); }
  void add_bytes(const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    for (std::size_t k = 0; k < n; ++k) h_ = (h_ ^ c[k]) * 1099511628211ULL;
  }
  std::string hex() const { return fmt::format("{:016x}", h_); }

 private:
  std::uint64_t h_ = 14695981039346656037ULL;
};

}  // namespace tlsmap
