// W3C state machine and the DOMException of every invalid call (webrtc-pc §4.4, §6).
#include <gtest/gtest.h>

#include "absl/strings/str_replace.h"
#include "absl/strings/ascii.h"
#include "pc_pair.h"

namespace refrtc::test {
namespace {

std::unique_ptr<RTCPeerConnection> NewPc(uint64_t seed = 1, RTCConfiguration c = {}) {
  auto pc = RTCPeerConnection::Create(c, RTCEngineOptions{seed, 1764000000});
  EXPECT_TRUE(pc.ok());
  return std::move(*pc);
}

std::string Name(const absl::Status& s) { return DomErrorName(s); }

TEST(Signaling, InvalidCallsInStable) {
  auto pc = NewPc();
  EXPECT_EQ(Name(pc->createAnswer().status()), "InvalidStateError");
  EXPECT_EQ(Name(pc->setLocalDescription({RTCSdpType::kAnswer, ""})), "InvalidStateError");
  EXPECT_EQ(Name(pc->setLocalDescription({RTCSdpType::kRollback, ""})), "InvalidStateError");
  EXPECT_EQ(Name(pc->setRemoteDescription({RTCSdpType::kRollback, ""})), "InvalidStateError");
  EXPECT_EQ(Name(pc->addIceCandidate(RTCIceCandidateInit{"candidate:1 1 udp 1 1.2.3.4 5 typ host", "0", 0, {}})),
            "InvalidStateError");
  EXPECT_EQ(Name(pc->addIceCandidate(std::nullopt)), "InvalidStateError");
  EXPECT_EQ(Name(pc->setRemoteDescription({RTCSdpType::kOffer, "garbage"})), "OperationError");
  EXPECT_EQ(Name(pc->setRemoteDescription(RTCSessionDescriptionInit{std::nullopt, ""})), "TypeError");
  EXPECT_EQ(pc->signalingState(), RTCSignalingState::kStable);
  EXPECT_FALSE(pc->canTrickleIceCandidates());
}

TEST(Signaling, MungedOfferIsInvalidModification) {
  auto pc = NewPc();
  (void)pc->createDataChannel("x");
  auto offer = *pc->createOffer();
  offer.sdp = absl::StrReplaceAll(offer.sdp, {{"a=max-message-size:262144", "a=max-message-size:1000"}});
  EXPECT_EQ(Name(pc->setLocalDescription(offer)), "InvalidModificationError");
}

TEST(Signaling, RemoteAnswerInWrongStates) {
  PcPair p;
  (void)p.a.pc->createDataChannel("x");
  auto offer = *p.a.pc->createOffer();
  ASSERT_TRUE(p.b.pc->setRemoteDescription(offer).ok());
  auto answer = *p.b.pc->createAnswer();
  // A is stable: an answer is invalid there.
  EXPECT_EQ(Name(p.a.pc->setRemoteDescription(answer)), "InvalidStateError");
  // B in have-remote-offer cannot createOffer.
  EXPECT_EQ(Name(p.b.pc->createOffer().status()), "InvalidStateError");
  EXPECT_EQ(p.b.pc->signalingState(), RTCSignalingState::kHaveRemoteOffer);
  EXPECT_EQ(p.b.pc->canTrickleIceCandidates(), true);
}

TEST(Signaling, ImplicitSetLocalDescriptionAndRollback) {
  PcPair p;
  (void)p.a.pc->createDataChannel("x");
  ASSERT_TRUE(p.a.pc->setLocalDescription().ok());
  EXPECT_EQ(p.a.pc->signalingState(), RTCSignalingState::kHaveLocalOffer);
  ASSERT_TRUE(p.a.pc->localDescription());
  EXPECT_EQ(p.a.pc->localDescription()->type, RTCSdpType::kOffer);
  EXPECT_TRUE(p.a.pc->pendingLocalDescription());
  EXPECT_FALSE(p.a.pc->currentLocalDescription());
  ASSERT_TRUE(p.a.pc->setLocalDescription({RTCSdpType::kRollback, ""}).ok());
  EXPECT_EQ(p.a.pc->signalingState(), RTCSignalingState::kStable);
  EXPECT_FALSE(p.a.pc->localDescription());

  // B answers implicitly.
  ASSERT_TRUE(p.a.pc->setLocalDescription().ok());
  ASSERT_TRUE(p.b.pc->setRemoteDescription({RTCSdpType::kOffer, p.a.pc->localDescription()->sdp}).ok());
  ASSERT_TRUE(p.b.pc->setLocalDescription().ok());
  EXPECT_EQ(p.b.pc->signalingState(), RTCSignalingState::kStable);
  EXPECT_EQ(p.b.pc->localDescription()->type, RTCSdpType::kAnswer);
  ASSERT_TRUE(p.a.pc->setRemoteDescription({RTCSdpType::kAnswer, p.b.pc->localDescription()->sdp}).ok());
  EXPECT_EQ(p.a.pc->signalingState(), RTCSignalingState::kStable);
  EXPECT_TRUE(p.RunUntil([&] { return p.a.pc->connectionState() == RTCPeerConnectionState::kConnected; }));
}

TEST(Signaling, RemoteRollbackAndGlareWithImplicitRollback) {
  PcPair p;
  (void)p.a.pc->createDataChannel("x");
  (void)p.b.pc->createDataChannel("y");
  ASSERT_TRUE(p.a.pc->setLocalDescription().ok());
  ASSERT_TRUE(p.b.pc->setLocalDescription().ok());
  // Glare: B (polite) receives A's offer in have-local-offer → implicit rollback, then answer.
  ASSERT_TRUE(p.b.pc->setRemoteDescription({RTCSdpType::kOffer, p.a.pc->localDescription()->sdp}).ok());
  EXPECT_EQ(p.b.pc->signalingState(), RTCSignalingState::kHaveRemoteOffer);
  EXPECT_EQ(p.b.States(RTCEventType::kSignalingStateChange).size(), 0u);  // not pumped yet
  p.Pump();
  EXPECT_EQ(p.b.States(RTCEventType::kSignalingStateChange),
            (std::vector<std::string>{"have-local-offer", "stable", "have-remote-offer"}));
  ASSERT_TRUE(p.b.pc->setRemoteDescription({RTCSdpType::kRollback, ""}).ok());
  EXPECT_EQ(p.b.pc->signalingState(), RTCSignalingState::kStable);
  EXPECT_FALSE(p.b.pc->remoteDescription());
}

TEST(Signaling, NegotiationNeededFiresOnceForTheFirstChannel) {
  auto pc = NewPc();
  (void)pc->createDataChannel("a");
  (void)pc->createDataChannel("b");
  int n = 0;
  while (auto e = pc->PollEvent()) n += e->type == RTCEventType::kNegotiationNeeded;
  EXPECT_EQ(n, 1);
}

TEST(DataChannelInit, Errors) {
  auto pc = NewPc();
  RTCDataChannelInit both;
  both.maxRetransmits = 1;
  both.maxPacketLifeTime = 100;
  EXPECT_EQ(Name(pc->createDataChannel("x", both).status()), "TypeError");
  RTCDataChannelInit neg;
  neg.negotiated = true;
  EXPECT_EQ(Name(pc->createDataChannel("x", neg).status()), "TypeError");
  RTCDataChannelInit bad_id;
  bad_id.negotiated = true;
  bad_id.id = 65535;
  EXPECT_EQ(Name(pc->createDataChannel("x", bad_id).status()), "TypeError");
  EXPECT_EQ(Name(pc->createDataChannel(std::string(65536, 'l')).status()), "TypeError");
  RTCDataChannelInit id1;
  id1.negotiated = true;
  id1.id = 1;
  ASSERT_TRUE(pc->createDataChannel("x", id1).ok());
  EXPECT_EQ(Name(pc->createDataChannel("y", id1).status()), "OperationError");
  auto ch = *pc->createDataChannel("z");
  EXPECT_EQ(ch->readyState(), RTCDataChannelState::kConnecting);
  EXPECT_EQ(Name(ch->send("early")), "InvalidStateError");
  EXPECT_EQ(Name(ch->setBinaryType("text")), "SyntaxError");
  pc->close();
  EXPECT_EQ(Name(pc->createDataChannel("late").status()), "InvalidStateError");
  EXPECT_EQ(ch->readyState(), RTCDataChannelState::kClosed);
}

TEST(AddIceCandidate, Errors) {
  PcPair p;
  (void)p.a.pc->createDataChannel("x");
  auto offer = *p.a.pc->createOffer();
  ASSERT_TRUE(p.b.pc->setRemoteDescription(offer).ok());
  auto& pc = *p.b.pc;
  RTCIceCandidateInit c{"candidate:1 1 udp 2122260223 198.51.100.1 4000 typ host", "0", 0, {}};
  EXPECT_TRUE(pc.addIceCandidate(c).ok());
  RTCIceCandidateInit no_mid{"candidate:1 1 udp 2122260223 198.51.100.1 4000 typ host", {}, {}, {}};
  EXPECT_EQ(Name(pc.addIceCandidate(no_mid)), "TypeError");
  RTCIceCandidateInit bad_mid = c;
  bad_mid.sdpMid = "nope";
  EXPECT_EQ(Name(pc.addIceCandidate(bad_mid)), "OperationError");
  RTCIceCandidateInit bad_index{c.candidate, {}, 7, {}};
  EXPECT_EQ(Name(pc.addIceCandidate(bad_index)), "OperationError");
  RTCIceCandidateInit bad_ufrag = c;
  bad_ufrag.usernameFragment = "zzzz";
  EXPECT_EQ(Name(pc.addIceCandidate(bad_ufrag)), "OperationError");
  RTCIceCandidateInit garbage{"candidate:garbage", "0", 0, {}};
  EXPECT_EQ(Name(pc.addIceCandidate(garbage)), "OperationError");
  RTCIceCandidateInit mdns{"candidate:1 1 udp 2122260223 3e1d5c0e-8b2a-4a4c-9f0e-0123456789ab.local 4000 typ host", "0", 0, {}};
  EXPECT_TRUE(pc.addIceCandidate(mdns).ok());
  RTCIceCandidateInit end{"", "0", 0, {}};
  EXPECT_TRUE(pc.addIceCandidate(end).ok());
  EXPECT_TRUE(pc.addIceCandidate(std::nullopt).ok());
}

TEST(RTCIceCandidate, ParsesFields) {
  auto c = RTCIceCandidate::Create({"candidate:842163049 1 udp 1677729535 1.2.3.4 54321 typ srflx raddr 0.0.0.0 rport 0 generation 0",
                                    "0", 0, {}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->foundation(), "842163049");
  EXPECT_EQ(c->priority(), 1677729535u);
  EXPECT_EQ(c->address(), "1.2.3.4");
  EXPECT_EQ(c->port(), 54321);
  EXPECT_EQ(c->type(), RTCIceCandidateType::kSrflx);
  EXPECT_EQ(c->relatedAddress(), "0.0.0.0");
  EXPECT_EQ(Name(RTCIceCandidate::Create({"candidate:x", {}, {}, {}}).status()), "TypeError");
  auto bad = RTCIceCandidate::Create({"not a candidate", "0", {}, {}});
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->foundation());
}

TEST(Configuration, Errors) {
  RTCConfiguration bad_url;
  bad_url.iceServers.push_back({{"http://example.org"}, "", ""});
  EXPECT_EQ(Name(RTCPeerConnection::Create(bad_url, {}).status()), "SyntaxError");
  RTCConfiguration turn_no_cred;
  turn_no_cred.iceServers.push_back({{"turn:198.51.100.9"}, "", ""});
  EXPECT_EQ(Name(RTCPeerConnection::Create(turn_no_cred, {}).status()), "InvalidAccessError");
  auto expired = RTCCertificate::Generate(5, 1764000000, 1000);
  ASSERT_TRUE(expired.ok());
  RTCConfiguration with_expired;
  with_expired.certificates.push_back(*expired);
  EXPECT_EQ(Name(RTCPeerConnection::Create(with_expired, RTCEngineOptions{1, 1764000000 + 10}).status()),
            "InvalidAccessError");
  auto pc = NewPc();
  RTCConfiguration other = pc->getConfiguration();
  other.bundlePolicy = RTCBundlePolicy::kMaxBundle;
  EXPECT_EQ(Name(pc->setConfiguration(other)), "InvalidModificationError");
  RTCConfiguration certs = pc->getConfiguration();
  certs.certificates.push_back(*expired);
  EXPECT_EQ(Name(pc->setConfiguration(certs)), "InvalidModificationError");
  pc->close();
  EXPECT_EQ(Name(pc->setConfiguration(pc->getConfiguration())), "InvalidStateError");
}

TEST(Certificate, ReuseGivesSameFingerprint) {
  auto cert = RTCCertificate::Generate(11, 1764000000);
  ASSERT_TRUE(cert.ok());
  RTCConfiguration c;
  c.certificates.push_back(*cert);
  auto pc1 = NewPc(1, c);
  auto pc2 = NewPc(2, c);
  EXPECT_EQ(pc1->certificate()->getFingerprints()[0].value, pc2->certificate()->getFingerprints()[0].value);
  (void)pc1->createDataChannel("x");
  auto offer = *pc1->createOffer();
  EXPECT_NE(offer.sdp.find(absl::AsciiStrToUpper((*cert)->getFingerprints()[0].value)), std::string::npos);
  EXPECT_GT((*cert)->expires(), 1764000000LL * 1000);
}

}  // namespace
}  // namespace refrtc::test
