// Native host: enumerating the machine's interface addresses to bind one UDP socket per address
// (each becomes an ICE host candidate, RFC 8445 §5.1.1.1).
#pragma once
#include <string>
#include <vector>

#include "util/socket_address.h"

namespace refrtc::io {

struct InterfaceFilter {
  bool loopback = true;    // 127.0.0.0/8, ::1
  bool ipv4 = true;
  bool ipv6 = true;
  // 169.254/16 and fe80::/10. RFC 8445 §5.1.1.1: link-local addresses SHOULD NOT be included
  // unless the agent knows they are useful, hence off by default.
  bool link_local = false;
  std::vector<std::string> allow_names;  // interface names ("lo", "eth0"); empty = all
};

// Addresses (port 0) of interfaces that are up, from getifaddrs(3), filtered by `filter`.
// Sorted and de-duplicated so callers get a stable order.
std::vector<SocketAddress> EnumerateInterfaces(const InterfaceFilter& filter);

// The interface index (IPv6 scope id) owning `address`, or 0 if none/not IPv6 link-local.
// SocketAddress does not carry a scope; the native host needs it to bind/send on fe80::/10.
unsigned ScopeIdFor(const SocketAddress& address);

}  // namespace refrtc::io
