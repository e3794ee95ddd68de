// Resource limits (issue F, docs/LIMITS.md): a remote peer — through its description or through
// the network — must not make refrtc allocate without bound. Each test floods one resource and
// asserts the cap holds (objects counted / bytes buffered stay at or below the limit) and that
// the refusal is visible (a status, an event, a counter).
#include <gtest/gtest.h>

#include <usrsctp.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/media_session.h"
#include "ice/agent.h"
#include "pc_pair.h"
#include "rtp/rtp_packet.h"
#include "rtp/telephone_event.h"
#include "sctp/sctp_transport.h"
#include "sdp/sdp.h"
#include "stun/stun_message.h"

namespace refrtc::test {
namespace {

std::unique_ptr<RTCPeerConnection> NewPc(uint64_t seed = 1) {
  auto pc = RTCPeerConnection::Create({}, RTCEngineOptions{seed, 1764000000});
  EXPECT_TRUE(pc.ok());
  return std::move(*pc);
}

// A valid remote offer (one data section) from a second peer connection.
std::string RemoteOffer() {
  auto other = NewPc(7);
  (void)other->createDataChannel("x");
  auto offer = other->createOffer();
  EXPECT_TRUE(offer.ok());
  return offer->sdp;
}

// ---------------------------------------------------------------------------------------------
// SDP through setRemoteDescription (RFC 8866 §5, RFC 8829 §5.7; webrtc-pc §4.4.1.6: a description
// that cannot be parsed rejects with RTCError "sdp-syntax-error", name OperationError).

// RFC 8866 §5: no NUL in a line. The whole description is rejected, nothing is applied.
TEST(SdpSecurity, NulByteInRemoteOfferIsOperationErrorAndChangesNothing) {
  auto pc = NewPc();
  std::string sdp = RemoteOffer();
  sdp.insert(sdp.find("a=ice-ufrag:") + 13, 1, '\0');
  absl::Status st = pc->setRemoteDescription({RTCSdpType::kOffer, sdp});
  EXPECT_EQ(DomErrorName(st), "OperationError");
  EXPECT_TRUE(absl::StrContains(st.message(), "NUL")) << st;
  EXPECT_EQ(pc->signalingState(), RTCSignalingState::kStable);
  EXPECT_FALSE(pc->remoteDescription().has_value());
  // The untouched offer still applies afterwards.
  EXPECT_TRUE(pc->setRemoteDescription({RTCSdpType::kOffer, RemoteOffer()}).ok());
}

// sdp::kMaxMediaSections: a remote offer with 10,000 m= sections is refused before any
// transceiver is created.
TEST(SdpSecurity, TenThousandMediaSectionsInRemoteOfferAreRefused) {
  auto pc = NewPc();
  std::string sdp = RemoteOffer();
  const size_t m = sdp.find("m=application");
  std::string section = sdp.substr(m);
  std::string big = sdp.substr(0, m);
  for (int i = 0; i < 10000; ++i) {
    big += absl::StrCat("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:a", i, "\r\n");
  }
  big += section;
  absl::Status st = pc->setRemoteDescription({RTCSdpType::kOffer, big});
  EXPECT_EQ(DomErrorName(st), "OperationError");
  EXPECT_TRUE(absl::StrContains(st.message(), "m= sections")) << st;
  EXPECT_TRUE(pc->getTransceivers().empty());
  EXPECT_EQ(pc->signalingState(), RTCSignalingState::kStable);
}

// sdp::kMaxSdpSize: several MiB of description is refused up front.
TEST(SdpSecurity, MultiMebibyteRemoteOfferIsRefused) {
  auto pc = NewPc();
  std::string sdp = RemoteOffer();
  const std::string filler = absl::StrCat("a=x-filler:", std::string(4000, 'z'), "\r\n");
  while (sdp.size() < 3 * 1024 * 1024) sdp += filler;
  absl::Status st = pc->setRemoteDescription({RTCSdpType::kOffer, sdp});
  EXPECT_EQ(DomErrorName(st), "OperationError");
  EXPECT_TRUE(absl::StrContains(st.message(), "exceeds the limit")) << st;
}

// Candidates in the remote description: kMaxCandidatesPerSection in the SDP parser, and the ICE
// agent keeps at most AgentConfig::max_remote_candidates of those accepted (the rest ignored,
// RFC 8839 §5.1 leaves unusable candidates to the implementation).
TEST(ResourceLimits, CandidatesInRemoteDescriptionAreCapped) {
  auto pc = NewPc();
  std::string sdp = RemoteOffer();
  std::string cands;
  for (size_t i = 0; i <= sdp::kMaxCandidatesPerSection; ++i) {
    absl::StrAppend(&cands, "a=candidate:", i, " 1 udp 2122260223 10.1.", i / 200, ".", i % 200 + 1,
                    " 9000 typ host\r\n");
  }
  absl::Status st = pc->setRemoteDescription({RTCSdpType::kOffer, sdp + cands});
  EXPECT_EQ(DomErrorName(st), "OperationError");
  EXPECT_TRUE(absl::StrContains(st.message(), "a=candidate lines")) << st;
  EXPECT_TRUE(pc->remote_candidates().empty());
}

// ---------------------------------------------------------------------------------------------
// ICE (RFC 8445)

// addIceCandidate flood (webrtc-pc §4.4.1.x addIceCandidate: a candidate that cannot be added
// rejects with OperationError). The agent holds ice::AgentConfig{}.max_remote_candidates; every
// candidate past it is refused with a status, and the peer connection's own list stays bounded.
TEST(ResourceLimits, AddIceCandidateFloodIsCappedWithOperationError) {
  auto pc = NewPc();
  ASSERT_TRUE(pc->setRemoteDescription({RTCSdpType::kOffer, RemoteOffer()}).ok());
  const size_t cap = ice::AgentConfig{}.max_remote_candidates;
  size_t accepted = 0, refused = 0;
  for (int i = 0; i < 3000; ++i) {
    RTCIceCandidateInit c{absl::StrCat("candidate:", i, " 1 udp 2122260223 10.2.", i / 250, ".", i % 250 + 1,
                                       " ", 10000 + i, " typ host"),
                          "0", 0, {}};
    absl::Status st = pc->addIceCandidate(c);
    if (st.ok()) {
      ++accepted;
    } else {
      ++refused;
      EXPECT_EQ(DomErrorName(st), "OperationError") << st;
    }
  }
  EXPECT_EQ(accepted, cap);
  EXPECT_EQ(refused, 3000 - cap);
  EXPECT_LE(pc->remote_candidates().size(), 1000u);
}

// Runs an agent for `d` of virtual time (no answers) and returns every (local, remote) it sent
// a connectivity check (Binding request) on, i.e. the pairs of its checklist.
std::set<std::pair<std::string, std::string>> CheckedPairs(ice::Agent& agent, Instant& now, Duration d) {
  std::set<std::pair<std::string, std::string>> out;
  const Instant end = now + d;
  for (; now < end; now += std::chrono::milliseconds(10)) {
    agent.HandleTimeout(now);
    while (auto t = agent.PollTransmit()) {
      auto m = stun::StunMessage::Parse(t->data);
      if (m.ok() && m->IsBindingRequest()) out.emplace(t->from.ToString(), t->to.ToString());
    }
    while (agent.PollEvent()) {
    }
  }
  return out;
}

// The agent alone: remote candidates and the checklist (RFC 8445 §6.1.2.5 limits the number of
// pairs). Three local bases x 100 remote candidates would be 300 pairs; max_pairs holds.
TEST(ResourceLimits, IceRemoteCandidatesAndPairsAreCapped) {
  Random rng(3);
  ice::AgentConfig cfg;
  cfg.local = ice::Credentials{"locl", "localpasswordlocalpassword"};
  ice::Agent agent(cfg, rng);
  const Instant now = Instant{} + std::chrono::hours(1);
  std::vector<SocketAddress> hosts = {Addr("192.0.2.1", 4000), Addr("192.0.2.2", 4000), Addr("192.0.2.3", 4000)};
  for (const auto& h : hosts) agent.AddLocalAddress(h);
  agent.StartGathering(now);
  agent.SetRemoteCredentials({"remo", "remotepasswordremotepassword"});
  std::vector<SocketAddress> remotes;
  size_t exhausted = 0;
  for (int i = 0; i < 1000; ++i) {
    auto c = ice::Candidate::Parse(absl::StrCat("candidate:", i, " 1 udp 2122260223 10.3.", i / 250, ".",
                                                i % 250 + 1, " 9", " typ host"));
    ASSERT_TRUE(c.ok());
    absl::Status st = agent.AddRemoteCandidate(*c, now);
    if (st.code() == absl::StatusCode::kResourceExhausted) ++exhausted;
    else ASSERT_TRUE(st.ok()) << st;
    remotes.push_back(*c->socket_address());
  }
  EXPECT_EQ(exhausted, 1000 - cfg.max_remote_candidates);
  Instant t = now;
  auto pairs = CheckedPairs(agent, t, std::chrono::seconds(40));
  EXPECT_EQ(pairs.size(), cfg.max_pairs);
  std::set<std::string> remotes_paired;
  for (const auto& p : pairs) remotes_paired.insert(p.second);
  EXPECT_LE(remotes_paired.size(), cfg.max_remote_candidates);
}

// RFC 8445 §7.3.1.3: an authenticated check from an unknown address creates a peer-reflexive
// candidate. Replaying one valid check from 500 (spoofed) source addresses must not create 500
// candidates and pairs, nor lock out the candidates the peer signals later.
TEST(ResourceLimits, PeerReflexiveCandidatesFromChecksAreCapped) {
  Random rng(4);
  ice::AgentConfig cfg;
  cfg.role = ice::Role::kControlled;
  cfg.local = ice::Credentials{"locl", "localpasswordlocalpassword"};
  ice::Agent agent(cfg, rng);
  const Instant now = Instant{} + std::chrono::hours(1);
  const SocketAddress host = Addr("192.0.2.1", 4000);
  agent.AddLocalAddress(host);
  agent.StartGathering(now);
  agent.SetRemoteCredentials({"remo", "remotepasswordremotepassword"});

  stun::TransactionId tid{};
  tid[0] = 1;
  stun::StunMessage req(stun::StunClass::kRequest, stun::kMethodBinding, tid);
  req.AddUsername("locl:remo");
  req.AddPriority(1853817087);
  req.AddIceControlling(42);
  const Bytes check = req.Serialize(AsBytes(std::string("localpasswordlocalpassword")), true);

  size_t answered = 0;
  std::vector<SocketAddress> sources;
  for (int i = 0; i < 500; ++i) {
    SocketAddress src = Addr(absl::StrCat("203.0.113.", i % 250 + 1).c_str(), static_cast<uint16_t>(20000 + i));
    sources.push_back(src);
    EXPECT_TRUE(agent.HandleStun(check, host, src, now));
    while (auto t = agent.PollTransmit()) {
      auto resp = stun::StunMessage::Parse(t->data);
      if (resp.ok() && resp->cls() == stun::StunClass::kSuccessResponse && t->to == src) ++answered;
    }
  }
  // Every (authenticated) request is still answered (RFC 8445 §7.3.1.2)...
  EXPECT_EQ(answered, 500u);
  // ...but only max_peer_reflexive_candidates of them became candidates with a pair.
  size_t prflx_pairs = 0;
  for (const auto& s : sources) prflx_pairs += agent.IsValidatedRemote(host, s);
  EXPECT_EQ(prflx_pairs, cfg.max_peer_reflexive_candidates);
  // Signaled candidates still fit, and get checked.
  auto c = ice::Candidate::Parse("candidate:1 1 udp 2122260223 10.9.9.9 9999 typ host");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(agent.AddRemoteCandidate(*c, now).ok());
  Instant t = now;
  auto pairs = CheckedPairs(agent, t, std::chrono::seconds(10));
  EXPECT_TRUE(pairs.count({host.ToString(), "10.9.9.9:9999"})) << pairs.size();
  EXPECT_LE(pairs.size(), cfg.max_peer_reflexive_candidates + 1);
}

// ---------------------------------------------------------------------------------------------
// SCTP / data channels (RFC 8831, RFC 8832, webrtc-pc §6.2)

// Streams beyond the negotiated maximum: at most maxChannels/2 channels per side (RFC 8832 §6
// parity). 600 channels asked for: the ones without a free id close with an OperationError event
// (webrtc-pc §6.1.1), the peer gets at most 512 datachannel events.
TEST(ResourceLimits, DataChannelsBeyondTheStreamCountAreRefused) {
  PcPair p;
  std::vector<std::shared_ptr<RTCDataChannel>> chans;
  for (int i = 0; i < 600; ++i) {
    auto ch = p.a.pc->createDataChannel(absl::StrCat("c", i));
    ASSERT_TRUE(ch.ok());
    chans.push_back(*ch);
  }
  p.Negotiate();
  const size_t per_side = sctp::kMaxStreams / 2;
  ASSERT_TRUE(p.RunUntil([&] { return p.b.remote_channels.size() >= per_side; }, std::chrono::seconds(30)));
  p.RunFor(std::chrono::seconds(1));
  size_t open = 0, closed = 0;
  for (const auto& ch : chans) {
    open += ch->readyState() == RTCDataChannelState::kOpen;
    closed += ch->readyState() == RTCDataChannelState::kClosed;
  }
  EXPECT_EQ(open, per_side);
  EXPECT_EQ(closed, 600 - per_side);
  EXPECT_EQ(p.b.remote_channels.size(), per_side);
  size_t errors = 0;
  for (const auto& e : p.a.events) errors += e.type == RTCEventType::kChannelError;
  EXPECT_EQ(errors, 600 - per_side);
  auto sctp = p.a.pc->sctp();
  ASSERT_TRUE(sctp.has_value());
  ASSERT_TRUE(sctp->maxChannels.has_value());
  EXPECT_EQ(*sctp->maxChannels, sctp::kMaxStreams);
  // A negotiated id at or past maxChannels is refused synchronously.
  RTCDataChannelInit init;
  init.negotiated = true;
  init.id = sctp::kMaxStreams;
  EXPECT_EQ(DomErrorName(p.a.pc->createDataChannel("late", init).status()), "OperationError");
}

// webrtc-pc §6.2 send(): "if the data cannot be sent, buffer it, and if this is not possible
// because the buffer is full, throw an OperationError". A peer that stops reading (here: the
// network is not run) must not make us buffer without bound: sctp::kMaxSendQueueBytes.
TEST(ResourceLimits, SendQueueIsBoundedWithOperationError) {
  PcPair p;
  auto ch = p.Connect();
  ASSERT_EQ(ch->readyState(), RTCDataChannelState::kOpen);
  const std::string msg(64 * 1024, 'q');
  absl::Status st;
  int sent = 0;
  for (; sent < 1000; ++sent) {
    st = ch->send(msg);
    if (!st.ok()) break;
    ASSERT_LE(ch->bufferedAmount(), sctp::kMaxSendQueueBytes);
  }
  ASSERT_FALSE(st.ok()) << "1000 x 64 KiB were buffered";
  EXPECT_EQ(DomErrorName(st), "OperationError");
  EXPECT_TRUE(absl::StrContains(st.message(), "send queue is full")) << st;
  EXPECT_GE(ch->bufferedAmount() + msg.size(), sctp::kMaxSendQueueBytes);
  // Not an error of the channel: it stays open, and once the queue drains sending works again.
  EXPECT_EQ(ch->readyState(), RTCDataChannelState::kOpen);
  ASSERT_TRUE(p.RunUntil([&] { return ch->bufferedAmount() + msg.size() <= sctp::kMaxSendQueueBytes; },
                         std::chrono::seconds(60)));
  EXPECT_TRUE(ch->send(msg).ok());
  EXPECT_LE(ch->bufferedAmount(), sctp::kMaxSendQueueBytes);
  ASSERT_TRUE(p.RunUntil([&] { return !p.b.messages.empty(); }, std::chrono::seconds(60)));
  EXPECT_EQ(p.b.messages[0].first, msg);
}

// Two sctp::Transports back to back (DTLS client a, server b) with b's packets recorded, so the
// test can play a hostile b by forging SCTP packets on the live association.
struct SctpPair {
  // usrsctp's timer wheel is process-global and follows one clock (sctp_transport.h): start where
  // the PcPair tests of this binary start (VirtualNetwork: 1 h), which re-bases it when it is
  // ahead, instead of jumping hours forward (usrsctp would then time the association out).
  SctpPair() : a(true), b(false) { Now() = Instant{} + std::chrono::hours(1); }
  static Instant& Now() {
    static Instant now = Instant{} + std::chrono::hours(1);
    return now;
  }
  // Moves packets until quiet; advances the clock by 10 ms per quiet round when `rounds` > 1.
  void Step(int rounds = 200) {
    for (int i = 0; i < rounds; ++i) {
      bool moved = false;
      while (auto p = a.PollOutgoing()) {
        moved = true;
        if (deliver_to_b) b.HandlePacket(*p, Now());
      }
      while (auto p = b.PollOutgoing()) {
        moved = true;
        from_b.push_back(*p);
        a.HandlePacket(*p, Now());
      }
      while (auto e = a.PollEvent()) a_events.push_back(std::move(*e));
      while (auto e = b.PollEvent()) b_events.push_back(std::move(*e));
      if (!moved) {
        if (rounds == 1) return;
        Now() += std::chrono::milliseconds(10);
        a.HandleTimeout(Now());
        b.HandleTimeout(Now());
      }
    }
  }
  template <typename T>
  size_t Count(const std::vector<sctp::Event>& ev) const {
    size_t n = 0;
    for (const auto& e : ev) n += std::holds_alternative<T>(e);
    return n;
  }
  sctp::Transport a, b;
  std::vector<Bytes> from_b;
  std::vector<sctp::Event> a_events, b_events;
  bool deliver_to_b = true;
};

uint32_t Be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }
// The last DATA chunk (RFC 9260 §3.3.1) in packets b sent: its TSN and SSN, and the packet's
// 12-byte common header (empty when there was none), so forged chunks continue b's numbering.
struct LastData {
  uint32_t tsn = 0;
  uint16_t ssn = 0;
  Bytes header;
};
LastData LastDataChunk(const std::vector<Bytes>& packets) {
  LastData last;
  for (const Bytes& pkt : packets) {
    for (size_t off = 12; off + 4 <= pkt.size();) {
      const size_t len = size_t{pkt[off + 2]} << 8 | pkt[off + 3];
      if (len < 4) break;
      if (pkt[off] == 0 && len >= 16 && off + 16 <= pkt.size()) {
        last.tsn = Be32(&pkt[off + 4]);
        last.ssn = static_cast<uint16_t>(pkt[off + 10] << 8 | pkt[off + 11]);
        last.header.assign(pkt.begin(), pkt.begin() + 12);
      }
      off += (len + 3) & ~size_t{3};
    }
  }
  return last;
}
void PutBe32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

// An SCTP packet (RFC 4960 §3) of b's association carrying one DATA chunk (§3.3.1).
Bytes ForgeData(const Bytes& header, uint32_t tsn, uint16_t sid, uint16_t ssn, uint8_t flags, uint32_t ppid,
                const Bytes& payload) {
  Bytes pkt(header.begin(), header.begin() + 12);
  const size_t len = 16 + payload.size();
  pkt.insert(pkt.end(), {0, flags, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)});
  PutBe32(pkt, tsn);
  pkt.insert(pkt.end(), {static_cast<uint8_t>(sid >> 8), static_cast<uint8_t>(sid), static_cast<uint8_t>(ssn >> 8),
                         static_cast<uint8_t>(ssn)});
  PutBe32(pkt, ppid);
  pkt.insert(pkt.end(), payload.begin(), payload.end());
  while (pkt.size() % 4) pkt.push_back(0);
  std::memset(pkt.data() + 8, 0, 4);
  uint32_t crc = usrsctp_crc32c(pkt.data(), pkt.size());
  std::memcpy(pkt.data() + 8, &crc, 4);
  return pkt;
}

