// String forms of the W3C enums (webrtc-pc IDL enum values).
#include "refrtc/rtc_configuration.h"
#include "refrtc/rtc_data_channel.h"
#include "refrtc/rtc_events.h"
#include "refrtc/rtc_ice_candidate.h"
#include "refrtc/rtc_session_description.h"
#include "refrtc/rtc_transports.h"
#include "util/dom_exception.h"

namespace refrtc {

const char* ToString(RTCIceTransportPolicy p) { return p == RTCIceTransportPolicy::kRelay ? "relay" : "all"; }
const char* ToString(RTCBundlePolicy p) {
  switch (p) {
    case RTCBundlePolicy::kBalanced: return "balanced";
    case RTCBundlePolicy::kMaxCompat: return "max-compat";
    case RTCBundlePolicy::kMaxBundle: return "max-bundle";
  }
  return "balanced";
}

const char* ToString(RTCSdpType t) {
  switch (t) {
    case RTCSdpType::kOffer: return "offer";
    case RTCSdpType::kPranswer: return "pranswer";
    case RTCSdpType::kAnswer: return "answer";
    case RTCSdpType::kRollback: return "rollback";
  }
  return "offer";
}

absl::StatusOr<RTCSdpType> ParseSdpType(absl::string_view s) {
  if (s == "offer") return RTCSdpType::kOffer;
  if (s == "pranswer") return RTCSdpType::kPranswer;
  if (s == "answer") return RTCSdpType::kAnswer;
  if (s == "rollback") return RTCSdpType::kRollback;
  return TypeError("The provided value '" + std::string(s) + "' is not a valid enum value of type RTCSdpType.");
}

const char* ToString(RTCIceCandidateType t) {
  switch (t) {
    case RTCIceCandidateType::kHost: return "host";
    case RTCIceCandidateType::kSrflx: return "srflx";
    case RTCIceCandidateType::kPrflx: return "prflx";
    case RTCIceCandidateType::kRelay: return "relay";
  }
  return "host";
}

const char* ToString(RTCDataChannelState s) {
  switch (s) {
    case RTCDataChannelState::kConnecting: return "connecting";
    case RTCDataChannelState::kOpen: return "open";
    case RTCDataChannelState::kClosing: return "closing";
    case RTCDataChannelState::kClosed: return "closed";
  }
  return "closed";
}

const char* ToString(RTCIceGatheringState s) {
  switch (s) {
    case RTCIceGatheringState::kNew: return "new";
    case RTCIceGatheringState::kGathering: return "gathering";
    case RTCIceGatheringState::kComplete: return "complete";
  }
  return "new";
}

const char* ToString(RTCIceConnectionState s) {
  switch (s) {
    case RTCIceConnectionState::kNew: return "new";
    case RTCIceConnectionState::kChecking: return "checking";
    case RTCIceConnectionState::kConnected: return "connected";
    case RTCIceConnectionState::kCompleted: return "completed";
    case RTCIceConnectionState::kDisconnected: return "disconnected";
    case RTCIceConnectionState::kFailed: return "failed";
    case RTCIceConnectionState::kClosed: return "closed";
  }
  return "new";
}

const char* ToString(RTCIceRole r) {
  switch (r) {
    case RTCIceRole::kUnknown: return "unknown";
    case RTCIceRole::kControlling: return "controlling";
    case RTCIceRole::kControlled: return "controlled";
  }
  return "unknown";
}

const char* ToString(RTCDtlsTransportState s) {
  switch (s) {
    case RTCDtlsTransportState::kNew: return "new";
    case RTCDtlsTransportState::kConnecting: return "connecting";
    case RTCDtlsTransportState::kConnected: return "connected";
    case RTCDtlsTransportState::kClosed: return "closed";
    case RTCDtlsTransportState::kFailed: return "failed";
  }
  return "new";
}

const char* ToString(RTCSctpTransportState s) {
  switch (s) {
    case RTCSctpTransportState::kConnecting: return "connecting";
    case RTCSctpTransportState::kConnected: return "connected";
    case RTCSctpTransportState::kClosed: return "closed";
  }
  return "closed";
}

const char* ToString(RTCPeerConnectionState s) {
  switch (s) {
    case RTCPeerConnectionState::kNew: return "new";
    case RTCPeerConnectionState::kConnecting: return "connecting";
    case RTCPeerConnectionState::kConnected: return "connected";
    case RTCPeerConnectionState::kDisconnected: return "disconnected";
    case RTCPeerConnectionState::kFailed: return "failed";
    case RTCPeerConnectionState::kClosed: return "closed";
  }
  return "new";
}

const char* ToString(RTCSignalingState s) {
  switch (s) {
    case RTCSignalingState::kStable: return "stable";
    case RTCSignalingState::kHaveLocalOffer: return "have-local-offer";
    case RTCSignalingState::kHaveRemoteOffer: return "have-remote-offer";
    case RTCSignalingState::kHaveLocalPranswer: return "have-local-pranswer";
    case RTCSignalingState::kHaveRemotePranswer: return "have-remote-pranswer";
    case RTCSignalingState::kClosed: return "closed";
  }
  return "stable";
}

const char* ToString(RTCEventType t) {
  switch (t) {
    case RTCEventType::kIceCandidate: return "icecandidate";
    case RTCEventType::kIceCandidateError: return "icecandidateerror";
    case RTCEventType::kIceGatheringStateChange: return "icegatheringstatechange";
    case RTCEventType::kIceConnectionStateChange: return "iceconnectionstatechange";
    case RTCEventType::kConnectionStateChange: return "connectionstatechange";
    case RTCEventType::kSignalingStateChange: return "signalingstatechange";
    case RTCEventType::kNegotiationNeeded: return "negotiationneeded";
    case RTCEventType::kDataChannel: return "datachannel";
    case RTCEventType::kChannelOpen: return "open";
    case RTCEventType::kChannelClosing: return "closing";
    case RTCEventType::kChannelClose: return "close";
    case RTCEventType::kChannelMessage: return "message";
    case RTCEventType::kChannelBufferedAmountLow: return "bufferedamountlow";
    case RTCEventType::kChannelError: return "error";
    case RTCEventType::kTrack: return "track";
    case RTCEventType::kToneChange: return "tonechange";
    case RTCEventType::kDtmfReceived: return "dtmf";
    case RTCEventType::kIdentityResult: return "identityresult";
    case RTCEventType::kPeerIdentityResult: return "peeridentityresult";
  }
  return "";
}

}  // namespace refrtc
