// What the video sinks (VP8: media_sink.cc, H.264: h264_sink.cc) share: RTP sequence number
// extension, the reordering buffer that holds a frame's packets until it is complete, the rules for
// how long to wait for a missing packet (longer when NACK/RTX can repair it), frame loss accounting
// and the key frame request policy (RFC 4585 §6.3.1 PLI). Each codec sink adds its depacketizer,
// what "first packet of a frame" means, its gap check (VP8 PictureID, H.264 frame_num) and what it
// does with an assembled frame.
#pragma once
#include <cstdint>
#include <map>
#include <optional>

#include "media/media_pipeline.h"
#include "util/bytes.h"
#include "util/time.h"

namespace refrtc::media::internal {

// Packets are held for reordering at most this long (audio also bounds it in media time).
inline constexpr Duration kHoldTime = std::chrono::milliseconds(100);
// Video waits longer for a missing packet when NACK/RTX is negotiated: recovery (RFC 4585/4588)
// takes a round trip plus the sender's pacing, and a frame given up costs a PLI and a key frame.
// libwebrtc's video jitter buffer waits for retransmissions in the same way.
inline constexpr Duration kRetransmissionHoldTime = std::chrono::milliseconds(400);
// Bound on the held packets, whatever the network sends.
inline constexpr size_t kMaxHeldPackets = 512;

// RFC 3550 Appendix A.1 style sequence number extension, relative to the highest seen.
class SeqUnwrapper {
 public:
  int64_t Unwrap(uint16_t seq) {
    if (!highest_) {
      highest_ = (int64_t{1} << 32) + seq;  // room below for early reordered packets
      return *highest_;
    }
    int64_t ext = *highest_ + static_cast<int16_t>(static_cast<uint16_t>(seq - static_cast<uint16_t>(*highest_)));
    if (ext > *highest_) highest_ = ext;
    return ext;
  }

 private:
  std::optional<int64_t> highest_;
};

// One held RTP packet of a video frame.
struct HeldVideoPacket {
  uint32_t timestamp = 0;
  bool marker = false;
  bool start = false;   // the first packet of a frame (as the codec's payload format defines it)
  bool filler = false;  // empty payload (padding): only fills its sequence number
  Bytes data;           // the codec payload (after any payload descriptor)
  Instant arrival;
  // Codec specifics: VP8 PictureID (RFC 7741 §4.2); H.264 whether the first NAL unit is an access
  // unit delimiter or SPS (nothing of the access unit comes before it).
  std::optional<uint16_t> picture_id;
  bool picture_id_15bit = false;
  bool opens_with_aud_or_sps = false;
};

class VideoFrameBufferSink : public MediaSink {
 public:
  MediaKind kind() const override { return MediaKind::kVideo; }
  uint64_t malformed_payloads() const override { return malformed_; }
  void SetRetransmissionsExpected(bool expected) override { retransmissions_expected_ = expected; }
  bool TakeKeyframeRequest() override;
  TrackInfo Info() const override;

 protected:
  using Buffer = std::map<int64_t, HeldVideoPacket>;
  using Iter = Buffer::iterator;

  // Holds a parsed packet (late packets and duplicates are ignored), runs Process() and updates
  // the key frame request.
  void Hold(uint16_t seq, HeldVideoPacket packet, Instant now);
  // The codec's assembly loop: deliver complete frames from the front, wait, or give up.
  virtual void Process(Instant now) = 0;

  // The last packet of the frame starting at `first` when all its packets are here: contiguous
  // sequence numbers, the same timestamp, ending with the marker bit (RFC 7741 §4.1, RFC 6184
  // §5.1) or followed by the next frame's first packet (a sender that does not set the marker).
  std::optional<Iter> FrameEnd(Iter first);
  // Whether a frame newer than the one expected next is complete (so the expected one is lost).
  bool LaterFrameComplete();
  // Consumes a filler packet at the front when it is the one expected (true if it did).
  bool SkipFrontFiller();
  // Whether an incomplete front frame (or a gap before it) is still worth waiting for: without
  // retransmissions until a later frame is complete or the oldest held packet is kHoldTime old;
  // with NACK/RTX only the age (kRetransmissionHoldTime) ends the wait.
  bool KeepWaiting(Instant now);
  Instant OldestArrival() const;
  // Gives up on the oldest incomplete frame, or skips the packets missing before the front (then
  // the codec decides at the next frame whether a frame was in the gap: gap_unverified_).
  void GiveUp();
  virtual void OnGapSkipped() {}
  // Drops packets from the front up to the next frame's first packet and counts a lost frame.
  virtual void DropFrontFrame();
  // Removes [begin, end) as a consumed frame; next_seq_ follows its last packet.
  void Consume(Iter begin, Iter end);
  // A frame could not be shown: counted, the decoder needs a key frame, and one is requested.
  void OnFrameLost();
  // After a key frame: frames are decodable again.
  void OnKeyframe(uint32_t width, uint32_t height);

  SeqUnwrapper unwrapper_;
  Buffer buffer_;
  std::optional<int64_t> next_seq_;
  bool retransmissions_expected_ = false;  // SetRetransmissionsExpected
  bool gap_unverified_ = false;  // sequence numbers were skipped; the codec checks the next frame
  bool waiting_for_key_ = true;
  uint64_t frames_received_ = 0, frames_decoded_ = 0, keyframes_received_ = 0, frames_dropped_ = 0;
  uint64_t malformed_ = 0;
  uint32_t width_ = 0, height_ = 0;

 private:
  void UpdateKeyframeRequest(Instant now);

  std::optional<Instant> first_packet_, last_request_;
  bool loss_pending_ = false, request_pending_ = false;
};

}  // namespace refrtc::media::internal
