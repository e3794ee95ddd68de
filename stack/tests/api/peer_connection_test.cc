// Two refrtc engines in virtual time: connection, data both ways, loss, failure paths.
#include <gtest/gtest.h>

#include "absl/strings/str_replace.h"
#include "absl/strings/ascii.h"
#include "pc_pair.h"
#include "util/codec.h"

namespace refrtc::test {
namespace {

using std::chrono::seconds;

TEST(PeerConnection, ConnectsAndExchangesEveryKindOfMessage) {
  PcPair p;
  auto ch = p.Connect();
  auto remote = p.b.remote_channels.at(0);
  EXPECT_EQ(remote->label(), "chat");
  EXPECT_EQ(p.a.pc->connectionState(), RTCPeerConnectionState::kConnected);
  EXPECT_EQ(p.b.pc->connectionState(), RTCPeerConnectionState::kConnected);
  // Stable ids by DTLS role (RFC 8832 §6): B answered active → B is the DTLS client (even ids),
  // A is the server and uses odd ids.
  ASSERT_TRUE(ch->id());
  EXPECT_EQ(*ch->id() % 2, 1);

  ASSERT_TRUE(ch->send("hello").ok());
  ASSERT_TRUE(ch->sendBinary(Bytes{1, 2, 3}).ok());
  ASSERT_TRUE(ch->send("").ok());
  ASSERT_TRUE(ch->sendBinary(Bytes{}).ok());
  ASSERT_TRUE(remote->send("back").ok());
  ASSERT_TRUE(remote->sendBinary(Bytes{}).ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.messages.size() == 4 && p.a.messages.size() == 2; }));
  EXPECT_EQ(p.b.messages[0], std::make_pair(std::string("hello"), false));
  EXPECT_EQ(p.b.messages[1], std::make_pair(std::string("\x01\x02\x03"), true));
  EXPECT_EQ(p.b.messages[2], std::make_pair(std::string(""), false));
  EXPECT_EQ(p.b.messages[3], std::make_pair(std::string(""), true));
  EXPECT_EQ(p.a.messages[0], std::make_pair(std::string("back"), false));
  EXPECT_EQ(p.a.messages[1], std::make_pair(std::string(""), true));

  // Signaling and connection states went through the W3C sequences.
  EXPECT_EQ(p.a.States(RTCEventType::kSignalingStateChange),
            (std::vector<std::string>{"have-local-offer", "stable"}));
  EXPECT_EQ(p.b.States(RTCEventType::kSignalingStateChange),
            (std::vector<std::string>{"have-remote-offer", "stable"}));
  EXPECT_EQ(p.a.States(RTCEventType::kConnectionStateChange),
            (std::vector<std::string>{"connecting", "connected"}));
  EXPECT_TRUE(p.a.Saw(RTCEventType::kNegotiationNeeded));
  auto sctp = p.a.pc->sctp();
  ASSERT_TRUE(sctp);
  EXPECT_EQ(sctp->state, RTCSctpTransportState::kConnected);
  EXPECT_EQ(sctp->maxMessageSize, 262144);
}

TEST(PeerConnection, TenThousandMessagesSurviveLossReorderAndDuplication) {
  PcPair p(7);
  auto ch = p.Connect();
  testing::LinkConfig impaired;
  impaired.loss = 0.05;
  impaired.delay = std::chrono::milliseconds(10);
  impaired.jitter = std::chrono::milliseconds(5);
  impaired.reorder = 0.05;
  impaired.duplicate = 0.02;
  p.net.SetDefaultLink(impaired);

  constexpr int kCount = 10000;
  constexpr size_t kSize = 1400;
  std::string sent_digest_input, received_digest_input;
  int next = 0;
  auto remote = p.b.remote_channels.at(0);
  size_t received = 0;
  std::vector<uint8_t> all_received;
  all_received.reserve(kCount * kSize);
  p.on_event = [&](int side, const RTCEvent& e) {
    if (side == 1 && e.type == RTCEventType::kChannelMessage) {
      ++received;
      all_received.insert(all_received.end(), e.data.begin(), e.data.end());
    }
  };
  std::vector<uint8_t> all_sent;
  all_sent.reserve(kCount * kSize);
  Random fill(99);
  auto send_some = [&] {
    while (next < kCount && ch->bufferedAmount() < 512 * 1024) {
      Bytes m = fill.RandomBytes(kSize);
      ASSERT_TRUE(ch->sendBinary(m).ok());
      all_sent.insert(all_sent.end(), m.begin(), m.end());
      ++next;
    }
  };
  bool done = p.RunUntil(
      [&] {
        send_some();
        return received == kCount;
      },
      seconds(600));
  ASSERT_TRUE(done) << "received " << received << " of " << kCount << " (sent " << next << ")"
                    << " ch=" << ToString(ch->readyState()) << " buffered=" << ch->bufferedAmount()
                    << " conn=" << ToString(p.a.pc->connectionState()) << " ice=" << ToString(p.a.pc->iceConnectionState());
  EXPECT_EQ(Sha256Hex(all_received), Sha256Hex(all_sent));
  EXPECT_GT(p.net.stats().lost, 0u);
  (void)remote;
}

