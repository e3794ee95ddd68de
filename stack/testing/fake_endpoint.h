// A scriptable Endpoint for host tests (virtual network, native loop, driver tests): it records
// what it receives and when its timers fire, and sends whatever the test queues. Reactions are
// plain callbacks, so an echo server or a ping/pong counter is a few lines.
#pragma once
#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "refrtc/endpoint.h"

namespace refrtc::testing {

class FakeEndpoint : public Endpoint {
 public:
  struct Received {
    Bytes data;
    SocketAddress local;
    SocketAddress remote;
    Instant at;
  };

  // Reactions (optional). They may call Send()/SetTimer() on the endpoint.
  std::function<void(FakeEndpoint&, const Received&)> on_receive;
  std::function<void(FakeEndpoint&, Instant now)> on_timer;

  std::vector<SocketAddress> locals;      // from AddLocalAddress, in order
  std::vector<Received> received;
  std::vector<Instant> timer_fired_at;    // `now` of every HandleTimeout that found a due timer
  std::vector<Instant> timeout_calls;     // `now` of every HandleTimeout call

  // Queues a datagram from `from` (default: first local address).
  void Send(const SocketAddress& to, Bytes data, std::optional<SocketAddress> from = std::nullopt) {
    Transmit t;
    t.from = from ? *from : (locals.empty() ? SocketAddress() : locals.front());
    t.to = to;
    t.data = std::move(data);
    outbox_.push_back(std::move(t));
  }
  void Send(const SocketAddress& to, absl::string_view text) {
    Send(to, Bytes(text.begin(), text.end()));
  }
  // Queues bytes for a TCP connection to `to` (util/transmit.h TransportProtocol::kTcp).
  void SendTcp(const SocketAddress& to, absl::string_view text) {
    Send(to, text);
    outbox_.back().protocol = TransportProtocol::kTcp;
  }
  void SetTimer(Instant at) { timers_.push_back(at); }
  // Makes this endpoint an echo server: every datagram goes back to its source.
  void EchoAll() {
    on_receive = [](FakeEndpoint& self, const Received& r) { self.Send(r.remote, r.data, r.local); };
  }
  size_t pending_timers() const { return timers_.size(); }

  void AddLocalAddress(const SocketAddress& local) override { locals.push_back(local); }
  void HandleReceive(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                     Instant now) override {
    received.push_back(Received{Bytes(packet.begin(), packet.end()), local, remote, now});
    if (on_receive) on_receive(*this, received.back());
  }
  void HandleTimeout(Instant now) override {
    timeout_calls.push_back(now);
    auto due = [now](Instant t) { return t <= now; };
    if (std::none_of(timers_.begin(), timers_.end(), due)) return;
    timers_.erase(std::remove_if(timers_.begin(), timers_.end(), due), timers_.end());
    timer_fired_at.push_back(now);
    if (on_timer) on_timer(*this, now);
  }
  std::optional<Transmit> PollTransmit() override {
    if (outbox_.empty()) return std::nullopt;
    Transmit t = std::move(outbox_.front());
    outbox_.pop_front();
    return t;
  }
  std::optional<Instant> PollTimeout() override {
    if (timers_.empty()) return std::nullopt;
    return *std::min_element(timers_.begin(), timers_.end());
  }

 private:
  std::deque<Transmit> outbox_;
  std::vector<Instant> timers_;
};

}  // namespace refrtc::testing
