// Engine-level security regressions for the transport path (issue F): what reaches DTLS/SCTP
// from addresses ICE has not validated, what is sent after consent expired, and a fingerprint
// change with an ICE restart. Two RTCPeerConnections in the virtual network (pc_pair.h); attack
// datagrams are injected straight into an engine with RTCPeerConnection::HandleReceive.
// Existing coverage: PeerConnection.FingerprintMismatchFailsAndDeliversNothing,
// PeerConnection.ConsentLossGoesDisconnectedThenFailed, PeerConnection.IceRestartKeepsDataFlowing
// (peer_connection_test.cc); SrtpPath.TamperedReplayedAndUnvalidatedPacketsAreDropped
// (engine/srtp_path_test.cc: SRTP from an unvalidated address).
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "engine/transport_stack.h"
#include "pc_pair.h"

namespace refrtc::test {
namespace {

using std::chrono::seconds;

bool IsDtls(const Bytes& d) { return !d.empty() && d[0] >= 20 && d[0] <= 63; }
bool IsRtp(const Bytes& d) { return !d.empty() && d[0] >= 128 && d[0] <= 191; }

SocketAddress Attacker(const SocketAddress& like, uint16_t port) {
  return like.is_v6() ? Addr("2001:db8::66", port) : Addr("198.51.100.66", port);
}
SocketAddress WithPort(SocketAddress a, uint16_t port) {
  a.set_port(port);
  return a;
}

// RFC 8445 §12 / RFC 8842 §5 / ARCHITECTURE.md: DTLS records (and so SCTP, which runs inside
// them) are accepted only from an address ICE validated. A genuine DTLS record carrying a data
// channel message, captured off the wire and replayed by an attacker from an unvalidated address
// (another host; the peer's IP with another port), delivers nothing; the very same bytes from
// the peer's validated address deliver the message (so it was the source that was refused).
TEST(TransportSecurity, DtlsAndSctpFromUnvalidatedAddressAreDropped) {
  PcPair p(21);
  auto ch = p.Connect();
  ASSERT_TRUE(ch);
  ASSERT_TRUE(p.RunUntil([&] { return p.b.messages.empty(); }, seconds(1)));
  // Capture what A sends next and keep it from B.
  std::vector<Transmit> captured;
  p.net.SetPacketTap([&](const Transmit& t, Instant) {
    if (IsDtls(t.data)) captured.push_back(t);
  });
  auto sel = p.a.pc->transport_stack().ice().selected_pair();
  ASSERT_TRUE(sel.has_value());
  const SocketAddress a_addr = sel->first, b_addr = sel->second;
  testing::LinkConfig drop;
  drop.blackout = true;
  p.net.SetLink(a_addr, b_addr, drop);
  ASSERT_TRUE(ch->send("secret-message").ok());
  p.RunFor(std::chrono::milliseconds(100));
  p.net.SetPacketTap(nullptr);
  p.net.SetLink(a_addr, b_addr, testing::LinkConfig{});
  ASSERT_FALSE(captured.empty());
  ASSERT_TRUE(p.b.messages.empty());
  const auto before = p.b.pc->transport_stack().counters();
  const Instant now = p.net.now();
  for (const auto& t : captured) {
    ASSERT_EQ(t.to, b_addr);
    p.b.pc->HandleReceive(t.data, b_addr, Attacker(a_addr, 7000), now);
    p.b.pc->HandleReceive(t.data, b_addr, WithPort(a_addr, static_cast<uint16_t>(a_addr.port() + 1)), now);
  }
  p.Pump();
  EXPECT_TRUE(p.b.messages.empty()) << "a replayed DTLS record from an unvalidated address was delivered";
  const auto& after = p.b.pc->transport_stack().counters();
  EXPECT_EQ(after.received, before.received + 2 * captured.size());
  EXPECT_FALSE(p.b.pc->transport_stack().ice().IsValidatedRemote(b_addr, Attacker(a_addr, 7000)));
  // The attacker's copies were not answered either (no DTLS/SCTP reply to them).
  std::vector<Transmit> replies;
  p.net.SetPacketTap([&](const Transmit& t, Instant) { replies.push_back(t); });
  p.Pump();
  for (const auto& t : replies) EXPECT_NE(t.to.IpString(), Attacker(a_addr, 7000).IpString());
  // The same bytes from the validated address: delivered once.
  for (const auto& t : captured) p.b.pc->HandleReceive(t.data, b_addr, a_addr, now);
  p.Pump();
  ASSERT_EQ(p.b.messages.size(), 1u);
  EXPECT_EQ(p.b.messages[0].first, "secret-message");
  p.net.SetPacketTap(nullptr);
  p.RunFor(seconds(3));
  EXPECT_EQ(p.b.messages.size(), 1u);  // nothing held from the attacker turns up later
}

// RFC 7675 §5.1: without consent (no authenticated response to our consent checks for 30 s) an
// endpoint MUST stop sending. B→A is cut (A's consent requests reach B, B's answers never come
// back), A→B still works: once A's ICE is failed, A sends no DTLS/SCTP/SRTP datagram at all, even
// when the application keeps sending, and B receives no more data.
TEST(TransportSecurity, ConsentExpiryStopsApplicationData) {
  PcPair p(22);
  auto ch = p.Connect();
  ASSERT_TRUE(ch);
  auto sel = p.a.pc->transport_stack().ice().selected_pair();
  ASSERT_TRUE(sel.has_value());
  const SocketAddress a_addr = sel->first, b_addr = sel->second;
  testing::LinkConfig cut;
  cut.blackout = true;
  for (const auto& from : {Addr("198.51.100.2", 5000), Addr("2001:db8::2", 5000)})
    for (const auto& to : {Addr("198.51.100.1", 4000), Addr("2001:db8::1", 4000)}) p.net.SetLink(from, to, cut);
  Instant failed_at{};
  std::vector<std::pair<Instant, Transmit>> a_sent;
  p.net.SetPacketTap([&](const Transmit& t, Instant at) {
    if (t.from.IpString() == a_addr.IpString()) a_sent.emplace_back(at, t);
  });
  const Instant cut_at = p.net.now();
  // The application keeps sending once a second while consent runs out.
  int sent_ok = 0;
  bool failed = false;
  for (int i = 0; i < 45 && !failed; ++i) {
    if (ch->send("tick " + std::to_string(i)).ok()) ++sent_ok;
    p.RunFor(seconds(1));
    if (p.a.pc->iceConnectionState() == RTCIceConnectionState::kFailed) {
      failed = true;
      failed_at = p.net.now();
    }
  }
  ASSERT_TRUE(failed);
  EXPECT_GE(failed_at - cut_at, seconds(25));
  EXPECT_LE(failed_at - cut_at, seconds(32));
  EXPECT_GT(sent_ok, 20);
  EXPECT_EQ(p.a.pc->connectionState(), RTCPeerConnectionState::kFailed);
  // From now on: no DTLS (so no SCTP) and no SRTP from A, whatever the application does.
  a_sent.clear();
  const size_t b_messages = p.b.messages.size();
  for (int i = 0; i < 10; ++i) {
    (void)ch->send("after-failure");
    p.RunFor(seconds(1));
  }
  for (const auto& [at, t] : a_sent) {
    EXPECT_FALSE(IsDtls(t.data)) << "DTLS sent " << (at - failed_at).count() << " ns after consent expired: "
                                 << t.from.ToString() << " -> " << t.to.ToString() << " type " << int(t.data[0])
                                 << " len " << t.data.size() << " ice=" << ToString(p.a.pc->iceConnectionState());
    EXPECT_FALSE(IsRtp(t.data));
  }
  EXPECT_EQ(p.b.messages.size(), b_messages);
  for (const auto& m : p.b.messages) EXPECT_NE(m.first, "after-failure");
}

// RFC 8842 §5 / RFC 8122 §5 with an ICE restart (RFC 8445 §9): the restart keeps the DTLS
// association, and the fingerprint in the restart's answer must still match the certificate that
// association was made with. An answer carrying a different fingerprint (a signalling path trying
// to bind another certificate) tears the transport down: DTLS failed, connection failed, no more
// data delivered. (The unchanged case is PeerConnection.IceRestartKeepsDataFlowing.)
TEST(TransportSecurity, IceRestartWithChangedFingerprintFailsTransport) {
  PcPair p(23);
  auto ch = p.Connect();
  ASSERT_TRUE(ch);
  ASSERT_TRUE(ch->send("before").ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.messages.size() == 1; }));
  p.a.pc->restartIce();
  p.Pump();
  const std::string a_fp = absl::AsciiStrToUpper(p.a.pc->certificate()->getFingerprints()[0].value);
  const std::string b_fp = absl::AsciiStrToUpper(p.b.pc->certificate()->getFingerprints()[0].value);
  ASSERT_NE(a_fp, b_fp);
  p.Negotiate([&](std::string sdp) {
    EXPECT_NE(sdp.find(b_fp), std::string::npos);
    return absl::StrReplaceAll(sdp, {{b_fp, a_fp}});
  });
  EXPECT_TRUE(p.RunUntil([&] { return p.a.pc->connectionState() == RTCPeerConnectionState::kFailed; }, seconds(10)));
  EXPECT_EQ(p.a.pc->dtlsTransport().state, RTCDtlsTransportState::kFailed);
  EXPECT_EQ(p.a.pc->transport_stack().dtls().state(), dtls::State::kFailed);
  (void)ch->send("after");
  p.RunFor(seconds(5));
  ASSERT_EQ(p.b.messages.size(), 1u);
  EXPECT_EQ(p.b.messages[0].first, "before");
  EXPECT_NE(ch->readyState(), RTCDataChannelState::kOpen);
}

}  // namespace
}  // namespace refrtc::test
