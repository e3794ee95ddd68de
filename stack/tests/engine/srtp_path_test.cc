// The DTLS-SRTP media path of the TransportStack (issue D): RFC 5764 §5.1.2 (SRTP on the DTLS
// 5-tuple, RFC 7983 first-byte demux 128..191), RFC 5761 §4 (RTP/RTCP mux), RFC 3711 (protect /
// unprotect, replay). Two TransportStacks connect over the virtual-time network with ICE, DTLS
// (use_srtp is always offered by dtls::Transport) and SCTP; deterministic, no sleeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dtls/certificate.h"
#include "engine/transport_stack.h"
#include "rtp/rtcp_packet.h"
#include "rtp/rtp_packet.h"
#include "srtp/srtp_session.h"
#include "testing/virtual_network.h"

namespace refrtc {
namespace {

using engine::RtcpReceived;
using engine::RtpReceived;
using engine::TransportEvent;
using engine::TransportStack;

SocketAddress Addr(const char* ip, uint16_t port) { return *SocketAddress::Parse(ip, port); }

constexpr int64_t kUnixNow = 1764000000;

std::shared_ptr<dtls::Certificate> MakeCert(uint64_t seed) {
  Random rng(seed);
  auto c = dtls::Certificate::GenerateEcdsaP256(rng, kUnixNow, kUnixNow + 86400 * 30);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

ice::AgentConfig IceConfig(ice::Role role, const std::string& ufrag, const std::string& pwd,
                           uint64_t tie_breaker) {
  ice::AgentConfig c;
  c.role = role;
  c.local = ice::Credentials{ufrag, pwd};
  c.tie_breaker = tie_breaker;
  return c;
}

Bytes MakeRtp(uint16_t seq, uint32_t ssrc = 0x11223344, size_t payload_size = 160) {
  rtp::RtpPacket p;
  p.payload_type = rtp::PayloadType(111);
  p.sequence_number = rtp::SequenceNumber(seq);
  p.timestamp = 960u * seq;
  p.ssrc = Ssrc(ssrc);
  p.marker = seq % 10 == 0;
  EXPECT_TRUE(p.SetExtension(1, Bytes{static_cast<uint8_t>(seq), 0x42}).ok());
  p.payload.resize(payload_size);
  for (size_t i = 0; i < payload_size; ++i) p.payload[i] = static_cast<uint8_t>(seq * 7 + i);
  auto b = p.Serialize();
  EXPECT_TRUE(b.ok()) << b.status();
  return *b;
}

Bytes MakeSenderReport(uint32_t packet_count, uint32_t ssrc = 0x11223344) {
  rtp::SenderReport sr;
  sr.sender_ssrc = Ssrc(ssrc);
  sr.ntp_time = rtp::NtpTime(3970000000u + packet_count, 0x80000000u);
  sr.rtp_timestamp = 960u * packet_count;
  sr.packet_count = packet_count;
  sr.octet_count = packet_count * 160;
  rtp::Sdes sdes;
  sdes.chunks.push_back(rtp::SdesChunk{Ssrc(ssrc), {rtp::SdesItem{rtp::kSdesCname, "srtppath"}}});
  auto b = rtp::SerializeRtcpCompound({sr, sdes});
  EXPECT_TRUE(b.ok()) << b.status();
  return *b;
}

bool IsMedia(const Bytes& d) { return !d.empty() && d[0] >= 128 && d[0] <= 191; }

// One TransportStack as a virtual-network endpoint, with what the test observes of it.
class StackHost : public Endpoint {
 public:
  StackHost(ice::AgentConfig config, std::shared_ptr<dtls::Certificate> cert, uint64_t seed)
      : cert_(cert), stack(std::move(config), std::move(cert), seed) {}

  void AddLocalAddress(const SocketAddress& local) override { stack.ice().AddLocalAddress(local); }
  void HandleReceive(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                     Instant now) override {
    stack.HandleReceive(packet, local, remote, now);
  }
  void HandleTimeout(Instant now) override { stack.HandleTimeout(now); }
  std::optional<Transmit> PollTransmit() override { return stack.PollTransmit(); }
  std::optional<Instant> PollTimeout() override { return stack.PollTimeout(); }

  // Drains the stack's events into the fields below; new local candidates are returned.
  std::vector<ice::Candidate> Drain() {
    std::vector<ice::Candidate> cands;
    while (auto ev = stack.PollEvent()) {
      if (auto* ie = std::get_if<ice::Event>(&*ev)) {
        if (auto* lc = std::get_if<ice::EventLocalCandidate>(ie)) cands.push_back(lc->candidate);
      } else if (auto* ds = std::get_if<engine::DtlsStateChanged>(&*ev)) {
        dtls_states.push_back(ds->state);
      } else if (auto* se = std::get_if<sctp::Event>(&*ev)) {
        if (std::holds_alternative<sctp::EventAssociationUp>(*se)) sctp_up = true;
        if (auto* ic = std::get_if<sctp::EventIncomingChannel>(se)) incoming_channels.push_back(ic->id);
        if (auto* m = std::get_if<sctp::EventMessage>(se))
          messages.push_back(std::string(m->data.begin(), m->data.end()));
      } else if (auto* r = std::get_if<RtpReceived>(&*ev)) {
        rtp.push_back(r->packet);
      } else if (auto* r = std::get_if<RtcpReceived>(&*ev)) {
        rtcp.push_back(r->packet);
      }
    }
    return cands;
  }
  bool dtls_connected() const { return stack.dtls().state() == dtls::State::kConnected; }
  const dtls::Certificate& cert() const { return *cert_; }

  std::shared_ptr<dtls::Certificate> cert_;
  TransportStack stack;
  std::vector<dtls::State> dtls_states;
  bool sctp_up = false;
  std::vector<StreamId> incoming_channels;
  std::vector<std::string> messages;
  std::vector<Bytes> rtp, rtcp;
};

// A (ICE controlling, DTLS client) at 198.51.100.1:4000, B (controlled, DTLS server) at
// 198.51.100.2:5000. Candidates are exchanged as soon as they are gathered.
class SrtpPair {
 public:
  static constexpr const char* kPwdA = "passwordpasswordA00000";
  static constexpr const char* kPwdB = "passwordpasswordB00000";

  explicit SrtpPair(uint64_t seed = 1)
      : net(seed),
        a(IceConfig(ice::Role::kControlling, "ufrA", kPwdA, 1111), MakeCert(seed * 10 + 1),
          seed * 2 + 1),
        b(IceConfig(ice::Role::kControlled, "ufrB", kPwdB, 2222), MakeCert(seed * 10 + 2),
          seed * 2 + 2) {
    net.AddEndpoint(&a, {addr_a});
    net.AddEndpoint(&b, {addr_b});
    Instant now = net.now();
    a.stack.ice().SetRemoteCredentials({"ufrB", kPwdB});
    b.stack.ice().SetRemoteCredentials({"ufrA", kPwdA});
    a.stack.ice().StartGathering(now);
    b.stack.ice().StartGathering(now);
  }

  // RFC 5763 §5 roles; SCTP on top (RFC 8841) for the data-channel checks.
  void ConfigureA() {
    a.stack.ConfigureDtls(dtls::Role::kClient, "sha-256", b.cert().Fingerprint("sha-256"), net.now());
    a.stack.ConfigureSctp(5000, 5000, 65536, net.now());
  }
  void ConfigureB() {
    b.stack.ConfigureDtls(dtls::Role::kServer, "sha-256", a.cert().Fingerprint("sha-256"), net.now());
    b.stack.ConfigureSctp(5000, 5000, 65536, net.now());
  }

  void Pump() {
    Instant now = net.now();
    for (int i = 0; i < 2; ++i) {
      StackHost& self = i == 0 ? a : b;
      StackHost& other = i == 0 ? b : a;
      self.stack.Pump(now);
      for (const auto& c : self.Drain()) EXPECT_TRUE(other.stack.ice().AddRemoteCandidate(c, now).ok());
      other.stack.Pump(now);
    }
    a.Drain();
    b.Drain();
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

  bool Connect() {
    ConfigureA();
    ConfigureB();
    return RunUntil([&] {
      return a.dtls_connected() && b.dtls_connected() && a.sctp_up && b.sctp_up;
    });
  }

  // Calls SendRtp/SendRtcp on A and takes its output straight off the stack (not through the
  // network): the datagrams as they would go on the wire.
  std::vector<Transmit> SendAndCapture(const Bytes& packet, bool rtcp) {
    absl::Status st = rtcp ? a.stack.SendRtcp(packet, net.now()) : a.stack.SendRtp(packet, net.now());
    EXPECT_TRUE(st.ok()) << st;
    std::vector<Transmit> out;
    while (auto t = a.stack.PollTransmit()) out.push_back(std::move(*t));
    return out;
  }
  // Hands one datagram to B as if it had arrived from `from`.
  void Inject(const Bytes& data, const SocketAddress& from) {
    b.stack.HandleReceive(data, addr_b, from, net.now());
    b.Drain();
  }

  SocketAddress addr_a = Addr("198.51.100.1", 4000);
  SocketAddress addr_b = Addr("198.51.100.2", 5000);
  testing::VirtualNetwork net;
  StackHost a, b;
};

TEST(SrtpPath, SendBeforeConnectFailsPrecondition) {
  SrtpPair p;
  EXPECT_EQ(p.a.stack.SendRtp(MakeRtp(1), p.net.now()).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.a.stack.SendRtcp(MakeSenderReport(1), p.net.now()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(p.a.stack.srtp_active());
  EXPECT_FALSE(p.a.stack.srtp_profile().has_value());
  // Still refused while the handshake runs.
  p.ConfigureA();
  EXPECT_EQ(p.a.stack.SendRtp(MakeRtp(1), p.net.now()).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.a.stack.counters().rtp_sent, 0u);
}

TEST(SrtpPath, MediaBeforeKeysIsDroppedAndCounted) {
  SrtpPair p;
  p.ConfigureA();  // B has no DTLS parameters yet: ICE connects, DTLS cannot finish
  ASSERT_TRUE(p.RunUntil([&] {
    return p.a.stack.ice().selected_pair().has_value() && p.b.stack.ice().selected_pair().has_value();
  }));
  EXPECT_EQ(p.a.stack.SendRtp(MakeRtp(1), p.net.now()).code(), absl::StatusCode::kFailedPrecondition);
  // A (plaintext) RTP packet from the ICE-validated peer while B has no keys.
  p.Inject(MakeRtp(1), p.addr_a);
  EXPECT_EQ(p.b.stack.counters().dropped_rtp, 1u);
  EXPECT_EQ(p.b.stack.counters().dropped_rtp_unvalidated, 0u);
  EXPECT_TRUE(p.b.rtp.empty());
  // Late DTLS parameters: the handshake completes and media flows.
  p.ConfigureB();
  ASSERT_TRUE(p.RunUntil([&] { return p.a.stack.srtp_active() && p.b.stack.srtp_active(); }));
  ASSERT_TRUE(p.a.stack.SendRtp(MakeRtp(2), p.net.now()).ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.rtp.size() == 1; }));
  EXPECT_EQ(p.b.rtp[0], MakeRtp(2));
}

TEST(SrtpPath, HundredRtpAndRtcpArriveAsPlaintextAndAreProtectedOnTheWire) {
  SrtpPair p;
  std::vector<Bytes> wire;  // media datagrams A sent, as the network saw them
  p.net.SetPacketTap([&](const Transmit& t, Instant) {
    if (t.from == p.addr_a && IsMedia(t.data)) wire.push_back(t.data);
  });
  ASSERT_TRUE(p.Connect());
  ASSERT_TRUE(p.a.stack.srtp_active());
  ASSERT_TRUE(p.b.stack.srtp_active());
  // mbedTLS 2.28 offers the two AES-CM profiles, _80 first (RFC 5764 §4.1.2).
  EXPECT_EQ(p.a.stack.srtp_profile(), srtp::Profile::kAes128CmHmacSha1_80);
  EXPECT_EQ(p.b.stack.srtp_profile(), srtp::Profile::kAes128CmHmacSha1_80);

  std::vector<Bytes> sent_rtp, sent_rtcp;
  for (uint16_t i = 0; i < 100; ++i) {
    Bytes pkt = MakeRtp(static_cast<uint16_t>(1000 + i));
    sent_rtp.push_back(pkt);
    ASSERT_TRUE(p.a.stack.SendRtp(pkt, p.net.now()).ok());
    if (i % 25 == 24) {
      Bytes sr = MakeSenderReport(i + 1);
      sent_rtcp.push_back(sr);
      ASSERT_TRUE(p.a.stack.SendRtcp(sr, p.net.now()).ok());
    }
    p.net.Flush();
    p.net.RunFor(std::chrono::milliseconds(20));
    p.Pump();
  }
  ASSERT_TRUE(p.RunUntil([&] { return p.b.rtp.size() >= 100 && p.b.rtcp.size() >= 4; }));
  EXPECT_EQ(p.b.rtp, sent_rtp);
  EXPECT_EQ(p.b.rtcp, sent_rtcp);
  EXPECT_EQ(p.a.stack.counters().rtp_sent, 100u);
  EXPECT_EQ(p.a.stack.counters().rtcp_sent, 4u);
  EXPECT_EQ(p.b.stack.counters().rtp_received, 100u);
  EXPECT_EQ(p.b.stack.counters().rtcp_received, 4u);
  EXPECT_EQ(p.b.stack.counters().srtp_unprotect_failures, 0u);

  // On the wire: SRTP/SRTCP, never the plaintext. AES_CM_128_HMAC_SHA1_80 appends a 10-byte tag
  // to RTP (RFC 3711 §4.2) and E‖index (4) + 10-byte tag to RTCP (§3.4); the RTP header and the
  // first 8 octets of RTCP stay in the clear, the rest is encrypted.
  ASSERT_EQ(wire.size(), 104u);
  size_t rtp_i = 0, rtcp_i = 0;
  for (const Bytes& w : wire) {
    if (rtp::IsRtcpPacket(w)) {
      ASSERT_LT(rtcp_i, sent_rtcp.size());
      const Bytes& plain = sent_rtcp[rtcp_i++];
      EXPECT_EQ(w.size(), plain.size() + 14);
      EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 8, w.begin()));
      EXPECT_FALSE(std::equal(plain.begin() + 8, plain.end(), w.begin() + 8));
      EXPECT_EQ(w[plain.size()] & 0x80, 0x80);  // E flag: encrypted (RFC 3711 §3.4)
    } else {
      ASSERT_LT(rtp_i, sent_rtp.size());
      const Bytes& plain = sent_rtp[rtp_i++];
      EXPECT_EQ(w.size(), plain.size() + 10);
      auto hdr = srtp::RtpHeaderLength(plain);
      ASSERT_TRUE(hdr.ok());
      EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + *hdr, w.begin()));
      EXPECT_FALSE(std::equal(plain.begin() + *hdr, plain.end(), w.begin() + *hdr));
    }
  }
  EXPECT_EQ(rtp_i, 100u);
  EXPECT_EQ(rtcp_i, 4u);

