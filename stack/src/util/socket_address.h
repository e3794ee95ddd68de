// An IPv4 or IPv6 address with a port: what hosts give the engine for every datagram
// (local and remote), what ICE candidates carry and what XOR-MAPPED-ADDRESS encodes.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace refrtc {

class SocketAddress {
 public:
  enum class Family : uint8_t { kNone = 0, kIPv4 = 4, kIPv6 = 6 };

  SocketAddress() = default;
  static SocketAddress V4(std::array<uint8_t, 4> ip, uint16_t port);
  static SocketAddress V6(std::array<uint8_t, 16> ip, uint16_t port);
  // "1.2.3.4", "::1", "fe80::1%eth0" (scope kept as id 0: link-local scopes are a host concern).
  static absl::StatusOr<SocketAddress> Parse(absl::string_view ip, uint16_t port);
  // "1.2.3.4:5678" or "[::1]:5678".
  static absl::StatusOr<SocketAddress> ParseHostPort(absl::string_view host_port);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kIPv4; }
  bool is_v6() const { return family_ == Family::kIPv6; }
  bool valid() const { return family_ != Family::kNone; }
  uint16_t port() const { return port_; }
  void set_port(uint16_t p) { port_ = p; }
  // 4 bytes for v4, 16 for v6.
  const uint8_t* ip_bytes() const { return ip_.data(); }
  size_t ip_size() const { return is_v4() ? 4 : (is_v6() ? 16 : 0); }
  bool is_loopback() const;
  bool is_link_local() const;
  bool is_any() const;

  std::string IpString() const;
  std::string ToString() const;  // "ip:port" or "[ip]:port"

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) {
    return a.family_ == b.family_ && a.port_ == b.port_ && a.ip_ == b.ip_;
  }
  friend bool operator!=(const SocketAddress& a, const SocketAddress& b) { return !(a == b); }
  friend bool operator<(const SocketAddress& a, const SocketAddress& b) {
    if (a.family_ != b.family_) return a.family_ < b.family_;
    if (a.ip_ != b.ip_) return a.ip_ < b.ip_;
    return a.port_ < b.port_;
  }
  template <typename H>
  friend H AbslHashValue(H h, const SocketAddress& a) {
    return H::combine(std::move(h), a.family_, a.ip_, a.port_);
  }

 private:
  Family family_ = Family::kNone;
  std::array<uint8_t, 16> ip_{};
  uint16_t port_ = 0;
};

}  // namespace refrtc

namespace std {
template <>
struct hash<refrtc::SocketAddress> {
  size_t operator()(const refrtc::SocketAddress& a) const {
    size_t h = static_cast<size_t>(a.family()) * 1000003u ^ a.port();
    for (size_t i = 0; i < a.ip_size(); ++i) h = h * 131 + a.ip_bytes()[i];
    return h;
  }
};
}  // namespace std
