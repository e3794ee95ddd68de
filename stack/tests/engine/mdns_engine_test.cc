// Remote `.local` host candidates (issue B): the engine resolves them with mDNS and the pair uses
// the resolved address. Two RTCPeerConnections in the virtual network exchange ONLY mDNS host
// candidates; a fake responder endpoint answers for the names (or not).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "dtls/certificate.h"
#include "engine/demux.h"
#include "engine/transport_stack.h"
#include "ice/candidate.h"
#include "mdns/dns_message.h"
#include "refrtc/rtc_peer_connection.h"
#include "stun/stun_message.h"
#include "testing/virtual_network.h"

namespace refrtc {
namespace {

SocketAddress Addr(const char* ip, uint16_t port) { return *SocketAddress::Parse(ip, port); }

constexpr char kNameA[] = "3e1d5c0e-8b2a-4a4c-9f0e-0123456789ab.local";
constexpr char kNameB[] = "b0b0b0b0-1111-4222-8333-444444444444.local";

// An mDNS responder (RFC 6762 §6) on 198.51.100.9:5353 answering A questions for its names,
// to the multicast group, like Chromium's responder does for its .local host candidates.
class FakeResponder : public Endpoint {
 public:
  std::map<std::string, SocketAddress> names;
  std::map<std::string, int> queries;  // questions seen per name (any type)
  bool answer = true;

  void AddLocalAddress(const SocketAddress& local) override { self_ = local; }
  void HandleReceive(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                     Instant now) override {
    auto m = mdns::Message::Parse(packet);
    if (!m.ok() || m->is_response()) return;
    for (const auto& q : m->questions) {
      ++queries[q.name];
      auto it = names.find(q.name);
      if (!answer || it == names.end() || q.type != mdns::kTypeA) continue;
      mdns::Message r;
      r.flags = mdns::kFlagQr | mdns::kFlagAa;
      mdns::ResourceRecord rr;
      rr.name = q.name;
      rr.type = mdns::kTypeA;
      rr.cache_flush = true;
      rr.ttl = 120;
      rr.rdata.assign(it->second.ip_bytes(), it->second.ip_bytes() + 4);
      r.answers.push_back(rr);
      out_.push_back(Transmit{self_, mdns::GroupV4(), *r.Serialize()});
    }
  }
  void HandleTimeout(Instant) override {}
  std::optional<Transmit> PollTransmit() override {
    if (out_.empty()) return std::nullopt;
    Transmit t = out_.front();
    out_.erase(out_.begin());
    return t;
  }
  std::optional<Instant> PollTimeout() override { return std::nullopt; }

 private:
  SocketAddress self_;
  std::vector<Transmit> out_;
};

// Two PCs like tests/api/pc_pair.h, but every candidate crosses the signalling channel
// rewritten: IPv4 host "198.51.100.x" → the side's .local name, everything else dropped.
class MdnsPair {
 public:
  MdnsPair() : net(7) {
    pc[0] = std::move(*RTCPeerConnection::Create({}, RTCEngineOptions{15, 1764000000}));
    pc[1] = std::move(*RTCPeerConnection::Create({}, RTCEngineOptions{16, 1764000000}));
    for (auto& p : pc) p->SetTime(net.now());
    net.AddEndpoint(pc[0].get(), {Addr("198.51.100.1", 4000), Addr("2001:db8::1", 4000)});
    net.AddEndpoint(pc[1].get(), {Addr("198.51.100.2", 5000), Addr("2001:db8::2", 5000)});
    net.AddEndpoint(&responder, {Addr("198.51.100.9", 5353)});
    responder.names[kNameA] = Addr("198.51.100.1", 0);
    responder.names[kNameB] = Addr("198.51.100.2", 0);
  }

  std::optional<RTCIceCandidateInit> Munge(int side, RTCIceCandidateInit c) {
    auto parsed = ice::Candidate::Parse(c.candidate);
    if (!parsed.ok() || parsed->type != ice::CandidateType::kHost) return std::nullopt;
    auto addr = parsed->socket_address();
    if (!addr || !addr->is_v4()) return std::nullopt;
    parsed->address = side == 0 ? kNameA : kNameB;
    c.candidate = parsed->ToString();
    signalled.push_back(c.candidate);
    return c;
  }

  void Pump() {
    for (int i = 0; i < 2; ++i) {
      pc[i]->SetTime(net.now());
      while (auto ev = pc[i]->PollEvent()) {
        if (ev->type == RTCEventType::kIceCandidate && ev->candidate && !ev->candidate->candidate.empty()) {
          if (auto m = Munge(i, *ev->candidate)) pending[i].push_back(*m);
        }
        if (ev->type == RTCEventType::kDataChannel) remote_channel = ev->channel;
      }
    }
    for (int i = 0; i < 2; ++i) {
      RTCPeerConnection& other = *pc[1 - i];
      if (!other.remoteDescription()) continue;
      other.SetTime(net.now());
      for (auto& c : pending[i]) EXPECT_TRUE(other.addIceCandidate(c).ok());
      pending[i].clear();
    }
    net.Flush();
  }