  // The other direction (B = DTLS server protects with the server keys, RFC 5764 §4.2).
  Bytes back = MakeRtp(7, 0xCAFEBABE);
  ASSERT_TRUE(p.b.stack.SendRtp(back, p.net.now()).ok());
  ASSERT_TRUE(p.b.stack.SendRtcp(MakeSenderReport(1, 0xCAFEBABE), p.net.now()).ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.rtp.size() == 1 && p.a.rtcp.size() == 1; }));
  EXPECT_EQ(p.a.rtp[0], back);
  EXPECT_EQ(p.a.rtcp[0], MakeSenderReport(1, 0xCAFEBABE));
}

TEST(SrtpPath, TamperedReplayedAndUnvalidatedPacketsAreDropped) {
  SrtpPair p;
  ASSERT_TRUE(p.Connect());
  const auto base = p.b.stack.counters();

  // Tampered payload: authentication fails (RFC 3711 §3.3 step 5), counted, nothing delivered.
  Bytes plain1 = MakeRtp(500);
  auto out = p.SendAndCapture(plain1, false);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].to, p.addr_b);
  Bytes wire1 = out[0].data;
  Bytes tampered = wire1;
  tampered[tampered.size() - 20] ^= 0x01;
  p.Inject(tampered, p.addr_a);
  EXPECT_TRUE(p.b.rtp.empty());
  EXPECT_EQ(p.b.stack.counters().srtp_unprotect_failures, base.srtp_unprotect_failures + 1);
  // A tampered tag, too.
  Bytes bad_tag = wire1;
  bad_tag.back() ^= 0x80;
  p.Inject(bad_tag, p.addr_a);
  EXPECT_EQ(p.b.stack.counters().srtp_unprotect_failures, base.srtp_unprotect_failures + 2);
  EXPECT_TRUE(p.b.rtp.empty());

  // The genuine packet still authenticates (failures did not move the replay window) ...
  p.Inject(wire1, p.addr_a);
  ASSERT_EQ(p.b.rtp.size(), 1u);
  EXPECT_EQ(p.b.rtp[0], plain1);
  // ... once: a replay of the same wire packet is dropped (RFC 3711 §3.3.2).
  p.Inject(wire1, p.addr_a);
  EXPECT_EQ(p.b.rtp.size(), 1u);
  EXPECT_EQ(p.b.stack.counters().srtp_unprotect_failures, base.srtp_unprotect_failures + 3);

  // SRTCP: tampered and replayed likewise.
  Bytes sr = MakeSenderReport(9);
  out = p.SendAndCapture(sr, true);
  ASSERT_EQ(out.size(), 1u);
  Bytes wire_sr = out[0].data;
  Bytes sr_tampered = wire_sr;
  sr_tampered[10] ^= 0x40;
  p.Inject(sr_tampered, p.addr_a);
  EXPECT_TRUE(p.b.rtcp.empty());
  p.Inject(wire_sr, p.addr_a);
  ASSERT_EQ(p.b.rtcp.size(), 1u);
  EXPECT_EQ(p.b.rtcp[0], sr);
  p.Inject(wire_sr, p.addr_a);
  EXPECT_EQ(p.b.rtcp.size(), 1u);
  EXPECT_EQ(p.b.stack.counters().srtp_unprotect_failures, base.srtp_unprotect_failures + 5);

  // A valid SRTP packet from an address ICE never validated: dropped before unprotect; the same
  // bytes from the peer's validated address are then accepted (so it was the source that counted).
  Bytes plain2 = MakeRtp(501);
  out = p.SendAndCapture(plain2, false);
  ASSERT_EQ(out.size(), 1u);
  p.Inject(out[0].data, Addr("198.51.100.66", 7000));
  p.Inject(out[0].data, Addr("198.51.100.1", 4001));  // right IP, wrong port
  EXPECT_EQ(p.b.rtp.size(), 1u);
  EXPECT_EQ(p.b.stack.counters().dropped_rtp_unvalidated, base.dropped_rtp_unvalidated + 2);
  EXPECT_EQ(p.b.stack.counters().srtp_unprotect_failures, base.srtp_unprotect_failures + 5);
  p.Inject(out[0].data, p.addr_a);
  ASSERT_EQ(p.b.rtp.size(), 2u);
  EXPECT_EQ(p.b.rtp[1], plain2);

  // Garbage in the SRTP range never crashes: too short, bad version byte ranges, huge length.
  for (const Bytes& junk : {Bytes{0x80}, Bytes{0x80, 0xC8}, Bytes(12, 0x80), Bytes(40, 0xBF),
                            Bytes{0x80, 0xC8, 0xFF, 0xFF, 1, 2, 3, 4}, Bytes(3000, 0x90)})
    p.Inject(junk, p.addr_a);
  EXPECT_EQ(p.b.rtp.size(), 2u);
  EXPECT_EQ(p.b.rtcp.size(), 1u);
  EXPECT_EQ(p.b.stack.counters().srtp_unprotect_failures, base.srtp_unprotect_failures + 11);
  EXPECT_EQ(p.b.stack.counters().rtp_received, base.rtp_received + 2);
  EXPECT_EQ(p.b.stack.counters().rtcp_received, base.rtcp_received + 1);
}

