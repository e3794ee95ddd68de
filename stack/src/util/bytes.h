// Byte buffers and bounds-checked big-endian readers/writers used by every wire parser.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/types/span.h"

namespace refrtc {

using Bytes = std::vector<uint8_t>;
using ByteView = absl::Span<const uint8_t>;

inline ByteView AsBytes(absl::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline absl::string_view AsString(ByteView b) {
  return absl::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Reads big-endian integers from a span; every read is bounds checked and a failed read
// leaves the reader in a failed state (ok() == false) instead of reading past the end.
class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }

  std::optional<uint8_t> U8() {
    if (!Need(1)) return std::nullopt;
    return data_[pos_++];
  }
  std::optional<uint16_t> U16() {
    if (!Need(2)) return std::nullopt;
    uint16_t v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::optional<uint32_t> U32() {
    if (!Need(4)) return std::nullopt;
    uint32_t v = static_cast<uint32_t>(data_[pos_]) << 24 | static_cast<uint32_t>(data_[pos_ + 1]) << 16 |
                 static_cast<uint32_t>(data_[pos_ + 2]) << 8 | data_[pos_ + 3];
    pos_ += 4;
    return v;
  }
  std::optional<uint64_t> U64() {
    auto hi = U32();
    auto lo = U32();
    if (!hi || !lo) return std::nullopt;
    return static_cast<uint64_t>(*hi) << 32 | *lo;
  }
  std::optional<ByteView> Take(size_t n) {
    if (!Need(n)) return std::nullopt;
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  bool Skip(size_t n) { return Take(n).has_value(); }

 private:
  bool Need(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  ByteView data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class ByteWriter {
 public:
  explicit ByteWriter(Bytes* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v) {
    out_->push_back(static_cast<uint8_t>(v >> 8));
    out_->push_back(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  void U64(uint64_t v) {
    U32(static_cast<uint32_t>(v >> 32));
    U32(static_cast<uint32_t>(v));
  }
  void Append(ByteView v) { out_->insert(out_->end(), v.begin(), v.end()); }
  void Zeros(size_t n) { out_->insert(out_->end(), n, 0); }
  size_t size() const { return out_->size(); }
  // Overwrites a big-endian u16 at an earlier offset (length fields written after the body).
  void PatchU16(size_t offset, uint16_t v) {
    (*out_)[offset] = static_cast<uint8_t>(v >> 8);
    (*out_)[offset + 1] = static_cast<uint8_t>(v);
  }

 private:
  Bytes* out_;
};

}  // namespace refrtc
