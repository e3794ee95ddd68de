// Strong integer types (Ssrc, Tsn, StreamId, ...) so that values of different protocol
// fields cannot be mixed up silently.
#pragma once
#include <cstdint>
#include <functional>
#include <ostream>

namespace refrtc {

template <typename Tag, typename T>
class StrongType {
 public:
  using ValueType = T;
  constexpr StrongType() : value_() {}
  constexpr explicit StrongType(T v) : value_(v) {}
  constexpr T value() const { return value_; }
  friend constexpr bool operator==(StrongType a, StrongType b) { return a.value_ == b.value_; }
  friend constexpr bool operator!=(StrongType a, StrongType b) { return a.value_ != b.value_; }
  friend constexpr bool operator<(StrongType a, StrongType b) { return a.value_ < b.value_; }
  friend std::ostream& operator<<(std::ostream& os, StrongType v) { return os << +v.value_; }
  template <typename H>
  friend H AbslHashValue(H h, StrongType v) {
    return H::combine(std::move(h), v.value_);
  }

 private:
  T value_;
};

using StreamId = StrongType<struct StreamIdTag, uint16_t>;   // SCTP stream id = data channel id
using Ppid = StrongType<struct PpidTag, uint32_t>;           // SCTP payload protocol identifier
using Tsn = StrongType<struct TsnTag, uint32_t>;             // SCTP transmission sequence number
using Ssrc = StrongType<struct SsrcTag, uint32_t>;           // RTP synchronization source

}  // namespace refrtc

namespace std {
template <typename Tag, typename T>
struct hash<refrtc::StrongType<Tag, T>> {
  size_t operator()(refrtc::StrongType<Tag, T> v) const { return std::hash<T>()(v.value()); }
};
}  // namespace std