// RFC 8841 §6 (a=max-message-size) / RFC 4960 §6.9 fragmentation: a peer that sends one message
// of several MiB, or one that never ends (no E bit), must not make the receiver reassemble it.
// usrsctp hands over pieces (partial delivery) and bounds what it holds by its receive window;
// sctp::Transport keeps at most kLocalMaxMessageSize of one message, then discards the rest of
// it up to its end (counted in discarded_oversized_messages()); the channel and association
// keep working.
TEST(ResourceLimits, SctpEndlessMessageIsNotReassembledBeyondMaxMessageSize) {
  SctpPair p;
  ASSERT_TRUE(p.a.Start(SctpPair::Now()).ok());
  ASSERT_TRUE(p.b.Start(SctpPair::Now()).ok());
  p.Step();
  ASSERT_TRUE(p.a.association_up() && p.b.association_up());
  auto id = p.b.OpenChannel(sctp::ChannelInit{}, std::nullopt, SctpPair::Now());
  ASSERT_TRUE(id.ok());
  p.Step();
  ASSERT_EQ(p.Count<sctp::EventIncomingChannel>(p.a_events), 1u);
  p.from_b.clear();
  ASSERT_TRUE(p.b.Send(*id, AsBytes(std::string("x")), true, SctpPair::Now()).ok());
  p.Step();
  ASSERT_EQ(p.Count<sctp::EventMessage>(p.a_events), 1u);
  // b's last DATA chunk: its TSN and SSN continue in the forged ones.
  const LastData seen = LastDataChunk(p.from_b);
  uint32_t tsn = seen.tsn;
  const uint16_t ssn = seen.ssn;
  const Bytes& header = seen.header;
  ASSERT_EQ(header.size(), 12u) << "no DATA chunk from b seen";
  p.deliver_to_b = false;  // a's SACKs acknowledge TSNs the real b never sent

  // 4 MiB of one message in 1 KiB fragments, never finished (first fragment B, the rest middle).
  const Bytes piece(1024, 0xAB);
  const uint16_t sid = id->value();
  for (int k = 0; k < 4096; ++k) {
    p.a.HandlePacket(ForgeData(header, ++tsn, sid, static_cast<uint16_t>(ssn + 1), k == 0 ? 0x02 : 0x00, 53, piece),
                     SctpPair::Now());
    p.Step(1);  // no time passes: a's heartbeats to the silent b must not time out
    ASSERT_LE(p.a.reassembly_bytes(), sctp::kLocalMaxMessageSize);
  }
  EXPECT_EQ(p.a.discarded_oversized_messages(), 1u);
  EXPECT_EQ(p.a.reassembly_bytes(), 0u);
  EXPECT_EQ(p.Count<sctp::EventMessage>(p.a_events), 1u);  // nothing delivered
  EXPECT_TRUE(p.a.association_up());
  // The end of the huge message, then a normal message: only the normal one is delivered.
  p.a.HandlePacket(ForgeData(header, ++tsn, sid, static_cast<uint16_t>(ssn + 1), 0x01, 53, piece), SctpPair::Now());
  p.a.HandlePacket(ForgeData(header, ++tsn, sid, static_cast<uint16_t>(ssn + 2), 0x03, 53, Bytes{'o', 'k'}),
                   SctpPair::Now());
  p.Step(1);
  ASSERT_EQ(p.Count<sctp::EventMessage>(p.a_events), 2u);
  Bytes last;
  for (const auto& e : p.a_events)
    if (const auto* m = std::get_if<sctp::EventMessage>(&e)) last = m->data;
  EXPECT_EQ(std::string(last.begin(), last.end()), "ok");
  EXPECT_EQ(p.a.discarded_oversized_messages(), 1u);
  EXPECT_EQ(p.a.channel_state(*id), sctp::ChannelState::kOpen);
}

