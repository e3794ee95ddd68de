// A deterministic virtual-time network for tests, benchmarks and scale runs: endpoints exchange
// datagrams through seeded impairments (loss, delay, jitter, reordering, duplication, rate limit
// with a tail-drop queue, blackout) while time jumps from event to event — nothing sleeps.
//
// Clock note: usrsctp keeps a PROCESS-GLOBAL timer clock that is advanced from the `now` values
// the engines are fed (usrsctp_handle_timers(elapsed)). Every engine in one process must therefore
// be fed one monotonic clock. A VirtualNetwork's clock is shared by all of its endpoints, so that
// holds within one network; never run two VirtualNetworks with different clocks (or a network and
// a native io::EventLoop) driving engines concurrently in one process. Running networks one after
// another is fine as long as each starts at or after the previous one's end time — the default
// start (steady_clock epoch + 1 h) repeats, so sequential tests should not rely on SCTP timers
// across networks.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

#include "refrtc/endpoint.h"
#include "util/random.h"
#include "util/socket_address.h"
#include "util/time.h"
#include "util/transmit.h"

namespace refrtc::testing {

// Impairments of one directional link (from-address -> to-address). Applied in this order when a
// datagram is sent: blackout, loss, rate-limit queue (tail drop), delay + jitter, reorder, duplicate.
struct LinkConfig {
  double loss = 0;           // probability a datagram is dropped
  Duration delay = Duration::zero();   // one-way propagation delay
  Duration jitter = Duration::zero();  // extra delay uniform in [0, jitter] (may reorder)
  double reorder = 0;        // probability a datagram gets `reorder_extra` added (overtaken)
  double duplicate = 0;      // probability a datagram is delivered twice
  uint64_t rate_bps = 0;     // 0 = unlimited; else serialization delay + FIFO queue
  size_t queue_limit_bytes = 1 << 20;  // bytes waiting for serialization before tail drop
  bool blackout = false;     // drop everything on this link
  Duration reorder_extra = std::chrono::milliseconds(10);
};

class VirtualNetwork {
 public:
  struct Stats {
    uint64_t sent = 0;              // datagrams polled from endpoints
    uint64_t delivered = 0;         // HandleReceive calls (duplicates included)
    uint64_t lost = 0;              // loss + blackout
    uint64_t duplicated = 0;        // extra copies scheduled
    uint64_t dropped_no_route = 0;
    uint64_t dropped_not_udp = 0;   // TCP transmits (the virtual network has no streams)  // destination owned by no endpoint at delivery time
    uint64_t multicast_delivered = 0;  // HandleReceive calls for multicast datagrams
    uint64_t queue_dropped = 0;     // tail drops of rate-limited links
    uint64_t timeouts_fired = 0;    // HandleTimeout calls
  };

  explicit VirtualNetwork(uint64_t seed, Instant start = Instant{} + std::chrono::hours(1));

  // Multicast (224.0.0.0/4, ff00::/8 — e.g. mDNS to 224.0.0.251:5353): a datagram sent to a
  // group is delivered to EVERY endpoint owning an address of that family, the sender included
  // (like IP_MULTICAST_LOOP), with `local` = the group address. Its source is the sender's first
  // address of the family with the port of Transmit.from when that is nonzero (an mDNS query
  // from mdns::QuerySource() leaves from port 5353, as through the native loop's mDNS socket).
  //
  // Registers `ep` as owner of `addresses` and calls ep->AddLocalAddress for each, then drains
  // its transmits. An address already owned by another endpoint is skipped (logged).
  void AddEndpoint(Endpoint* ep, std::vector<SocketAddress> addresses);
  // Forgets `ep`; datagrams still in flight to its addresses are dropped (dropped_no_route).
  void RemoveEndpoint(Endpoint* ep);

  void SetLink(const SocketAddress& from, const SocketAddress& to, LinkConfig config);
  void SetDefaultLink(LinkConfig config);  // for every pair without a SetLink
  void Blackout(bool on);                  // drop everything sent while on

