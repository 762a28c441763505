#pragma once
// Byte form of plain records, for moving results between ranks (the work queue, broadcasts).
//
// A record is written field by field in a fixed order and read back in the same order; numbers are
// copied bit for bit, so a round trip is exact and a result is the same whichever rank computed
// it. Sizes travel as 64-bit counts. A truncated buffer throws Error instead of reading past its end.
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/vec3.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace tlsmap {

class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const char* p = reinterpret_cast<const char*>(&v);
    b_.insert(b_.end(), p, p + sizeof(T));
  }
  void put(const Vec3& v) { put(v[0]), put(v[1]), put(v[2]); }
  void put(const std::string& s) {
    put<std::uint64_t>(s.size());
    b_.insert(b_.end(), s.begin(), s.end());
  }
  template <class T>
  void put(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    for (const auto& x : v) put(x);
  }
  std::vector<char> take() { return std::move(b_); }

 private:
  std::vector<char> b_;
};

class ByteReader {
 public:
  ByteReader(const char* p, std::size_t n) : p_(p), end_(p + n) {}
  template <class T>
  void get(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
  }
  void get(Vec3& v) { get(v[0]), get(v[1]), get(v[2]); }
  void get(std::string& s) {
    const auto n = take<std::uint64_t>();
    need(n);
    s.assign(p_, n);
    p_ += n;
  }
  template <class T>
  void get(std::vector<T>& v) {
    const auto n = take<std::uint64_t>();
    need(n);  // each element is at least one byte: a corrupt count cannot allocate beyond the buffer
    v.resize(n);
    for (auto& x : v) get(x);
  }
  template <class T>
  T take() {
    T v;
    get(v);
    return v;
  }
  bool at_end() const { return p_ == end_; }

 private:
  void need(std::size_t n) const {
    if (static_cast<std::size_t>(end_ - p_) < n) throw Error("corrupt result record (truncated)");
  }
  const char* p_;
  const char* end_;
};

}  // namespace tlsmap