  bool RunUntil(const std::function<bool()>& done, Duration max) {
    Pump();
    return net.RunUntil([&] { Pump(); return done(); }, max);
  }

  std::shared_ptr<RTCDataChannel> Negotiate() {
    auto ch = pc[0]->createDataChannel("chat", {});
    EXPECT_TRUE(ch.ok());
    auto offer = pc[0]->createOffer();
    EXPECT_TRUE(pc[0]->setLocalDescription(*offer).ok());
    EXPECT_EQ(offer->sdp.find("a=candidate"), std::string::npos);  // trickled only
    EXPECT_TRUE(pc[1]->setRemoteDescription(*offer).ok());
    auto answer = pc[1]->createAnswer();
    EXPECT_TRUE(pc[1]->setLocalDescription(*answer).ok());
    EXPECT_TRUE(pc[0]->setRemoteDescription(*answer).ok());
    Pump();
    return *ch;
  }

  testing::VirtualNetwork net;
  std::unique_ptr<RTCPeerConnection> pc[2];
  FakeResponder responder;
  std::vector<RTCIceCandidateInit> pending[2];
  std::vector<std::string> signalled;
  std::shared_ptr<RTCDataChannel> remote_channel;
};

TEST(MdnsEngine, ConnectsWithOnlyMdnsHostCandidates) {
  MdnsPair p;
  auto ch = p.Negotiate();
  bool open = p.RunUntil(
      [&] {
        return ch->readyState() == RTCDataChannelState::kOpen && p.remote_channel &&
               p.remote_channel->readyState() == RTCDataChannelState::kOpen;
      },
      seconds(20));
  ASSERT_TRUE(open) << "A ice=" << ToString(p.pc[0]->iceConnectionState())
                    << " B ice=" << ToString(p.pc[1]->iceConnectionState());
  ASSERT_FALSE(p.signalled.empty());
  for (const auto& c : p.signalled) EXPECT_NE(c.find(".local"), std::string::npos) << c;
  // Each side asked for the other's name (A and AAAA on the IPv4 group), and got it first time.
  EXPECT_EQ(p.responder.queries[kNameA], 2);
  EXPECT_EQ(p.responder.queries[kNameB], 2);
}

TEST(MdnsEngine, UnresolvedNamesAreDroppedAfterThreeTries) {
  MdnsPair p;
  p.responder.answer = false;
  auto ch = p.Negotiate();
  bool open = p.RunUntil([&] { return ch->readyState() == RTCDataChannelState::kOpen; }, seconds(10));
  EXPECT_FALSE(open);
  EXPECT_NE(p.pc[0]->iceConnectionState(), RTCIceConnectionState::kConnected);
  // RFC 6762 §5.1 one-shot with retries: 3 tries x (A + AAAA), then silence.
  EXPECT_EQ(p.responder.queries[kNameA], 6);
  EXPECT_EQ(p.responder.queries[kNameB], 6);
}

// TransportStack level: the resolved address is what the agent checks, with the candidate's
// priority; a STUN packet from port 5353 still reaches ICE.
class MdnsStack : public ::testing::Test {
 protected:
  void SetUp() override {
    Random rng(3);
    auto cert = dtls::Certificate::GenerateEcdsaP256(rng, 1764000000, 1764000000 + 86400);
    ASSERT_TRUE(cert.ok());
    ice::AgentConfig cfg;
    cfg.role = ice::Role::kControlling;
    cfg.local = {"LOCL", "localpassword-1234567890"};
    cfg.tie_breaker = 42;
    stack = std::make_unique<engine::TransportStack>(cfg, *cert, 9);
    stack->ice().AddLocalAddress(local);
    stack->ice().StartGathering(now);
    stack->ice().SetRemoteCredentials({"RMTE", "remotepassword-123456789"});
  }
  std::vector<Transmit> Drain() {
    std::vector<Transmit> out;
    while (auto t = stack->PollTransmit()) out.push_back(std::move(*t));
    return out;
  }
  void Wake() {
    auto t = stack->PollTimeout();
    ASSERT_TRUE(t.has_value());
    ASSERT_LE(*t, now);  // the agent's mDNS event wakes the host at once
    stack->HandleTimeout(now);
  }
  Bytes Answer(const char* name, const char* ip) {
    mdns::Message r;
    r.flags = mdns::kFlagQr | mdns::kFlagAa;
    mdns::ResourceRecord rr;
    rr.name = name;
    rr.type = mdns::kTypeA;
    rr.ttl = 120;
    auto a = Addr(ip, 0);
    rr.rdata.assign(a.ip_bytes(), a.ip_bytes() + 4);
    r.answers.push_back(rr);
    return *r.Serialize();
  }
  ice::Candidate MdnsCandidate() {
    return *ice::Candidate::Parse(std::string("candidate:842163049 1 udp 2113937151 ") + kNameB +
                                  " 5000 typ host generation 0");
  }