  Instant now() const { return now_; }

  // Advances to the earliest event — an in-flight datagram's arrival or an endpoint's deadline —
  // handles it, then drains all transmits. Datagrams win ties with timers; ties among datagrams
  // are broken by send order. Returns false (and does nothing) when no event is pending.
  bool Step();
  // Runs every event up to now()+d, then sets now() to now()+d.
  void RunFor(Duration d);
  // Runs events until done() (checked before the first and after every event) or `max_virtual`
  // of virtual time has passed; returns done().
  bool RunUntil(std::function<bool()> done, Duration max_virtual);
  // Drains the transmits of all endpoints at now() (call after API calls on endpoints).
  void Flush();

  Stats stats() const { return stats_; }
  // Called for every datagram an endpoint sends, at send time (before impairments), with the
  // source address as routed (an unbound/any `from` is replaced by the endpoint's address).
  void SetPacketTap(std::function<void(const Transmit&, Instant)> tap) { tap_ = std::move(tap); }
  // Scan mode. By default (false) every step drains PollTransmit() and re-reads PollTimeout() of
  // EVERY endpoint — always correct, but O(endpoints) virtual calls per step (≈40k deliveries/s
  // with 2,000 fake endpoints). With `isolated` = true only the endpoint that handled the event
  // is drained and re-polled (deadlines of the others are cached until Flush()): ~O(1) calls per
  // step. Only valid when an endpoint's outputs/deadline change solely through its own inputs or
  // API calls followed by Flush() — true for FakeEndpoint, NOT guaranteed for engines sharing
  // usrsctp's process-global timers (one engine's usrsctp_handle_timers can queue another's output).
  void SetIsolatedEndpoints(bool isolated) { isolated_ = isolated; }
  // Number of datagrams in flight.
  size_t in_flight() const { return queue_.size(); }

 private:
  struct EndpointEntry {
    Endpoint* ep;
    std::vector<SocketAddress> addresses;
    std::optional<Instant> deadline;  // cached PollTimeout() (isolated mode)
  };
  struct InFlight {
    Instant at;
    uint64_t seq;  // send order: makes equal-time delivery deterministic
    Transmit t;
  };
  struct Later {
    bool operator()(const InFlight& a, const InFlight& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  struct LinkState {
    std::optional<LinkConfig> config;  // nullopt = default link
    Instant busy_until{};              // when the serializer finishes the queued bytes
  };

  const LinkConfig& ConfigFor(const LinkState& l) const { return l.config ? *l.config : default_; }
  void Send(EndpointEntry& from, Transmit t);
  void DrainEndpoint(EndpointEntry& e);
  void AfterEvent(size_t index);  // drain + re-poll after endpoint `index` handled an event
  size_t IndexOf(Endpoint* ep) const;
  std::optional<std::pair<Instant, size_t>> NextTimer();  // (deadline, endpoint index)
  bool StepUntil(Instant limit);  // handles the earliest event if it is at or before `limit`
  void AdvanceTo(Instant t, bool timer_event);

  Random rng_;
  Instant now_;
  std::vector<EndpointEntry> endpoints_;
  std::map<SocketAddress, Endpoint*> owners_;
  std::map<std::pair<SocketAddress, SocketAddress>, LinkState> links_;
  LinkConfig default_;
  bool blackout_ = false;
  bool isolated_ = false;
  std::priority_queue<InFlight, std::vector<InFlight>, Later> queue_;
  uint64_t seq_ = 0;
  Stats stats_;
  std::function<void(const Transmit&, Instant)> tap_;
  // Livelock guard (see AdvanceTo).
  uint64_t timer_steps_at_instant_ = 0;
  uint64_t steps_at_instant_ = 0;
  bool warned_livelock_ = false;
};

}  // namespace refrtc::testing
