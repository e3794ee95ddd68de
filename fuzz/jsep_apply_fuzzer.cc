// Fuzzes JSEP application of remote descriptions (RFC 8829 §5.10 / webrtc-pc §4.4.1.6
// setRemoteDescription): the input is SDP text applied
//   1. as an offer to a fresh peer connection, then answered (createAnswer + setLocalDescription),
//   2. as a re-offer to a peer connection that completed an offer/answer with data and audio
//      (renegotiation of existing transceivers, BUNDLE, transports), then rolled back,
//   3. as an answer to a peer connection that has a local offer.
// Whatever the text, every call returns a status (never crashes or hangs), the engines'
// consistency checks hold afterwards, and a rejected description leaves the state unchanged.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "refrtc/media_stream_track.h"
#include "refrtc/rtc_peer_connection.h"

using namespace refrtc;

namespace {

// One certificate for every peer connection of every input: key generation under the sanitizers
// would dominate the run, and the certificate is not what this target fuzzes.
RTCConfiguration SharedCertificateConfig() {
  static const std::shared_ptr<RTCCertificate> cert = [] {
    auto c = RTCCertificate::Generate(1, 1764000000);
    if (!c.ok()) abort();
    return *c;
  }();
  RTCConfiguration config;
  config.certificates = {cert};
  return config;
}

std::unique_ptr<RTCPeerConnection> NewPc(uint64_t seed) {
  auto pc = RTCPeerConnection::Create(SharedCertificateConfig(), RTCEngineOptions{seed, 1764000000});
  if (!pc.ok()) abort();
  (*pc)->SetTime(Instant{} + std::chrono::hours(1));
  (*pc)->AddLocalAddress(*SocketAddress::Parse("198.51.100.1", 4000));
  return std::move(*pc);
}

void CheckUnchanged(const RTCPeerConnection& pc, RTCSignalingState before, const absl::Status& st) {
  pc.CheckInvariants();
  if (!st.ok() && pc.signalingState() != before) abort();  // a rejected description changes nothing
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string sdp(reinterpret_cast<const char*>(data), size);

  {  // 1. a fresh answerer
    auto pc = NewPc(1);
    auto st = pc->setRemoteDescription(RTCSessionDescriptionInit{RTCSdpType::kOffer, sdp});
    CheckUnchanged(*pc, RTCSignalingState::kStable, st);
    if (st.ok()) {
      auto answer = pc->createAnswer();
      if (answer.ok()) (void)pc->setLocalDescription(*answer);
      pc->CheckInvariants();
    }
  }
  {  // 2. renegotiation on a negotiated pair (data + audio), then rollback
    auto a = NewPc(2), b = NewPc(3);
    (void)a->createDataChannel("d", RTCDataChannelInit{});
    if (auto track = MediaStreamTrack::CreateSynthetic("tone:440", "t"); track.ok())
      (void)a->addTransceiver(*track, RTCRtpTransceiverInit{});
    auto offer = a->createOffer();
    if (!offer.ok() || !a->setLocalDescription(*offer).ok() || !b->setRemoteDescription(*offer).ok()) abort();
    auto answer = b->createAnswer();
    if (!answer.ok() || !b->setLocalDescription(*answer).ok() || !a->setRemoteDescription(*answer).ok()) abort();
    auto st = b->setRemoteDescription(RTCSessionDescriptionInit{RTCSdpType::kOffer, sdp});
    CheckUnchanged(*b, RTCSignalingState::kStable, st);
    if (st.ok()) {
      if (size & 1) {
        (void)b->setRemoteDescription(RTCSessionDescriptionInit{RTCSdpType::kRollback, ""});
        if (b->signalingState() != RTCSignalingState::kStable) abort();
      } else if (auto again = b->createAnswer(); again.ok()) {
        (void)b->setLocalDescription(*again);
      }
      b->CheckInvariants();
    }
    // 3. the text as the answer to a's new offer
    auto reoffer = a->createOffer();
    if (reoffer.ok() && a->setLocalDescription(*reoffer).ok()) {
      auto st3 = a->setRemoteDescription(RTCSessionDescriptionInit{RTCSdpType::kAnswer, sdp});
      CheckUnchanged(*a, RTCSignalingState::kHaveLocalOffer, st3);
    }
  }
  return 0;
}