  Instant now = Instant{} + std::chrono::hours(2);
  SocketAddress local = Addr("198.51.100.1", 4000);
  SocketAddress mdns_socket = mdns::QuerySource(SocketAddress::Family::kIPv4);  // 0.0.0.0:5353
  std::unique_ptr<engine::TransportStack> stack;
};

TEST_F(MdnsStack, ResolvedAddressIsChecked) {
  Drain();
  ASSERT_TRUE(stack->ice().AddRemoteCandidate(MdnsCandidate(), now).ok());
  Wake();
  auto tx = Drain();
  ASSERT_EQ(tx.size(), 4u);  // A + AAAA to each group
  for (const auto& t : tx) EXPECT_TRUE(mdns::IsMdnsGroup(t.to));
  // The response arrives on the host's mDNS socket.
  stack->HandleReceive(Answer(kNameB, "198.51.100.2"), mdns_socket, Addr("198.51.100.9", 5353), now);
  EXPECT_EQ(stack->counters().mdns_received, 1u);
  EXPECT_EQ(stack->counters().mdns_resolved, 1u);
  now += milliseconds(60);
  stack->HandleTimeout(now);
  tx = Drain();
  bool checked = false;
  for (const auto& t : tx) {
    if (t.to != Addr("198.51.100.2", 5000)) continue;
    auto msg = stun::StunMessage::Parse(t.data);
    ASSERT_TRUE(msg.ok());
    checked = true;
    EXPECT_EQ(t.from, local);
  }
  EXPECT_TRUE(checked) << "no connectivity check to the resolved address";
  // No more mDNS retries once resolved.
  now += seconds(5);
  stack->HandleTimeout(now);
  for (const auto& t : Drain()) EXPECT_FALSE(mdns::IsMdnsGroup(t.to));
}

TEST_F(MdnsStack, StaleResolutionAfterIceRestartIsDropped) {
  ASSERT_TRUE(stack->ice().AddRemoteCandidate(MdnsCandidate(), now).ok());
  Wake();
  Drain();
  stack->ice().Restart({"NEWU", "newpassword-12345678901"}, now);
  stack->ice().SetRemoteCredentials({"RMT2", "remotepassword-223456789"});
  stack->HandleReceive(Answer(kNameB, "198.51.100.2"), mdns_socket, Addr("198.51.100.9", 5353), now);
  EXPECT_EQ(stack->counters().mdns_candidates_dropped, 1u);
  now += milliseconds(60);
  stack->HandleTimeout(now);
  for (const auto& t : Drain()) EXPECT_NE(t.to, Addr("198.51.100.2", 5000));
}

TEST_F(MdnsStack, UnansweredCandidateIsDroppedSilently) {
  ASSERT_TRUE(stack->ice().AddRemoteCandidate(MdnsCandidate(), now).ok());
  Wake();
  int queries = 0;
  for (int i = 0; i < 10; ++i) {
    for (const auto& t : Drain()) queries += mdns::IsMdnsGroup(t.to);
    now += milliseconds(500);
    stack->HandleTimeout(now);
  }
  EXPECT_EQ(queries, 12);  // 3 tries x 4 packets
  EXPECT_EQ(stack->counters().mdns_failed, 1u);
  EXPECT_EQ(stack->mdns().pending(), 0u);
}

TEST(MdnsDemux, StunIsNeverMdnsAndDnsFromPort5353Is) {
  Bytes query = mdns::BuildQuery("x.local", mdns::kTypeA, false);
  EXPECT_EQ(engine::Classify(query), engine::PacketKind::kStun);  // why mDNS goes first
  SocketAddress ice_sock = Addr("198.51.100.1", 4000);
  EXPECT_TRUE(engine::IsMdns(query, ice_sock, Addr("198.51.100.9", 5353)));
  EXPECT_TRUE(engine::IsMdns(query, mdns::QuerySource(SocketAddress::Family::kIPv6), Addr("fe80::1", 5353)));
  EXPECT_TRUE(engine::IsMdns(query, mdns::GroupV4(), Addr("198.51.100.9", 4000)));
  EXPECT_FALSE(engine::IsMdns(query, ice_sock, Addr("198.51.100.9", 4000)));
  // A STUN Binding request from port 5353, even to the mDNS socket, goes to ICE.
  Bytes stun = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
  stun.resize(20, 7);
  EXPECT_FALSE(engine::IsMdns(stun, ice_sock, Addr("198.51.100.9", 5353)));
  EXPECT_FALSE(engine::IsMdns(stun, mdns::GroupV4(), Addr("198.51.100.9", 5353)));
}

}  // namespace
}  // namespace refrtc
