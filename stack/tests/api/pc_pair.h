// Two RTCPeerConnections in the virtual-time network with an in-test signalling channel
// (descriptions and trickled candidates delivered at once), for engine-level tests.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "refrtc/rtc_peer_connection.h"
#include "testing/virtual_network.h"
#include "util/dom_exception.h"

namespace refrtc::test {

inline SocketAddress Addr(const char* ip, uint16_t port) { return *SocketAddress::Parse(ip, port); }

// A synthetic track ("tone:440", "silence", "pattern", …) for media tests.
inline std::shared_ptr<MediaStreamTrack> Track(const std::string& source, const std::string& id) {
  auto t = MediaStreamTrack::CreateSynthetic(source, id);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

struct Side {
  std::unique_ptr<RTCPeerConnection> pc;
  std::vector<RTCEvent> events;
  std::vector<std::shared_ptr<RTCDataChannel>> remote_channels;
  std::vector<std::pair<std::string, bool>> messages;  // (payload, binary)
  bool trickle = true;

  bool Saw(RTCEventType t, const std::string& state = "") const {
    for (const auto& e : events)
      if (e.type == t && (state.empty() || e.state == state)) return true;
    return false;
  }
  std::vector<std::string> States(RTCEventType t) const {
    std::vector<std::string> s;
    for (const auto& e : events)
      if (e.type == t) s.push_back(e.state);
    return s;
  }
};

class PcPair {
 public:
  explicit PcPair(uint64_t seed = 1, RTCConfiguration config = {}) : net(seed) {
    RTCEngineOptions oa{seed * 2 + 1, 1764000000};
    RTCEngineOptions ob{seed * 2 + 2, 1764000000};
    a.pc = std::move(*RTCPeerConnection::Create(config, oa));
    b.pc = std::move(*RTCPeerConnection::Create(config, ob));
    a.pc->SetTime(net.now());
    b.pc->SetTime(net.now());
    net.AddEndpoint(a.pc.get(), {Addr("198.51.100.1", 4000), Addr("2001:db8::1", 4000)});
    net.AddEndpoint(b.pc.get(), {Addr("198.51.100.2", 5000), Addr("2001:db8::2", 5000)});
  }

  // Moves events: icecandidate → the other side's addIceCandidate (when trickling),
  // datachannel → remembered, message → recorded.
  void Pump() {
    for (int i = 0; i < 2; ++i) {
      Side& self = i == 0 ? a : b;
      Side& other = i == 0 ? b : a;
      self.pc->SetTime(net.now());
      while (auto ev = self.pc->PollEvent()) {
        if (ev->type == RTCEventType::kIceCandidate && ev->candidate && self.trickle && deliver_candidates &&
            other.pc->remoteDescription()) {
          other.pc->SetTime(net.now());
          EXPECT_TRUE(other.pc->addIceCandidate(*ev->candidate).ok());
        } else if (ev->type == RTCEventType::kIceCandidate && ev->candidate) {
          self_pending(i).push_back(*ev->candidate);
        }
        if (ev->type == RTCEventType::kDataChannel) self.remote_channels.push_back(ev->channel);
        if (ev->type == RTCEventType::kChannelMessage)
          self.messages.emplace_back(std::string(ev->data.begin(), ev->data.end()), ev->binary);
        if (on_event) on_event(i, *ev);
        self.events.push_back(std::move(*ev));
      }
    }
    // Candidates gathered before the other side had a remote description.
    for (int i = 0; i < 2; ++i) {
      Side& other = i == 0 ? b : a;
      if (!deliver_candidates || !other.pc->remoteDescription()) continue;
      for (auto& c : self_pending(i)) EXPECT_TRUE(other.pc->addIceCandidate(c).ok());
      self_pending(i).clear();
    }
    net.Flush();
  }

  bool RunUntil(const std::function<bool()>& done, Duration max = std::chrono::seconds(20)) {
    Pump();
    return net.RunUntil(
        [&] {
          Pump();
          return done();
        },
        max);
  }
  void RunFor(Duration d) {
    RunUntil([] { return false; }, d);
  }

  // Offer from A, answer from B, optionally with the answer rewritten before A applies it.
  void Negotiate(const std::function<std::string(std::string)>& rewrite_answer = nullptr) {
    auto offer = a.pc->createOffer();
    ASSERT_TRUE(offer.ok()) << offer.status();
    ASSERT_TRUE(a.pc->setLocalDescription(*offer).ok());
    ASSERT_TRUE(b.pc->setRemoteDescription(*offer).ok());
    auto answer = b.pc->createAnswer();
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_TRUE(b.pc->setLocalDescription(*answer).ok());
    if (rewrite_answer) answer->sdp = rewrite_answer(answer->sdp);
    auto st = a.pc->setRemoteDescription(*answer);
    ASSERT_TRUE(st.ok()) << st;
    Pump();
  }

  // createDataChannel on A, negotiate, run until both ends are open.
  std::shared_ptr<RTCDataChannel> Connect(const std::string& label = "chat", RTCDataChannelInit init = {}) {
    auto ch = a.pc->createDataChannel(label, init);
    EXPECT_TRUE(ch.ok());
    Negotiate();
    bool open = RunUntil([&] {
      return (*ch)->readyState() == RTCDataChannelState::kOpen && !b.remote_channels.empty() &&
             b.remote_channels[0]->readyState() == RTCDataChannelState::kOpen;
    });
    EXPECT_TRUE(open) << "channel did not open; A ice=" << ToString(a.pc->iceConnectionState())
                      << " conn=" << ToString(a.pc->connectionState())
                      << " B ice=" << ToString(b.pc->iceConnectionState())
                      << " conn=" << ToString(b.pc->connectionState());
    return *ch;
  }

  testing::VirtualNetwork net;
  Side a, b;
  bool deliver_candidates = true;
  std::function<void(int, const RTCEvent&)> on_event;

 private:
  std::vector<RTCIceCandidateInit>& self_pending(int i) { return pending_[i]; }
  std::vector<RTCIceCandidateInit> pending_[2];
};

}  // namespace refrtc::test