TEST(SrtpPath, MalformedPacketsAreRejectedWithInvalidArgument) {
  SrtpPair p;
  ASSERT_TRUE(p.Connect());
  Instant now = p.net.now();
  auto& s = p.a.stack;
  EXPECT_EQ(s.SendRtp(Bytes{}, now).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.SendRtp(Bytes{0x80, 0x6f, 0, 1}, now).code(), absl::StatusCode::kInvalidArgument);
  Bytes v1 = MakeRtp(1);
  v1[0] = 0x40;  // version 1
  EXPECT_EQ(s.SendRtp(v1, now).code(), absl::StatusCode::kInvalidArgument);
  Bytes csrc = MakeRtp(2);
  csrc[0] |= 0x0F;  // 15 CSRCs claimed
  csrc.resize(20);
  EXPECT_EQ(s.SendRtp(csrc, now).code(), absl::StatusCode::kInvalidArgument);
  Bytes rtcp_like = MakeRtp(3);
  rtcp_like[1] = 0xC8;  // M=1, PT=72: RFC 5761 §4 would demux it as SR
  EXPECT_EQ(s.SendRtp(rtcp_like, now).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.SendRtcp(Bytes{0x80, 0xC8, 0, 0}, now).code(), absl::StatusCode::kInvalidArgument);
  Bytes sr = MakeSenderReport(1);
  Bytes sr_bad_len = sr;
  sr_bad_len[3] = 0x40;  // length past the end
  EXPECT_EQ(s.SendRtcp(sr_bad_len, now).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.SendRtcp(MakeRtp(4), now).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.counters().rtp_sent, 0u);
  EXPECT_EQ(s.counters().rtcp_sent, 0u);
  // Reusing a sequence number would reuse keystream: refused by the SRTP session.
  ASSERT_TRUE(s.SendRtp(MakeRtp(5), now).ok());
  EXPECT_EQ(s.SendRtp(MakeRtp(5), now).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.counters().rtp_sent, 1u);
  // After Close nothing is sent.
  s.Close(now);
  EXPECT_EQ(s.SendRtp(MakeRtp(6), now).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(s.srtp_active());
}

TEST(SrtpPath, TenPercentLossTheRestArrivesIntact) {
  SrtpPair p(5);
  ASSERT_TRUE(p.Connect());
  testing::LinkConfig lossy;
  lossy.loss = 0.10;
  lossy.delay = std::chrono::milliseconds(15);
  p.net.SetDefaultLink(lossy);
  std::vector<Bytes> sent;
  for (uint16_t i = 0; i < 300; ++i) {
    // Sequence numbers wrap through 65535 -> 0 on the way (RFC 3711 §3.3.1 ROC).
    Bytes pkt = MakeRtp(static_cast<uint16_t>(65400 + i), 0x0BADF00D, 100 + i % 900);
    sent.push_back(pkt);
    ASSERT_TRUE(p.a.stack.SendRtp(pkt, p.net.now()).ok());
    p.net.Flush();
    p.net.RunFor(std::chrono::milliseconds(10));
    p.Pump();
  }
  p.net.RunFor(std::chrono::milliseconds(200));
  p.Pump();
  const auto& got = p.b.rtp;
  // Binomial(300, 0.9): 270 expected; the seed is fixed, the bounds are wide.
  EXPECT_GT(got.size(), 240u);
  EXPECT_LT(got.size(), 300u);
  // Every packet that arrived is exactly one that was sent, in order (no jitter configured).
  size_t j = 0;
  for (const Bytes& g : got) {
    while (j < sent.size() && sent[j] != g) ++j;
    ASSERT_LT(j, sent.size()) << "received a packet that was never sent";
    ++j;
  }
  EXPECT_EQ(p.b.stack.counters().srtp_unprotect_failures, 0u);
  EXPECT_EQ(p.b.stack.counters().rtp_received, got.size());
}

TEST(SrtpPath, DataChannelsKeepWorkingAlongsideMedia) {
  SrtpPair p(3);
  ASSERT_TRUE(p.Connect());
  sctp::ChannelInit init;
  init.label = "chat";
  auto id = p.a.stack.sctp()->OpenChannel(init, std::nullopt, p.net.now());
  ASSERT_TRUE(id.ok()) << id.status();
  p.a.stack.Pump(p.net.now());
  ASSERT_TRUE(p.RunUntil([&] { return !p.b.incoming_channels.empty(); }));
  EXPECT_EQ(p.b.incoming_channels[0], *id);

  // Interleave media and one message each way on the same 5-tuple.
  for (uint16_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(p.a.stack.SendRtp(MakeRtp(i), p.net.now()).ok());
    ASSERT_TRUE(p.b.stack.SendRtp(MakeRtp(i, 0x55667788), p.net.now()).ok());
    if (i == 5) {
      std::string ping = "ping from A", pong = "pong from B";
      ASSERT_TRUE(p.a.stack.sctp()->Send(*id, Bytes(ping.begin(), ping.end()), false, p.net.now()).ok());
      ASSERT_TRUE(p.b.stack.sctp()->Send(*id, Bytes(pong.begin(), pong.end()), false, p.net.now()).ok());
      p.a.stack.Pump(p.net.now());
      p.b.stack.Pump(p.net.now());
    }
    p.Pump();
  }
  ASSERT_TRUE(p.RunUntil([&] {
    return p.a.messages.size() == 1 && p.b.messages.size() == 1 && p.a.rtp.size() == 10 &&
           p.b.rtp.size() == 10;
  }));
  EXPECT_EQ(p.b.messages[0], "ping from A");
  EXPECT_EQ(p.a.messages[0], "pong from B");
  for (uint16_t i = 0; i < 10; ++i) {
    EXPECT_EQ(p.b.rtp[i], MakeRtp(i));
    EXPECT_EQ(p.a.rtp[i], MakeRtp(i, 0x55667788));
  }
}

}  // namespace
}  // namespace refrtc
