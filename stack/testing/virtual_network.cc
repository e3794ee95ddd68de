#include "testing/virtual_network.h"

#include <algorithm>
#include <cstdio>

namespace refrtc::testing {
namespace {

// Livelock guards: an endpoint whose PollTimeout() keeps returning the same past deadline without
// making progress would otherwise pin virtual time forever.
constexpr uint64_t kMaxTimerStepsPerInstant = 10000;
// Zero-delay links can ping-pong forever at one instant (e.g. two echo endpoints).
constexpr uint64_t kMaxStepsPerInstant = 1000000;

bool IsMulticast(const SocketAddress& a) {
  return (a.is_v4() && (a.ip_bytes()[0] & 0xf0) == 0xe0) || (a.is_v6() && a.ip_bytes()[0] == 0xff);
}

Duration Nanos(uint64_t ns) { return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(ns)); }
uint64_t ToNanos(Duration d) {
  auto n = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  return n < 0 ? 0 : static_cast<uint64_t>(n);
}

}  // namespace

VirtualNetwork::VirtualNetwork(uint64_t seed, Instant start) : rng_(seed), now_(start) {}

void VirtualNetwork::AddEndpoint(Endpoint* ep, std::vector<SocketAddress> addresses) {
  EndpointEntry* entry = nullptr;
  for (auto& e : endpoints_)
    if (e.ep == ep) entry = &e;
  if (entry == nullptr) {
    endpoints_.push_back(EndpointEntry{ep, {}, std::nullopt});
    entry = &endpoints_.back();
  }
  std::vector<SocketAddress> added;
  for (const SocketAddress& a : addresses) {
    auto it = owners_.find(a);
    if (it != owners_.end()) {
      if (it->second != ep)
        std::fprintf(stderr, "VirtualNetwork: %s already owned by another endpoint; skipped\n",
                     a.ToString().c_str());
      continue;
    }
    owners_[a] = ep;
    entry->addresses.push_back(a);
    added.push_back(a);
  }
  for (const SocketAddress& a : added) ep->AddLocalAddress(a);
  Flush();
}

void VirtualNetwork::RemoveEndpoint(Endpoint* ep) {
  for (auto it = owners_.begin(); it != owners_.end();) {
    if (it->second == ep) it = owners_.erase(it);
    else ++it;
  }
  endpoints_.erase(std::remove_if(endpoints_.begin(), endpoints_.end(),
                                  [ep](const EndpointEntry& e) { return e.ep == ep; }),
                   endpoints_.end());
}

void VirtualNetwork::SetLink(const SocketAddress& from, const SocketAddress& to, LinkConfig config) {
  links_[{from, to}].config = config;
}

void VirtualNetwork::SetDefaultLink(LinkConfig config) { default_ = config; }

void VirtualNetwork::Blackout(bool on) { blackout_ = on; }

void VirtualNetwork::Send(EndpointEntry& from, Transmit t) {
  ++stats_.sent;
  // The virtual network carries datagrams only: a TCP transmit (TURN over TCP, util/transmit.h)
  // has no connection to go on here, so it is counted and dropped, never delivered as a datagram.
  if (t.protocol != TransportProtocol::kUdp) {
    ++stats_.dropped_not_udp;
    return;
  }
  // A `from` the endpoint does not own (e.g. 0.0.0.0 for a server-reflexive query) leaves through
  // the endpoint's first address of the destination's family, like the native loop does.
  if (std::find(from.addresses.begin(), from.addresses.end(), t.from) == from.addresses.end()) {
    auto it = std::find_if(from.addresses.begin(), from.addresses.end(),
                           [&](const SocketAddress& a) { return a.family() == t.to.family(); });
    if (it == from.addresses.end()) {
      ++stats_.dropped_no_route;
      return;
    }
    uint16_t port = t.from.port();
    t.from = *it;
    if (IsMulticast(t.to) && port != 0) t.from.set_port(port);
  }
  if (tap_) tap_(t, now_);
  if (blackout_) {
    ++stats_.lost;
    return;
  }
  LinkState& link = links_[{t.from, t.to}];
  const LinkConfig& cfg = ConfigFor(link);
  if (cfg.blackout) {
    ++stats_.lost;
    return;
  }
  // Random draws happen only for enabled impairments, so a trace depends only on the seed and
  // the configuration.
  if (cfg.loss > 0 && rng_.Unit() < cfg.loss) {
    ++stats_.lost;
    return;
  }
  Instant depart = now_;
  if (cfg.rate_bps > 0) {
    // A FIFO serializer: the datagram starts when the previous one finished and occupies the
    // link for size*8/rate seconds. Bytes not yet serialized form the queue (tail drop).
    double backlog_bytes = 0;
    if (link.busy_until > now_)
      backlog_bytes = static_cast<double>(ToNanos(link.busy_until - now_)) * cfg.rate_bps / 8e9;
    if (backlog_bytes + t.data.size() > static_cast<double>(cfg.queue_limit_bytes)) {
      ++stats_.queue_dropped;
      return;
    }
    uint64_t bits = static_cast<uint64_t>(t.data.size()) * 8;
    uint64_t ser_ns = (bits * 1000000000ull + cfg.rate_bps - 1) / cfg.rate_bps;
    link.busy_until = std::max(now_, link.busy_until) + Nanos(ser_ns);
    depart = link.busy_until;
  }
  Instant at = depart + cfg.delay;
  if (cfg.jitter > Duration::zero()) at += Nanos(rng_.Range(0, ToNanos(cfg.jitter)));
  if (cfg.reorder > 0 && rng_.Unit() < cfg.reorder) at += cfg.reorder_extra;
  bool dup = cfg.duplicate > 0 && rng_.Unit() < cfg.duplicate;
  if (dup) {
    ++stats_.duplicated;
    queue_.push(InFlight{at, seq_++, t});
  }
  queue_.push(InFlight{at, seq_++, std::move(t)});
}

