#include "util/socket_address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace refrtc {

SocketAddress SocketAddress::V4(std::array<uint8_t, 4> ip, uint16_t port) {
  SocketAddress a;
  a.family_ = Family::kIPv4;
  std::memcpy(a.ip_.data(), ip.data(), 4);
  a.port_ = port;
  return a;
}

SocketAddress SocketAddress::V6(std::array<uint8_t, 16> ip, uint16_t port) {
  SocketAddress a;
  a.family_ = Family::kIPv6;
  a.ip_ = ip;
  a.port_ = port;
  return a;
}

absl::StatusOr<SocketAddress> SocketAddress::Parse(absl::string_view ip, uint16_t port) {
  std::string s(ip);
  if (auto pct = s.find('%'); pct != std::string::npos) s.resize(pct);
  if (!s.empty() && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  std::array<uint8_t, 4> v4;
  if (inet_pton(AF_INET, s.c_str(), v4.data()) == 1) return V4(v4, port);
  std::array<uint8_t, 16> v6;
  if (inet_pton(AF_INET6, s.c_str(), v6.data()) == 1) return V6(v6, port);
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: '", ip, "'"));
}

absl::StatusOr<SocketAddress> SocketAddress::ParseHostPort(absl::string_view hp) {
  size_t colon = hp.rfind(':');
  if (colon == absl::string_view::npos) return absl::InvalidArgumentError("missing port");
  uint32_t port;
  if (!absl::SimpleAtoi(hp.substr(colon + 1), &port) || port > 65535)
    return absl::InvalidArgumentError("bad port");
  return Parse(hp.substr(0, colon), static_cast<uint16_t>(port));
}

bool SocketAddress::is_loopback() const {
  if (is_v4()) return ip_[0] == 127;
  if (is_v6()) {
    for (int i = 0; i < 15; ++i)
      if (ip_[i]) return false;
    return ip_[15] == 1;
  }
  return false;
}

bool SocketAddress::is_link_local() const {
  if (is_v4()) return ip_[0] == 169 && ip_[1] == 254;
  if (is_v6()) return ip_[0] == 0xfe && (ip_[1] & 0xc0) == 0x80;
  return false;
}

bool SocketAddress::is_any() const {
  for (size_t i = 0; i < ip_size(); ++i)
    if (ip_[i]) return false;
  return valid();
}

std::string SocketAddress::IpString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (is_v4()) inet_ntop(AF_INET, ip_.data(), buf, sizeof buf);
  else if (is_v6()) inet_ntop(AF_INET6, ip_.data(), buf, sizeof buf);
  else return "";
  return buf;
}

std::string SocketAddress::ToString() const {
  if (is_v6()) return absl::StrCat("[", IpString(), "]:", port_);
  return absl::StrCat(IpString(), ":", port_);
}

}  // namespace refrtc
