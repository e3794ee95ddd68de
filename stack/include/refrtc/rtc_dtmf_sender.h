// W3C webrtc-pc §7 Peer-to-peer DTMF: RTCDTMFSender (§7.2), reached as RTCRtpSender::dtmf()
// (§7.1: non-null for audio senders, null for video). Tones go out as RFC 4733 telephone-events
// on the sender's audio stream (api/media_session.h).
//
// Sans-IO: insertDTMF queues the "Playout task" on the peer connection's time; the tasks run in
// RTCPeerConnection::HandleTimeout (PollTimeout includes the next one), and each fires a
// RTCEventType::kToneChange event (§7.3 RTCDTMFToneChangeEvent: RTCEvent::sender, tone in
// RTCEvent::state; "" once the buffer is empty) polled with RTCPeerConnection::PollEvent().
//
// Received DTMF is a refrtc extension (not W3C): RTCEventType::kDtmfReceived (rtc_events.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "util/time.h"

namespace refrtc {

class RTCPeerConnection;
class RTCRtpSender;

class RTCDTMFSender {
 public:
  // §7.2 insertDTMF(tones, duration = 100, interToneGap = 70):
  //  - InvalidStateError when the transceiver is stopping/stopped, its currentDirection is not
  //    sendrecv/sendonly, or canInsertDTMF() is false;
  //  - InvalidCharacterError for a character other than 0-9 A-D a-d # * , (a-d are stored upper case);
  //  - duration is clamped to 40..6000 ms, interToneGap to 30..6000 ms;
  //  - the tone buffer is replaced (an empty string clears it); a Playout task is queued unless one
  //    is already scheduled. Each task plays the first tone for `duration` ms and schedules the
  //    next one after duration + interToneGap (',' = 2000 ms pause), firing tonechange as the tone
  //    starts; with the buffer empty it fires tonechange("") and stops.
  absl::Status insertDTMF(const std::string& tones, uint32_t duration = 100, uint32_t interToneGap = 70);
  // §7.2 canInsertDTMF ("determine if DTMF can be sent"): the peer connection is connected, the
  // transceiver is not stopping, the sender has a track and an active encoding, its
  // currentDirection is sendrecv/sendonly, and audio/telephone-event was negotiated at the clock
  // rate of the audio codec it sends with (48000 with Opus, 8000 with PCMU/PCMA).
  bool canInsertDTMF() const;
  // §7.2 toneBuffer: the tones still to play (the one playing is already removed).
  const std::string& toneBuffer() const { return tone_buffer_; }
  // Not W3C (introspection, tests): [[Duration]] and [[InterToneGap]] after clamping.
  uint32_t duration() const { return duration_; }
  uint32_t interToneGap() const { return inter_tone_gap_; }
  // Not W3C: when the next Playout task runs (nullopt: none scheduled).
  std::optional<Instant> next_playout_task() const { return playout_task_; }

 private:
  friend class RTCPeerConnection;
  friend class RTCRtpSender;
  explicit RTCDTMFSender(RTCRtpSender* sender) : sender_(sender) {}
  RTCRtpSender* sender_;
  std::string tone_buffer_;
  uint32_t duration_ = 100, inter_tone_gap_ = 70;
  std::optional<Instant> playout_task_;
};

}  // namespace refrtc
