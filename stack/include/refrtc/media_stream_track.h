// W3C mediacapture-main §4.3 MediaStreamTrack and §4.2 MediaStream (ids only), for a stack without
// devices: a local track is backed by a synthetic source (media/media_pipeline.h: "tone:FREQ",
// "silence", "pattern"), a remote one by the receiver's analysing sink.
#pragma once
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refrtc {

class RTCPeerConnection;
class MediaSession;
class RTCRtpSender;
class RTCRtpReceiver;
class RTCRtpTransceiver;

enum class MediaStreamTrackState { kLive, kEnded };
const char* ToString(MediaStreamTrackState s);

class MediaStreamTrack {
 public:
  // Not W3C (the stand-in for getUserMedia): a live local track of the source's kind.
  // InvalidArgument (TypeError for the drivers) for an unknown source spec. `id` must be unique
  // (the caller's randomness: the engine has none outside a peer connection).
  static absl::StatusOr<std::shared_ptr<MediaStreamTrack>> CreateSynthetic(absl::string_view source,
                                                                           std::string id);

  const std::string& kind() const { return kind_; }  // "audio" / "video"
  const std::string& id() const { return id_; }
  const std::string& label() const { return label_; }
  // §4.3.1 enabled: a disabled audio track sends silence, a disabled video track black frames.
  bool enabled() const { return enabled_; }
  void set_enabled(bool enabled) { enabled_ = enabled; }
  // §4.3.1 muted: a remote track is muted until RTP arrives (webrtc-pc §5.3 "muted").
  bool muted() const { return muted_; }
  MediaStreamTrackState readyState() const { return state_; }
  // §4.3.3.2 stop(): ended for good; a sender with this track sends nothing more.
  void stop() { state_ = MediaStreamTrackState::kEnded; }
  bool remote() const { return remote_; }
  // The synthetic source spec of a local track ("" for a remote one).
  const std::string& source() const { return source_; }

 private:
  friend class RTCPeerConnection;
  friend class MediaSession;
  friend class RTCRtpSender;
  friend class RTCRtpReceiver;
  friend class RTCRtpTransceiver;
  MediaStreamTrack() = default;
  std::string kind_, id_, label_, source_;
  bool enabled_ = true;
  bool muted_ = false;
  bool remote_ = false;
  MediaStreamTrackState state_ = MediaStreamTrackState::kLive;
};

}  // namespace refrtc
