// The W3C dictionaries as JSON (the shape a JS caller passes them in), shared by the hosts that speak
// JSON: the native driver (DRIVER_PROTOCOL) and the WASM binding (wasm/src/binding.cc).
// Never throws: wrong types and out-of-range values give the TypeError WebIDL would raise.
#pragma once
#include <functional>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "refrtc/rtc_configuration.h"
#include "refrtc/rtc_data_channel.h"
#include "refrtc/rtc_ice_candidate.h"
#include "refrtc/rtc_rtp_transceiver.h"
#include "refrtc/rtc_session_description.h"

namespace refrtc {

// Resolves one element of `certificates` (however the host names certificates) to a certificate.
using CertificateLookup = std::function<absl::StatusOr<std::shared_ptr<RTCCertificate>>(const nlohmann::json&)>;

// W3C §4.2.1 RTCConfiguration. Enum members with an unknown value → TypeError (WebIDL enum
// conversion); `urls` may be a string or a sequence of strings.
absl::StatusOr<RTCConfiguration> RTCConfigurationFromJson(const nlohmann::json& j, const CertificateLookup& lookup);
// getConfiguration() as JSON, without certificates (hosts add their own names for them).
nlohmann::json RTCConfigurationToJson(const RTCConfiguration& c);

// W3C §6.2 RTCDataChannelInit; `id`, `maxPacketLifeTime`, `maxRetransmits` are [EnforceRange]
// unsigned short.
absl::StatusOr<RTCDataChannelInit> RTCDataChannelInitFromJson(const nlohmann::json& j);
// The channel's W3C attributes (label, ordered, maxPacketLifeTime, maxRetransmits, protocol,
// negotiated, id, readyState, bufferedAmount, bufferedAmountLowThreshold, binaryType).
nlohmann::json RTCDataChannelToJson(const RTCDataChannel& ch);

// W3C §4.8.1 RTCIceCandidateInit (null members where absent).
nlohmann::json RTCIceCandidateInitToJson(const RTCIceCandidateInit& c);
absl::StatusOr<RTCIceCandidateInit> RTCIceCandidateInitFromJson(const nlohmann::json& j);

// {type, sdp} or null.
nlohmann::json RTCSessionDescriptionToJson(const std::optional<RTCSessionDescription>& d);

// W3C §5.1 RTCRtpTransceiverInit: direction (enum), streams (stream ids), sendEncodings (active,
// maxBitrate).
absl::StatusOr<RTCRtpTransceiverInit> RTCRtpTransceiverInitFromJson(const nlohmann::json& j);

// DRIVER_PROTOCOL getTrackInfo body for a receiver: audio {kind, samplesReceived, sampleRate,
// dominantHz (null when silent), rms}, video {kind, framesReceived, framesDecoded, width, height}.
nlohmann::json RTCTrackInfoToJson(const RTCTrackInfo& info);

class RTCPeerConnection;
// webrtc-stats RTCStats objects for the RTP side of `pc` (codec, media-source, outbound-rtp,
// inbound-rtp, remote-inbound-rtp, remote-outbound-rtp), appended to `stats` (an array). Ids are
// stable across calls; `transport_id` names the transport stats object the caller emits.
void AppendRtpStats(const RTCPeerConnection& pc, double timestamp_ms, const std::string& transport_id,
                    nlohmann::json& stats);

// W3C webrtc-pc §8.2 getStats(selector) as webrtc-stats RTCStats objects (an array): peer-connection,
// transport, certificate (local and remote), local-candidate, remote-candidate, candidate-pair
// (the selected one, with STUN round-trip times), data-channel, and the RTP objects of
// AppendRtpStats. `timestamp_ms` is the host's wall clock (the engine has none). With a selector
// track (webrtc-pc §8.5 "stats selection algorithm"): only the outbound (sender's track) or inbound
// (receiver's track) RTP stream and the objects it references; a track that no sender or receiver
// of this peer connection has is InvalidAccessError.
absl::StatusOr<nlohmann::json> RTCStatsReportJson(const RTCPeerConnection& pc, double timestamp_ms,
                                                  const std::shared_ptr<MediaStreamTrack>& selector = nullptr);

}  // namespace refrtc