TEST(PeerConnection, FingerprintMismatchFailsAndDeliversNothing) {
  PcPair p(3);
  auto ch = *p.a.pc->createDataChannel("x");
  // Replace B's fingerprint in the answer A applies with A's own (valid form, wrong value).
  std::string a_fp = absl::AsciiStrToUpper(p.a.pc->certificate()->getFingerprints()[0].value);
  p.Negotiate([&](std::string sdp) {
    std::string b_fp = absl::AsciiStrToUpper(p.b.pc->certificate()->getFingerprints()[0].value);
    return absl::StrReplaceAll(sdp, {{b_fp, a_fp}});
  });
  EXPECT_TRUE(p.RunUntil([&] { return p.a.pc->connectionState() == RTCPeerConnectionState::kFailed; }, seconds(40)));
  p.RunFor(seconds(2));
  EXPECT_EQ(p.a.pc->connectionState(), RTCPeerConnectionState::kFailed);
  EXPECT_NE(ch->readyState(), RTCDataChannelState::kOpen);
  EXPECT_TRUE(p.b.remote_channels.empty());
  EXPECT_TRUE(p.b.messages.empty());
}

TEST(PeerConnection, WrongIcePasswordNeverConnects) {
  PcPair p(4);
  (void)*p.a.pc->createDataChannel("x");
  p.Negotiate([&](std::string sdp) {
    // A checks B with a wrong password: B answers 401 and nothing else happens.
    auto pos = sdp.find("a=ice-pwd:");
    sdp.replace(pos + 10, 22, "WRONGwrongWRONGwrong00");
    return sdp;
  });
  p.RunFor(seconds(10));
  EXPECT_NE(p.a.pc->connectionState(), RTCPeerConnectionState::kConnected);
  EXPECT_NE(p.a.pc->iceConnectionState(), RTCIceConnectionState::kConnected);
  EXPECT_TRUE(p.b.remote_channels.empty());
}

TEST(PeerConnection, RemoteCloseClosesBothEnds) {
  PcPair p(5);
  auto ch = p.Connect();
  auto remote = p.b.remote_channels.at(0);
  remote->close();
  EXPECT_EQ(remote->readyState(), RTCDataChannelState::kClosing);
  ASSERT_TRUE(p.RunUntil([&] {
    return ch->readyState() == RTCDataChannelState::kClosed && remote->readyState() == RTCDataChannelState::kClosed;
  }));
  EXPECT_TRUE(p.a.Saw(RTCEventType::kChannelClosing));
  EXPECT_TRUE(p.a.Saw(RTCEventType::kChannelClose));
  EXPECT_TRUE(p.b.Saw(RTCEventType::kChannelClose));
  EXPECT_EQ(DomErrorName(ch->send("late")), "InvalidStateError");
}

TEST(PeerConnection, ConsentLossGoesDisconnectedThenFailed) {
  PcPair p(6);
  p.Connect();
  p.net.Blackout(true);
  EXPECT_TRUE(p.RunUntil([&] { return p.a.pc->iceConnectionState() == RTCIceConnectionState::kDisconnected; },
                         seconds(15)));
  EXPECT_EQ(p.a.pc->connectionState(), RTCPeerConnectionState::kDisconnected);
  // RFC 7675 §5.1: consent expires 30 s after the last response.
  EXPECT_TRUE(p.RunUntil([&] { return p.a.pc->iceConnectionState() == RTCIceConnectionState::kFailed; },
                         seconds(40)));
  EXPECT_EQ(p.a.pc->connectionState(), RTCPeerConnectionState::kFailed);
}

TEST(PeerConnection, NegotiatedChannelsAndLargeMessages) {
  PcPair p(8);
  RTCDataChannelInit init;
  init.negotiated = true;
  init.id = 42;
  auto a_ch = *p.a.pc->createDataChannel("neg", init);
  auto b_ch = *p.b.pc->createDataChannel("neg", init);
  p.Negotiate();
  ASSERT_TRUE(p.RunUntil([&] {
    return a_ch->readyState() == RTCDataChannelState::kOpen && b_ch->readyState() == RTCDataChannelState::kOpen;
  }));
  EXPECT_EQ(*a_ch->id(), 42);
  Random r(1);
  Bytes big = r.RandomBytes(262144);
  ASSERT_TRUE(a_ch->sendBinary(big).ok());
  ASSERT_TRUE(p.RunUntil([&] { return !p.b.messages.empty(); }));
  EXPECT_EQ(p.b.messages[0].first, std::string(big.begin(), big.end()));
  Bytes too_big(262145);
  EXPECT_EQ(DomErrorName(a_ch->sendBinary(too_big)), "TypeError");
}

