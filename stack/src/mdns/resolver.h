// A sans-IO Multicast DNS resolver for ICE's `.local` host candidates
// (draft-ietf-mmusic-mdns-ice-candidates §3.2.1: the receiver resolves the name with mDNS and
// uses the address; a name that does not resolve is dropped).
//
// RFC 6762 §5.1 one-shot queries: each name is asked for A and AAAA, one question per packet
// (some responders, e.g. Chromium's, accept only one question), to 224.0.0.251:5353 and/or
// [ff02::fb]:5353, `max_sends` times `retry_interval` apart; the name fails `retry_interval`
// after the last send. Queries leave "from" the host's mDNS socket (any-address, port 5353, see
// QuerySource()) so that multicast responses reach us. The QU bit is off by default: several
// processes on one machine share port 5353 and a unicast reply would reach only one of them.
//
// Responses (RFC 6762 §6, §18): accepted from source port 5353 only, QR set, opcode 0, rcode 0,
// id ignored; A/AAAA records (class IN, cache-flush bit ignored) in the answer or additional
// section whose name equals a pending (or cached) name answer it. TTL 0 (goodbye, §10.1)
// removes the address from the cache. Bounded: max_pending names in flight, max_cache names
// cached (soonest-expiring evicted), max_addresses_per_name addresses each.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "util/bytes.h"
#include "util/socket_address.h"
#include "util/time.h"
#include "util/transmit.h"

namespace refrtc::mdns {

struct ResolverConfig {
  int max_sends = 3;
  Duration retry_interval = seconds(1);
  bool query_ipv4 = true;  // send to 224.0.0.251
  bool query_ipv6 = true;  // send to ff02::fb
  bool unicast_response = false;  // QU bit on the first query (RFC 6762 §5.4)
  size_t max_pending = 32;
  size_t max_cache = 64;
  size_t max_addresses_per_name = 4;
  Duration max_ttl = seconds(3600);  // cache lifetime cap
};

struct Resolved {
  std::string name;                     // as asked
  std::vector<SocketAddress> addresses;  // port 0; all known addresses of the name
};
struct Failed {
  std::string name;
};
using ResolverEvent = std::variant<Resolved, Failed>;

// Where the host should send from / what `local` it reports for its mDNS socket:
// 0.0.0.0:5353 or [::]:5353.
SocketAddress QuerySource(SocketAddress::Family family);

class Resolver {
 public:
  explicit Resolver(ResolverConfig config = {});

  // Starts resolving `name` (must end in ".local", RFC 6762 §3). A cached name yields a Resolved
  // event at once; a name already pending is joined (no new queries). InvalidArgument for a bad
  // name, ResourceExhausted when max_pending names are in flight.
  absl::Status Resolve(absl::string_view name, Instant now);

  // One datagram the host classified as mDNS (see engine/demux.h IsMdns). Returns true if it was
  // a valid response that answered a name we asked for.
  bool HandlePacket(ByteView packet, const SocketAddress& remote, Instant now);

  void HandleTimeout(Instant now);
  std::optional<Instant> PollTimeout() const;
  std::optional<Transmit> PollTransmit();
  std::optional<ResolverEvent> PollEvent();

  // Unexpired cached addresses of `name` (empty if none).
  std::vector<SocketAddress> Lookup(absl::string_view name, Instant now) const;
  size_t pending() const { return pending_.size(); }
  size_t cached() const { return cache_.size(); }

 private:
  struct Pending {
    std::string name;
    int sends = 0;
    Instant next{};
  };
  struct CachedAddress {
    SocketAddress address;
    Instant expires;
  };
  struct CacheEntry {
    std::string name;
    std::vector<CachedAddress> addresses;
  };

  void SendQueries(Pending& p);
  CacheEntry* FindCache(absl::string_view name);
  const CacheEntry* FindCache(absl::string_view name) const;
  void Expire(Instant now);
  // Merges `addr` into the cache for `name`; returns true if it is new.
  bool Remember(const std::string& name, const SocketAddress& addr, uint32_t ttl, Instant now);

  ResolverConfig config_;
  std::vector<Pending> pending_;
  std::vector<CacheEntry> cache_;
  std::deque<Transmit> transmits_;
  std::deque<ResolverEvent> events_;
};

}  // namespace refrtc::mdns
