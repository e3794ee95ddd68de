// W3C webrtc-pc §5.3 RTCRtpReceiver.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "refrtc/media_stream_track.h"

namespace refrtc {

class RTCPeerConnection;
class MediaSession;
class RTCRtpSender;
class RTCRtpTransceiver;

class RTCRtpTransceiver;

// Not W3C: what the receiver's analysing sink measured (DRIVER_PROTOCOL.md getTrackInfo).
struct RTCTrackInfo {
  std::string kind;
  uint64_t samplesReceived = 0;
  uint32_t sampleRate = 0;
  std::optional<double> dominantHz;
  double rms = 0;
  uint64_t framesReceived = 0;
  uint64_t framesDecoded = 0;
  uint32_t width = 0, height = 0;
};

class RTCRtpReceiver {
 public:
  // §5.3 track: always present (created with the transceiver), muted until RTP arrives.
  const std::shared_ptr<MediaStreamTrack>& track() const { return track_; }
  // The remote stream ids (a=msid) associated with the track (§5.3 "associated remote streams").
  const std::vector<std::string>& stream_ids() const { return stream_ids_; }
  RTCTrackInfo track_info() const;

 private:
  friend class RTCPeerConnection;
  friend class MediaSession;
  friend class RTCRtpSender;
  friend class RTCRtpTransceiver;
  RTCRtpReceiver() = default;
  RTCRtpTransceiver* transceiver_ = nullptr;
  std::shared_ptr<MediaStreamTrack> track_;
  std::vector<std::string> stream_ids_;
  RTCTrackInfo info_;  // refreshed by the media session
};

}  // namespace refrtc
