#include "io/interfaces.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace refrtc::io {
namespace {

// Converts an interface sockaddr to a SocketAddress with port 0; invalid for other families.
SocketAddress FromIfaddr(const sockaddr* sa) {
  if (sa == nullptr) return SocketAddress();
  if (sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    std::array<uint8_t, 4> ip;
    std::memcpy(ip.data(), &sin->sin_addr, 4);
    return SocketAddress::V4(ip, 0);
  }
  if (sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::array<uint8_t, 16> ip;
    std::memcpy(ip.data(), &sin6->sin6_addr, 16);
    return SocketAddress::V6(ip, 0);
  }
  return SocketAddress();
}

}  // namespace

std::vector<SocketAddress> EnumerateInterfaces(const InterfaceFilter& filter) {
  std::vector<SocketAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (!(it->ifa_flags & IFF_UP)) continue;
    SocketAddress a = FromIfaddr(it->ifa_addr);
    if (!a.valid()) continue;
    if (a.is_v4() && !filter.ipv4) continue;
    if (a.is_v6() && !filter.ipv6) continue;
    if (a.is_loopback() && !filter.loopback) continue;
    if (a.is_link_local() && !filter.link_local) continue;
    if (!filter.allow_names.empty()) {
      const char* name = it->ifa_name ? it->ifa_name : "";
      if (std::find(filter.allow_names.begin(), filter.allow_names.end(), name) ==
          filter.allow_names.end())
        continue;
    }
    out.push_back(a);
  }
  freeifaddrs(list);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

unsigned ScopeIdFor(const SocketAddress& address) {
  if (!address.is_v6() || !address.is_link_local()) return 0;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return 0;
  unsigned scope = 0;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET6) continue;
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
    if (std::memcmp(&sin6->sin6_addr, address.ip_bytes(), 16) == 0) {
      scope = sin6->sin6_scope_id ? sin6->sin6_scope_id : if_nametoindex(it->ifa_name);
      break;
    }
  }
  freeifaddrs(list);
  return scope;
}

}  // namespace refrtc::io
