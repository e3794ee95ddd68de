#include "mdns/resolver.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "mdns/dns_message.h"

namespace refrtc::mdns {
namespace {
constexpr size_t kMaxQueuedTransmits = 256;
constexpr size_t kMaxQueuedEvents = 256;
}  // namespace

SocketAddress QuerySource(SocketAddress::Family family) {
  if (family == SocketAddress::Family::kIPv6) return SocketAddress::V6({}, kMdnsPort);
  return SocketAddress::V4({0, 0, 0, 0}, kMdnsPort);
}

Resolver::Resolver(ResolverConfig config) : config_(std::move(config)) {
  if (config_.max_sends < 1) config_.max_sends = 1;
  if (config_.max_addresses_per_name < 1) config_.max_addresses_per_name = 1;
}

Resolver::CacheEntry* Resolver::FindCache(absl::string_view name) {
  for (auto& e : cache_)
    if (NameEquals(e.name, name)) return &e;
  return nullptr;
}

const Resolver::CacheEntry* Resolver::FindCache(absl::string_view name) const {
  for (const auto& e : cache_)
    if (NameEquals(e.name, name)) return &e;
  return nullptr;
}

void Resolver::Expire(Instant now) {
  for (auto& e : cache_)
    e.addresses.erase(std::remove_if(e.addresses.begin(), e.addresses.end(),
                                     [now](const CachedAddress& a) { return a.expires <= now; }),
                      e.addresses.end());
  cache_.erase(std::remove_if(cache_.begin(), cache_.end(),
                              [](const CacheEntry& e) { return e.addresses.empty(); }),
               cache_.end());
}

std::vector<SocketAddress> Resolver::Lookup(absl::string_view name, Instant now) const {
  std::vector<SocketAddress> out;
  if (const CacheEntry* e = FindCache(name))
    for (const auto& a : e->addresses)
      if (a.expires > now) out.push_back(a.address);
  return out;
}

absl::Status Resolver::Resolve(absl::string_view name, Instant now) {
  // RFC 6762 §3: names ending in ".local." are link-local and resolved with mDNS only.
  absl::string_view n = name;
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);
  if (!absl::EndsWithIgnoreCase(n, ".local") || n.size() <= 6)
    return absl::InvalidArgumentError("mdns: not a .local name");
  if (BuildQuery(n, kTypeA, false).empty()) return absl::InvalidArgumentError("mdns: malformed name");
  Expire(now);
  std::vector<SocketAddress> known = Lookup(n, now);
  if (!known.empty()) {
    if (events_.size() < kMaxQueuedEvents) events_.push_back(Resolved{std::string(n), known});
    return absl::OkStatus();
  }
  for (const auto& p : pending_)
    if (NameEquals(p.name, n)) return absl::OkStatus();  // joined
  if (pending_.size() >= config_.max_pending)
    return absl::ResourceExhaustedError("mdns: too many names being resolved");
  pending_.push_back(Pending{std::string(n), 0, now});
  SendQueries(pending_.back());
  pending_.back().next = now + config_.retry_interval;
  return absl::OkStatus();
}

void Resolver::SendQueries(Pending& p) {
  // RFC 6762 §5.4: the QU bit is only meaningful on the first query.
  bool qu = config_.unicast_response && p.sends == 0;
  ++p.sends;
  for (int fam = 0; fam < 2; ++fam) {
    bool v6 = fam == 1;
    if (v6 ? !config_.query_ipv6 : !config_.query_ipv4) continue;
    SocketAddress from = QuerySource(v6 ? SocketAddress::Family::kIPv6 : SocketAddress::Family::kIPv4);
    SocketAddress to = v6 ? GroupV6() : GroupV4();
    for (uint16_t type : {kTypeA, kTypeAaaa}) {
      if (transmits_.size() >= kMaxQueuedTransmits) return;
      transmits_.push_back(Transmit{from, to, BuildQuery(p.name, type, qu)});
    }
  }
}

