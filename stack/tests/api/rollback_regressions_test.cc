// Regressions found by the interop conformance runs. (1) ICE gathering only starts once a local
// description has a transport (a non-rejected m-section).
// Regression: Chromium's offer after rolling back its first one has no m-section at all; refrtc
// answered it and then trickled host candidates with sdpMid "0", which Chromium rightly rejected
// (conformance signaling/sig-rollback-local, chromium→native, step 16).
#include <gtest/gtest.h>

#include "pc_pair.h"

namespace refrtc::test {
namespace {

TEST(GatheringWithoutTransport, AnswerToAnOfferWithoutMSectionsGathersNothing) {
  PcPair p;
  p.deliver_candidates = false;
  // No channel, no transceiver: A's offer has no m-section.
  auto offer = p.a.pc->createOffer();
  ASSERT_TRUE(offer.ok()) << offer.status();
  ASSERT_EQ(offer->sdp.find("m="), std::string::npos) << offer->sdp;
  ASSERT_TRUE(p.a.pc->setLocalDescription(*offer).ok());
  ASSERT_TRUE(p.b.pc->setRemoteDescription(*offer).ok());
  ASSERT_TRUE(p.b.pc->setLocalDescription().ok());
  ASSERT_TRUE(p.a.pc->setRemoteDescription({RTCSdpType::kAnswer, p.b.pc->localDescription()->sdp}).ok());
  p.RunFor(std::chrono::seconds(2));

  for (const Side* s : {&p.a, &p.b}) {
    for (const auto& e : s->events) EXPECT_NE(e.type, RTCEventType::kIceCandidate) << "candidate without a transport";
    EXPECT_FALSE(s->Saw(RTCEventType::kIceGatheringStateChange));
  }
  EXPECT_EQ(p.a.pc->iceGatheringState(), RTCIceGatheringState::kNew);
  EXPECT_EQ(p.b.pc->iceGatheringState(), RTCIceGatheringState::kNew);

  // A later negotiation that adds a data channel gathers, with the section's mid, and connects.
  p.deliver_candidates = true;
  auto ch = p.a.pc->createDataChannel("dc");
  ASSERT_TRUE(ch.ok());
  ASSERT_TRUE(p.a.pc->setLocalDescription().ok());
  ASSERT_TRUE(p.b.pc->setRemoteDescription({RTCSdpType::kOffer, p.a.pc->localDescription()->sdp}).ok());
  ASSERT_TRUE(p.b.pc->setLocalDescription().ok());
  ASSERT_TRUE(p.a.pc->setRemoteDescription({RTCSdpType::kAnswer, p.b.pc->localDescription()->sdp}).ok());
  EXPECT_TRUE(p.RunUntil([&] { return (*ch)->readyState() == RTCDataChannelState::kOpen; }));
  bool saw_candidate = false;
  for (const auto& e : p.b.events) {
    if (e.type != RTCEventType::kIceCandidate || !e.candidate) continue;
    saw_candidate = true;
    EXPECT_EQ(e.candidate->sdpMid, std::optional<std::string>("0"));
  }
  EXPECT_TRUE(saw_candidate);
}

// Regression: after perfect-negotiation glare the polite peer rolls back its own first offer and
// answers the other's; it must then be ICE-controlled (RFC 8445 §6.1.1), not stay controlling from
// the offer that never counted (conformance signaling/sig-glare-perfect-negotiation, werift→native:
// the resulting role conflict exposed werift's id-parity bug).
TEST(IceRoleAfterRollback, PolitePeerAnswersAsControlled) {
  PcPair p;
  auto ca = p.a.pc->createDataChannel("fromA");
  auto cb = p.b.pc->createDataChannel("fromB");
  ASSERT_TRUE(ca.ok() && cb.ok());
  ASSERT_TRUE(p.a.pc->setLocalDescription().ok());
  ASSERT_TRUE(p.b.pc->setLocalDescription().ok());
  EXPECT_EQ(p.b.pc->dtlsTransport().iceTransport.role, RTCIceRole::kControlling);
  ASSERT_TRUE(p.b.pc->setLocalDescription({RTCSdpType::kRollback, ""}).ok());
  ASSERT_TRUE(p.b.pc->setRemoteDescription({RTCSdpType::kOffer, p.a.pc->localDescription()->sdp}).ok());
  ASSERT_TRUE(p.b.pc->setLocalDescription().ok());
  ASSERT_TRUE(p.a.pc->setRemoteDescription({RTCSdpType::kAnswer, p.b.pc->localDescription()->sdp}).ok());
  EXPECT_EQ(p.a.pc->dtlsTransport().iceTransport.role, RTCIceRole::kControlling);
  EXPECT_EQ(p.b.pc->dtlsTransport().iceTransport.role, RTCIceRole::kControlled);
  EXPECT_TRUE(p.RunUntil([&] { return (*ca)->readyState() == RTCDataChannelState::kOpen; }));
  EXPECT_EQ(p.b.pc->dtlsTransport().iceTransport.role, RTCIceRole::kControlled);
}

// The same for a rolled-back remote first offer: the next local offer makes us controlling.
TEST(IceRoleAfterRollback, RemoteRollbackThenOwnOfferIsControlling) {
  PcPair p;
  (void)p.a.pc->createDataChannel("x");
  (void)p.b.pc->createDataChannel("y");
  ASSERT_TRUE(p.a.pc->setLocalDescription().ok());
  ASSERT_TRUE(p.b.pc->setRemoteDescription({RTCSdpType::kOffer, p.a.pc->localDescription()->sdp}).ok());
  EXPECT_EQ(p.b.pc->dtlsTransport().iceTransport.role, RTCIceRole::kControlled);
  ASSERT_TRUE(p.b.pc->setRemoteDescription({RTCSdpType::kRollback, ""}).ok());
  ASSERT_TRUE(p.b.pc->setLocalDescription().ok());
  EXPECT_EQ(p.b.pc->dtlsTransport().iceTransport.role, RTCIceRole::kControlling);
}

}  // namespace
}  // namespace refrtc::test