// The same with unfinished 2 MiB messages on 4 streams at once, fragments interleaved by TSN
// (8 MiB in all). usrsctp keeps the fragments in its reassembly queue, bounded by its receive
// window (SO_RCVBUF, 2 MiB: DATA beyond the window is dropped, RFC 4960 §6.2), and none reaches
// its partial-delivery point, so sctp::Transport holds nothing: the hostile peer only stalls its
// own association, which stays up.
TEST(ResourceLimits, SctpInterleavedEndlessMessagesOnManyStreamsStayBounded) {
  SctpPair p;
  ASSERT_TRUE(p.a.Start(SctpPair::Now()).ok());
  ASSERT_TRUE(p.b.Start(SctpPair::Now()).ok());
  p.Step();
  const int kStreams = 4;
  std::vector<uint16_t> sids;
  for (int i = 0; i < kStreams; ++i) {
    auto id = p.b.OpenChannel(sctp::ChannelInit{}, std::nullopt, SctpPair::Now());
    ASSERT_TRUE(id.ok());
    sids.push_back(id->value());
  }
  p.Step();
  ASSERT_EQ(p.Count<sctp::EventIncomingChannel>(p.a_events), static_cast<size_t>(kStreams));
  p.from_b.clear();
  ASSERT_TRUE(p.b.Send(StreamId(sids[0]), AsBytes(std::string("x")), true, SctpPair::Now()).ok());
  p.Step();
  const LastData seen = LastDataChunk(p.from_b);
  uint32_t tsn = seen.tsn;
  const Bytes& header = seen.header;
  ASSERT_EQ(header.size(), 12u);
  p.deliver_to_b = false;
  // Each stream had its DCEP OPEN (SSN 0); stream sids[0] also "x" (SSN 1). Unordered fragments
  // (U bit) need no SSN bookkeeping and are reassembled per stream just the same.
  const Bytes piece(1024, 0xCD);
  uint64_t max_held = 0;
  for (int k = 0; k < 2048; ++k) {
    for (size_t s = 0; s < sids.size(); ++s) {
      const uint8_t flags = static_cast<uint8_t>(0x04 | (k == 0 ? 0x02 : 0x00));  // U (+B first)
      p.a.HandlePacket(ForgeData(header, ++tsn, sids[s], 0, flags, 53, piece), SctpPair::Now());
      p.Step(1);
      max_held = std::max(max_held, p.a.reassembly_bytes());
      ASSERT_LE(p.a.reassembly_bytes(), sctp::kLocalMaxMessageSize);
    }
  }
  EXPECT_TRUE(p.a.association_up());
  EXPECT_LE(max_held, sctp::kLocalMaxMessageSize);
  EXPECT_EQ(p.Count<sctp::EventMessage>(p.a_events), 1u);  // only the real "x"
}