bool Resolver::Remember(const std::string& name, const SocketAddress& addr, uint32_t ttl, Instant now) {
  Duration life = std::min<Duration>(seconds(ttl), config_.max_ttl);
  CacheEntry* e = FindCache(name);
  if (e == nullptr) {
    if (cache_.size() >= config_.max_cache && !cache_.empty()) {
      // Evict the entry whose last address expires first.
      auto latest = [](const CacheEntry& c) {
        Instant t{};
        for (const auto& a : c.addresses) t = std::max(t, a.expires);
        return t;
      };
      auto victim = std::min_element(cache_.begin(), cache_.end(), [&](const CacheEntry& a, const CacheEntry& b) {
        return latest(a) < latest(b);
      });
      cache_.erase(victim);
    }
    if (config_.max_cache == 0) return true;
    cache_.push_back(CacheEntry{name, {}});
    e = &cache_.back();
  }
  for (auto& a : e->addresses) {
    if (a.address == addr) {
      a.expires = now + life;  // refreshed
      return false;
    }
  }
  if (e->addresses.size() >= config_.max_addresses_per_name) return false;
  e->addresses.push_back(CachedAddress{addr, now + life});
  return true;
}

bool Resolver::HandlePacket(ByteView packet, const SocketAddress& remote, Instant now) {
  // RFC 6762 §6: responses whose source port is not 5353 MUST be silently ignored.
  if (remote.port() != kMdnsPort) return false;
  auto msg = Message::Parse(packet);
  if (!msg.ok()) return false;
  // §18.2 QR=1, §18.3 opcode 0, §18.11 rcode 0; the id is ignored (§18.1).
  if (!msg->is_response() || msg->opcode() != 0 || msg->rcode() != 0) return false;
  Expire(now);
  bool answered = false;
  // Names with new addresses, in the order they are first seen.
  std::vector<std::string> updated;
  auto consider = [&](const ResourceRecord& rr) {
    auto addr = rr.address();
    if (!addr) return;  // other types (PTR, SRV, TXT, NSEC, ...) are not ours: skipped
    auto pending = std::find_if(pending_.begin(), pending_.end(),
                                [&](const Pending& p) { return NameEquals(p.name, rr.name); });
    CacheEntry* cached = FindCache(rr.name);
    if (pending == pending_.end() && cached == nullptr) return;  // unsolicited: not cached
    std::string name = pending != pending_.end() ? pending->name : cached->name;
    if (rr.ttl == 0) {
      // §10.1 goodbye: the address is no longer valid.
      if (cached) {
        cached->addresses.erase(std::remove_if(cached->addresses.begin(), cached->addresses.end(),
                                               [&](const CachedAddress& a) { return a.address == *addr; }),
                                cached->addresses.end());
      }
      return;
    }
    answered = true;
    if (Remember(name, *addr, rr.ttl, now) || pending != pending_.end()) {
      if (std::find(updated.begin(), updated.end(), name) == updated.end()) updated.push_back(name);
    }
  };
  for (const auto& rr : msg->answers) consider(rr);
  for (const auto& rr : msg->additionals) consider(rr);
  Expire(now);
  for (const std::string& name : updated) {
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                  [&](const Pending& p) { return NameEquals(p.name, name); }),
                   pending_.end());
    std::vector<SocketAddress> addrs = Lookup(name, now);
    if (!addrs.empty() && events_.size() < kMaxQueuedEvents) events_.push_back(Resolved{name, addrs});
  }
  return answered;
}

void Resolver::HandleTimeout(Instant now) {
  for (size_t i = 0; i < pending_.size();) {
    Pending& p = pending_[i];
    if (p.next > now) {
      ++i;
      continue;
    }
    if (p.sends >= config_.max_sends) {
      // Unresolved after the retries: the candidate is dropped silently by the caller.
      if (events_.size() < kMaxQueuedEvents) events_.push_back(Failed{p.name});
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    SendQueries(p);
    p.next = now + config_.retry_interval;
    ++i;
  }
}

std::optional<Instant> Resolver::PollTimeout() const {
  std::optional<Instant> t;
  for (const auto& p : pending_)
    if (!t || p.next < *t) t = p.next;
  return t;
}

std::optional<Transmit> Resolver::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<ResolverEvent> Resolver::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ResolverEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace refrtc::mdns