void VirtualNetwork::DrainEndpoint(EndpointEntry& e) {
  while (std::optional<Transmit> t = e.ep->PollTransmit()) Send(e, std::move(*t));
}

void VirtualNetwork::Flush() {
  // Every endpoint, not only the one that handled the last event: usrsctp's global timer
  // processing can make one engine queue output on behalf of another.
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    DrainEndpoint(endpoints_[i]);
    endpoints_[i].deadline = endpoints_[i].ep->PollTimeout();
  }
}

size_t VirtualNetwork::IndexOf(Endpoint* ep) const {
  for (size_t i = 0; i < endpoints_.size(); ++i)
    if (endpoints_[i].ep == ep) return i;
  return endpoints_.size();
}

void VirtualNetwork::AfterEvent(size_t index) {
  if (!isolated_ || index >= endpoints_.size()) {
    Flush();
    return;
  }
  DrainEndpoint(endpoints_[index]);
  endpoints_[index].deadline = endpoints_[index].ep->PollTimeout();
}

std::optional<std::pair<Instant, size_t>> VirtualNetwork::NextTimer() {
  std::optional<std::pair<Instant, size_t>> best;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    std::optional<Instant> t =
        isolated_ ? endpoints_[i].deadline : endpoints_[i].ep->PollTimeout();
    if (t && (!best || *t < best->first)) best = std::make_pair(*t, i);
  }
  return best;
}

void VirtualNetwork::AdvanceTo(Instant t, bool timer_event) {
  if (t > now_) {
    now_ = t;
    timer_steps_at_instant_ = steps_at_instant_ = 0;
    return;
  }
  ++steps_at_instant_;
  if (timer_event) ++timer_steps_at_instant_;
  if (timer_steps_at_instant_ > kMaxTimerStepsPerInstant || steps_at_instant_ > kMaxStepsPerInstant) {
    if (!warned_livelock_) {
      std::fprintf(stderr,
                   "VirtualNetwork: no progress after %llu events at one instant (an endpoint keeps "
                   "returning a past deadline, or a zero-delay loop); advancing time by 1 ms\n",
                   static_cast<unsigned long long>(steps_at_instant_));
      warned_livelock_ = true;
    }
    now_ += std::chrono::milliseconds(1);
    timer_steps_at_instant_ = steps_at_instant_ = 0;
  }
}

bool VirtualNetwork::StepUntil(Instant limit) {
  std::optional<std::pair<Instant, size_t>> timer = NextTimer();
  bool have_packet = !queue_.empty();
  if (!have_packet && !timer) return false;
  // Datagrams win ties with timers: an arrival at the deadline may make the timer moot.
  if (have_packet && (!timer || queue_.top().at <= timer->first)) {
    if (std::max(queue_.top().at, now_) > limit) return false;
    InFlight p = queue_.top();
    queue_.pop();
    AdvanceTo(p.at, false);
    if (IsMulticast(p.t.to)) {
      // Every endpoint with an address of the group's family (snapshot: callbacks may remove).
      std::vector<Endpoint*> members;
      for (const auto& e : endpoints_)
        for (const auto& a : e.addresses)
          if (a.family() == p.t.to.family()) {
            members.push_back(e.ep);
            break;
          }
      if (members.empty()) ++stats_.dropped_no_route;
      for (Endpoint* ep : members) {
        size_t index = IndexOf(ep);
        if (index >= endpoints_.size()) continue;
        ++stats_.delivered;
        ++stats_.multicast_delivered;
        ep->HandleReceive(ByteView(p.t.data), p.t.to, p.t.from, now_);
        AfterEvent(isolated_ ? IndexOf(ep) : 0);
      }
      return true;
    }
    auto owner = owners_.find(p.t.to);
    if (owner == owners_.end()) {
      ++stats_.dropped_no_route;
      return true;
    }
    ++stats_.delivered;
    owner->second->HandleReceive(ByteView(p.t.data), p.t.to, p.t.from, now_);
    AfterEvent(isolated_ ? IndexOf(owner->second) : 0);
  } else {
    // A past deadline is due now (not at its stale value), so a stuck endpoint cannot keep
    // RunFor()/RunUntil() below their limit forever.
    if (std::max(timer->first, now_) > limit) return false;
    // Never early: now_ only moves forward, so now_ >= deadline when HandleTimeout runs; a
    // deadline already in the past fires at the current time.
    AdvanceTo(timer->first, true);
    ++stats_.timeouts_fired;
    endpoints_[timer->second].ep->HandleTimeout(now_);
    AfterEvent(timer->second);
  }
  return true;
}

bool VirtualNetwork::Step() { return StepUntil(Instant::max()); }

void VirtualNetwork::RunFor(Duration d) {
  Instant end = now_ + d;
  Flush();
  while (StepUntil(end)) {
  }
  if (now_ < end) now_ = end;
}

bool VirtualNetwork::RunUntil(std::function<bool()> done, Duration max_virtual) {
  Instant end = now_ + max_virtual;
  Flush();
  if (done()) return true;
  while (StepUntil(end)) {
    if (done()) return true;
  }
  if (now_ < end) now_ = end;
  return done();
}

}  // namespace refrtc::testing
