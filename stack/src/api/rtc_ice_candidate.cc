#include "refrtc/rtc_ice_candidate.h"

#include "ice/candidate.h"
#include "util/dom_exception.h"

namespace refrtc {

absl::StatusOr<RTCIceCandidate> RTCIceCandidate::Create(const RTCIceCandidateInit& init) {
  // §4.8.2 constructor step 1: both null → TypeError.
  if (!init.sdpMid && !init.sdpMLineIndex)
    return TypeError("sdpMid and sdpMLineIndex are both null.");
  RTCIceCandidate c;
  c.init_ = init;
  if (init.candidate.empty()) return c;
  auto parsed = ice::Candidate::Parse(init.candidate);
  if (!parsed.ok()) return c;  // fields stay null (§4.8.2 step 3: parse failure leaves them null)
  c.foundation_ = parsed->foundation;
  c.component_ = parsed->component == 2 ? RTCIceComponent::kRtcp : RTCIceComponent::kRtp;
  c.priority_ = parsed->priority;
  c.address_ = parsed->address;
  c.protocol_ = (parsed->protocol == "tcp" || parsed->protocol == "TCP") ? RTCIceProtocol::kTcp
                                                                         : RTCIceProtocol::kUdp;
  c.port_ = parsed->port;
  switch (parsed->type) {
    case ice::CandidateType::kHost: c.type_ = RTCIceCandidateType::kHost; break;
    case ice::CandidateType::kServerReflexive: c.type_ = RTCIceCandidateType::kSrflx; break;
    case ice::CandidateType::kPeerReflexive: c.type_ = RTCIceCandidateType::kPrflx; break;
    case ice::CandidateType::kRelay: c.type_ = RTCIceCandidateType::kRelay; break;
  }
  if (parsed->tcptype == "active") c.tcp_type_ = RTCIceTcpCandidateType::kActive;
  else if (parsed->tcptype == "passive") c.tcp_type_ = RTCIceTcpCandidateType::kPassive;
  else if (parsed->tcptype == "so") c.tcp_type_ = RTCIceTcpCandidateType::kSo;
  if (!parsed->related_address.empty()) {
    c.related_address_ = parsed->related_address;
    c.related_port_ = parsed->related_port;
  }
  return c;
}

}  // namespace refrtc
