// W3C webrtc-pc §4.8 RTCSessionDescription / RTCSessionDescriptionInit and RTCSdpType.
#pragma once
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refrtc {

enum class RTCSdpType { kOffer, kPranswer, kAnswer, kRollback };

const char* ToString(RTCSdpType t);
// TypeError for anything but "offer", "pranswer", "answer", "rollback" (WebIDL enum conversion).
absl::StatusOr<RTCSdpType> ParseSdpType(absl::string_view s);

struct RTCSessionDescriptionInit {
  std::optional<RTCSdpType> type;  // absent = the implicit setLocalDescription() form
  std::string sdp;
};

struct RTCSessionDescription {
  RTCSdpType type = RTCSdpType::kOffer;
  std::string sdp;
};

}  // namespace refrtc