TEST(PeerConnection, LocalCloseCollectsNoMoreEvents) {
  PcPair p(9);
  auto ch = p.Connect();
  p.a.pc->close();
  EXPECT_EQ(p.a.pc->signalingState(), RTCSignalingState::kClosed);
  EXPECT_EQ(p.a.pc->connectionState(), RTCPeerConnectionState::kClosed);
  EXPECT_EQ(ch->readyState(), RTCDataChannelState::kClosed);
  EXPECT_EQ(DomErrorName(p.a.pc->createOffer().status()), "InvalidStateError");
  // The remote learns through SCTP/DTLS shutdown.
  auto remote = p.b.remote_channels.at(0);
  EXPECT_TRUE(p.RunUntil([&] { return remote->readyState() == RTCDataChannelState::kClosed; }, seconds(40)));
}

TEST(PeerConnection, IceRestartKeepsDataFlowing) {
  PcPair p(10);
  auto ch = p.Connect();
  auto remote = p.b.remote_channels.at(0);
  auto ufrag_of = [](const std::string& sdp) {
    auto pos = sdp.find("a=ice-ufrag:");
    return sdp.substr(pos, sdp.find('\r', pos) - pos);
  };
  std::string old_ufrag = ufrag_of(p.a.pc->localDescription()->sdp);
  std::string old_remote_ufrag = ufrag_of(p.b.pc->localDescription()->sdp);
  p.a.pc->restartIce();
  p.Pump();
  EXPECT_TRUE(p.a.Saw(RTCEventType::kNegotiationNeeded));
  ASSERT_TRUE(ch->send("before").ok());
  p.Negotiate();
  EXPECT_NE(ufrag_of(p.a.pc->localDescription()->sdp), old_ufrag);
  // RFC 8445 §9: the answerer restarts too.
  EXPECT_NE(ufrag_of(p.b.pc->localDescription()->sdp), old_remote_ufrag);
  ASSERT_TRUE(ch->send("after").ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.b.messages.size() == 2; }, seconds(30)));
  EXPECT_EQ(p.b.messages[0].first, "before");
  EXPECT_EQ(p.b.messages[1].first, "after");
  // Consent keeps working on the new credentials.
  p.RunFor(seconds(40));
  EXPECT_EQ(p.a.pc->connectionState(), RTCPeerConnectionState::kConnected);
  EXPECT_EQ(p.b.pc->connectionState(), RTCPeerConnectionState::kConnected);
  ASSERT_TRUE(remote->send("still").ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.a.messages.size() == 1; }));
}

TEST(PeerConnection, ChannelsAddedAfterConnectOpenWithoutRenegotiation) {
  PcPair p(11);
  p.Connect();
  size_t negotiation_needed = 0;
  for (const auto& e : p.a.events) negotiation_needed += e.type == RTCEventType::kNegotiationNeeded;
  std::vector<std::shared_ptr<RTCDataChannel>> more;
  for (int i = 0; i < 20; ++i) {
    RTCDataChannelInit init;
    init.ordered = i % 2 == 0;
    if (i % 3 == 0) init.maxRetransmits = 0;
    init.protocol = "p" + std::to_string(i);
    more.push_back(*p.b.pc->createDataChannel("b" + std::to_string(i), init));
  }
  ASSERT_TRUE(p.RunUntil([&] { return p.a.remote_channels.size() == 20; }));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(p.a.remote_channels[i]->label(), "b" + std::to_string(i));
    EXPECT_EQ(p.a.remote_channels[i]->protocol(), "p" + std::to_string(i));
    EXPECT_EQ(p.a.remote_channels[i]->ordered(), i % 2 == 0);
    EXPECT_EQ(p.a.remote_channels[i]->id(), more[i]->id());
    EXPECT_EQ(*more[i]->id() % 2, 0);  // B is the DTLS client: even ids
  }
  size_t after = 0;
  for (const auto& e : p.a.events) after += e.type == RTCEventType::kNegotiationNeeded;
  EXPECT_EQ(after, negotiation_needed);
  EXPECT_FALSE(p.b.Saw(RTCEventType::kNegotiationNeeded));
}

}  // namespace
}  // namespace refrtc::test