// ---------------------------------------------------------------------------------------------
// RTP receive state (RFC 3550 §8.2 SSRC collisions/changes; RFC 8843 §9.2 routing by payload type)

struct RecvSession {
  explicit RecvSession(std::vector<sdp::RtpCodec> codecs)
      : rng(5), session(rng, rtp::NtpClock(Start(), rtp::NtpTime(3900000000u, 0u))) {
    t = MediaSession::NewDetachedTransceiver("audio", "");
    NegotiatedRtp n;
    n.mid = "0";
    n.kind = "audio";
    n.recv = true;
    n.codecs = std::move(codecs);
    n.local_ssrc = 2222;
    n.remote_ssrc = 1111;
    n.cname = "limits";
    session.Configure(t.get(), n, Start());
    session.SetTransportReady(true, Start());
  }
  static Instant Start() { return Instant{} + std::chrono::hours(2); }
  void Feed(uint32_t ssrc, uint8_t pt, uint16_t seq, uint32_t ts, Bytes payload, Instant now) {
    rtp::RtpPacket p;
    p.payload_type = rtp::PayloadType(pt);
    p.sequence_number = rtp::SequenceNumber(seq);
    p.timestamp = ts;
    p.ssrc = Ssrc(ssrc);
    p.payload = std::move(payload);
    auto wire = p.Serialize();
    ASSERT_TRUE(wire.ok());
    session.OnRtp(*wire, now);
  }
  Random rng;
  MediaSession session;
  std::shared_ptr<RTCRtpTransceiver> t;
};

// A flood of random SSRCs (an SRTP-authenticated peer, or a bug in one) used to add one SSRC
// route per packet forever (fixed: MediaSession::ssrc_route_limit(), two per m-section plus
// kMaxSsrcRoutes). The receive streams stay one per m-section, and the announced SSRC still gets
// through afterwards.
TEST(ResourceLimits, RandomSsrcFloodKeepsReceiveStateBounded) {
  RecvSession rx({sdp::RtpCodec{0, "PCMU", 8000, 1, "", {}}});
  Random flood(99);
  Instant now = RecvSession::Start();
  for (int i = 0; i < 20000; ++i) {
    rx.Feed(flood.U32() | 0x10000u, 0, static_cast<uint16_t>(i), 160u * i, Bytes(160, 0xff), now);
    ASSERT_LE(rx.session.ssrc_routes(), MediaSession::kMaxSsrcRoutes + 2);
    if (i % 1000 == 0) {
      now += std::chrono::milliseconds(20);
      rx.session.HandleTimeout(now);
      while (rx.session.PollOutgoing()) {
      }
    }
  }
  EXPECT_LE(rx.session.receive_streams(), 1u);
  EXPECT_EQ(rx.session.unroutable_packets(), 0u);  // delivered (by payload type), not dropped
  const uint64_t before = rx.session.unroutable_packets();
  rx.Feed(1111, 0, 1, 0, Bytes(160, 0xff), now);
  EXPECT_EQ(rx.session.unroutable_packets(), before);
  auto stats = rx.session.Stats();
  ASSERT_EQ(stats.size(), 1u);
  ASSERT_TRUE(stats[0].remote_ssrc.has_value());
  EXPECT_EQ(*stats[0].remote_ssrc, 1111u);
}

// RFC 4733 telephone-events from thousands of SSRCs: one decoder per m-section (replaced when the
// SSRC changes), routes capped, and every complete event still decodes to one digit.
TEST(ResourceLimits, TelephoneEventFloodKeepsOneDecoderPerSection) {
  RecvSession rx({sdp::RtpCodec{0, "PCMU", 8000, 1, "", {}}, sdp::RtpCodec{101, "telephone-event", 8000, 1, "0-15", {}}});
  Instant now = RecvSession::Start();
  size_t digits = 0;
  const int kSources = 3000;
  for (int i = 0; i < kSources; ++i) {
    const uint32_t ssrc = 0x50000000u + static_cast<uint32_t>(i) * 7919u;
    rtp::TelephoneEvent e;
    e.event = static_cast<uint8_t>(i % 16);
    e.volume = 10;
    for (int k = 0; k < 3; ++k) {
      e.duration = static_cast<uint16_t>(160 * (k + 1));
      e.end = k == 2;
      auto payload = rtp::SerializeTelephoneEvent(e);
      ASSERT_TRUE(payload.ok());
      rx.Feed(ssrc, 101, static_cast<uint16_t>(k), 8000u, *payload, now);
    }
    now += std::chrono::milliseconds(1);
    ASSERT_LE(rx.session.ssrc_routes(), MediaSession::kMaxSsrcRoutes + 2);
    ASSERT_LE(rx.session.receive_streams(), 1u);
    while (rx.session.PollReceivedDtmf()) ++digits;
  }
  EXPECT_EQ(digits, static_cast<size_t>(kSources));
}

}  // namespace
}  // namespace refrtc::test
