// The H.264 passthrough sink (media_pipeline.h, SupportedVideoCodecs): the VP8 sink's reordering,
// frame assembly and key frame request rules, with RFC 6184 depacketization instead of RFC 7741
// and no decoder. Frames (access units) are the packets of one RTP timestamp (RFC 6184 §5.1),
// with contiguous sequence numbers, ending with the marker bit.
#include <algorithm>
#include <map>
#include <optional>

#include "media/h264_rtp.h"
#include "media/media_internal.h"

namespace refrtc::media {
namespace {

// As the VP8 sink (media_sink.cc): packets are held for reordering at most 100 ms, or 400 ms when
// NACK/RTX is negotiated; at most 512 packets are held.
constexpr Duration kHoldTime = std::chrono::milliseconds(100);
constexpr Duration kRetransmissionHoldTime = std::chrono::milliseconds(400);
constexpr size_t kMaxHeldPackets = 512;
// RFC 4585 §6.3.1 PLI: when no key frame arrived this long after the first packet, and at most one
// request per kRequestInterval.
constexpr Duration kKeyframeWait = std::chrono::milliseconds(500);
constexpr Duration kRequestInterval = std::chrono::milliseconds(300);

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

class H264Sink : public MediaSink {
 public:
  MediaKind kind() const override { return MediaKind::kVideo; }
  uint64_t malformed_payloads() const override { return malformed_; }
  void SetRetransmissionsExpected(bool expected) override { retransmissions_expected_ = expected; }
  bool TakeKeyframeRequest() override {
    bool r = request_pending_;
    request_pending_ = false;
    return r;
  }
  TrackInfo Info() const override {
    TrackInfo info;
    info.kind = MediaKind::kVideo;
    info.frames_received = frames_received_;
    info.frames_decoded = 0;  // passthrough: never decoded
    info.keyframes_received = keyframes_received_;
    info.frames_dropped = frames_dropped_;
    info.width = width_;
    info.height = height_;
    return info;
  }

  // An empty payload is a padding-only packet (libwebrtc pads on the media SSRC without RTX): it
  // only fills its sequence number. Malformed payloads are counted and dropped (their sequence
  // number stays a gap, so a frame that contained one is never complete).
  void OnRtp(uint16_t seq, uint32_t timestamp, bool marker, ByteView payload, Instant now) override {
    std::optional<H264Payload> parsed;
    if (!payload.empty()) {
      auto p = ParseH264Payload(payload);
      if (!p.ok()) {
        ++malformed_;
        return;
      }
      parsed = std::move(*p);
    }
    if (!first_packet_) first_packet_ = now;
    int64_t ext = unwrapper_.Unwrap(seq);
    if (next_seq_ && ext < *next_seq_) return;  // late or duplicate of a consumed packet
    if (buffer_.count(ext) == 0) {
      if (buffer_.size() >= kMaxHeldPackets) GiveUp();
      Held h;
      h.timestamp = timestamp;
      h.marker = marker;
      h.filler = !parsed;
      h.start = parsed && parsed->StartsAccessUnit();
      if (h.start && parsed->kind != H264Payload::Kind::kFuA) {
        const uint8_t first = H264NalTypeOf(parsed->nal_units[0][0]);
        h.opens_with_aud_or_sps = first == kH264NalAud || first == kH264NalSps;
      }
      h.data.assign(payload.begin(), payload.end());
      h.arrival = now;
      buffer_[ext] = std::move(h);
      Process(now);
    }
    UpdateKeyframeRequest(now);
  }

 private:
  struct Held {
    uint32_t timestamp = 0;
    bool marker = false;
    bool start = false;   // first packet of an access unit (H264Payload::StartsAccessUnit)
    bool opens_with_aud_or_sps = false;  // its first NAL unit is an access unit delimiter or SPS
    bool filler = false;  // empty payload (padding)
    Bytes data;           // the RTP payload
    Instant arrival;
  };
  using Iter = std::map<int64_t, Held>::iterator;

  // The last packet of the access unit starting at `first` when all its packets are here:
  // contiguous sequence numbers, the same timestamp, ending with the marker bit (RFC 6184 §5.1:
  // "set for the very last packet of the access unit") or followed by the next access unit's
  // first packet (a sender that does not set the marker).
  std::optional<Iter> FrameEnd(Iter first) {
    Iter it = first;
    while (true) {
      if (it->second.filler) return std::nullopt;  // never inside a frame
      if (it->second.marker) return it;
      Iter next = std::next(it);
      if (next == buffer_.end() || next->first != it->first + 1) return std::nullopt;
      if (next->second.timestamp != first->second.timestamp) {
        if (next->second.start) return it;
        return std::nullopt;
      }
      it = next;
    }
  }

  // Whether a frame newer than the one expected next is complete (so the expected one is lost).
  bool LaterFrameComplete() {
    Iter from = buffer_.begin();
    // The front is the frame expected next (or, before the first frame, the candidate start).
    if (!next_seq_ || from->first == *next_seq_) ++from;
    for (Iter it = from; it != buffer_.end(); ++it) {
      if (it->second.start && FrameEnd(it)) return true;
    }
    return false;
  }

  void Process(Instant now) {
    while (!buffer_.empty()) {
      Iter front = buffer_.begin();
      if (front->second.filler && (!next_seq_ || front->first == *next_seq_)) {
        if (next_seq_) ++*next_seq_;
        buffer_.erase(front);
        continue;
      }
      // The first access unit: a start that begins with an access unit delimiter or an SPS has
      // nothing before it (§7.4.1.2.3); any other start (e.g. the IDR slice of a key frame whose
      // STAP-A with the parameter sets is late) is only taken once the wait below is over.
      if (!next_seq_ && front->second.start && front->second.opens_with_aud_or_sps) next_seq_ = front->first;
      if (next_seq_ && front->first == *next_seq_) {
        if (!front->second.start && dropped_ts_ && front->second.timestamp == *dropped_ts_) {
          // A late packet of the frame just given up on: already counted.
          buffer_.erase(front);
          ++*next_seq_;
          continue;
        }
        if (!front->second.start) {
          // Right after a complete frame with nothing missing, a packet that does not start an
          // access unit (e.g. an FU-A without its start) is a broken stream, not a loss.
          if (after_complete_frame_) ++malformed_;
          DropFrontFrame();
          continue;
        }
        if (auto end = FrameEnd(front)) {
          Deliver(front, std::next(*end));
          continue;
        }
      }
      // Incomplete front frame, or a gap before it: wait as the VP8 sink does (until a later frame
      // is complete or the oldest packet is 100 ms old; with NACK/RTX only the 400 ms age).
      Instant oldest = front->second.arrival;
      for (const auto& [s, p] : buffer_) oldest = std::min(oldest, p.arrival);
      if (!next_seq_) {
        // Nothing to retransmit before the first packet: the 100 ms rule even with NACK/RTX.
        if (now - oldest < kHoldTime && !LaterFrameComplete() && buffer_.size() <= kMaxHeldPackets) break;
        if (front->second.start) {
          next_seq_ = front->first;
        } else {
          buffer_.erase(front);  // a packet of a frame whose start we never saw
        }
        continue;
      }
      if (retransmissions_expected_) {
        if (now - oldest < kRetransmissionHoldTime && buffer_.size() <= kMaxHeldPackets) break;
      } else if (now - oldest < kHoldTime && !LaterFrameComplete()) {
        break;
      }
      GiveUp();
    }
  }

  // Gives up on the oldest incomplete frame (or the packets missing before the front).
  void GiveUp() {
    if (buffer_.empty()) return;
    Iter front = buffer_.begin();
    if (!next_seq_) {
      buffer_.erase(front);  // a packet of a frame whose start we never saw
      return;
    }
    if (front->first != *next_seq_) {
      // Skip the missing packets; whether they carried a frame the next one depends on is decided
      // when that frame is assembled (frame_num continuity), since padding gets lost too.
      next_seq_ = front->first;
      gap_unverified_ = true;
      after_complete_frame_ = false;
      return;
    }
    DropFrontFrame();
  }

  // Drops packets from the front up to the next access unit's first packet.
  void DropFrontFrame() {
    Iter front = buffer_.begin();
    const uint32_t ts = front->second.timestamp;
    int64_t last = front->first;
    while (!buffer_.empty()) {
      Iter it = buffer_.begin();
      if (it->second.start && it->second.timestamp != ts) break;
      last = it->first;
      buffer_.erase(it);
    }
    next_seq_ = buffer_.empty() ? last + 1 : buffer_.begin()->first;
    after_complete_frame_ = false;
    dropped_ts_ = ts;
    OnFrameLost();
  }

  void OnFrameLost() {
    gap_unverified_ = false;
    ++frames_dropped_;
    waiting_for_key_ = true;
    loss_pending_ = true;
  }

  const H264Sps* SpsForPps(uint32_t pps_id) const {
    auto p = pps_to_sps_.find(pps_id);
    if (p == pps_to_sps_.end()) return nullptr;
    auto s = sps_.find(p->second);
    return s == sps_.end() ? nullptr : &s->second;
  }

  void Deliver(Iter begin, Iter end) {
    std::vector<ByteView> payloads;
    int64_t last = begin->first;
    for (Iter it = begin; it != end; ++it) {
      payloads.push_back(it->second.data);
      last = it->first;
    }
    auto nal_units = AssembleH264AccessUnit(payloads);
    // The frame's packets are consumed whatever the outcome (the views above die with them).
    auto consume = [&] {
      buffer_.erase(begin, end);
      next_seq_ = last + 1;
      after_complete_frame_ = true;
      dropped_ts_.reset();
    };
    if (!nal_units.ok()) {
      ++malformed_;
      consume();
      OnFrameLost();
      return;
    }
    bool idr = false;
    uint8_t nal_ref_idc = 0;
    std::optional<ByteView> first_slice;
    for (const Bytes& nal : *nal_units) {
      const uint8_t type = H264NalTypeOf(nal[0]);
      if (type == kH264NalSps) {
        // H.264 §7.4.1.2.1: a parameter set takes effect for the pictures after it.
        auto sps = ParseH264Sps(nal);
        if (sps.ok()) {
          sps_[sps->sps_id] = *sps;
        } else {
          ++malformed_;
        }
      } else if (type == kH264NalPps) {
        auto ids = ParseH264PpsIds(nal);
        if (ids.ok()) {
          pps_to_sps_[ids->pps_id] = ids->sps_id;
        } else {
          ++malformed_;
        }
      } else if (type == kH264NalSlice || type == kH264NalPartitionA || type == kH264NalIdr) {
        if (!first_slice) first_slice = ByteView(nal);
        if (type == kH264NalIdr) idr = true;
        nal_ref_idc = std::max(nal_ref_idc, H264NalRefIdcOf(nal[0]));
      }
    }
    if (!first_slice) {
      consume();  // parameter sets or SEI alone: nothing to show, nothing lost
      return;
    }
    const H264Sps* sps = nullptr;
    std::optional<uint32_t> frame_num;
    if (auto slice = ParseH264SliceStart(*first_slice); slice.ok()) {
      sps = SpsForPps(slice->pps_id);
      if (sps) {
        auto fn = ParseH264FrameNum(*first_slice, *sps);
        if (fn.ok()) frame_num = *fn;
      }
    } else {
      ++malformed_;
      consume();
      OnFrameLost();
      return;
    }
    consume();

    if (gap_unverified_) {
      // Packets were skipped before this frame. H.264 §7.4.3 frame_num: after a reference picture
      // with frame_num n the next picture has (n + 1) % MaxFrameNum, after a non-reference one the
      // same n; with gaps_in_frame_num_value_allowed_flag 0 any other value means a reference
      // picture was lost. An IDR picture needs nothing before it.
      bool continuous = idr;
      if (!continuous && frame_num && last_frame_num_ && sps && !sps->gaps_in_frame_num_allowed) {
        const uint32_t max_frame_num = 1u << sps->log2_max_frame_num;
        const uint32_t expected = last_frame_was_reference_ ? (*last_frame_num_ + 1) % max_frame_num : *last_frame_num_;
        continuous = *frame_num == expected;
      }
      gap_unverified_ = false;
      if (!continuous) OnFrameLost();
    }
    // Every assembled frame, decodable or not, is the reference for the next gap check (as the
    // VP8 sink's PictureID).
    last_frame_num_ = frame_num;
    last_frame_was_reference_ = nal_ref_idc != 0;

    if (idr) {
      if (!sps) {
        // The IDR's PPS or SPS never arrived (e.g. lost with the STAP-A carrying them): a decoder
        // could not use it either.
        OnFrameLost();
        return;
      }
      ++keyframes_received_;
      width_ = sps->width;
      height_ = sps->height;
      waiting_for_key_ = false;
    } else if (waiting_for_key_) {
      ++frames_dropped_;  // undecodable until the next key frame
      return;
    }
    ++frames_received_;
  }

  // RFC 4585 §6.3.1 PLI: after a lost frame, or while no key frame arrived 500 ms after the first
  // packet; at most one request per 300 ms (as the VP8 sink).
  void UpdateKeyframeRequest(Instant now) {
    bool want = loss_pending_ || (waiting_for_key_ && first_packet_ && now - *first_packet_ >= kKeyframeWait);
    if (!want) return;
    if (last_request_ && now - *last_request_ < kRequestInterval) return;
    request_pending_ = true;
    loss_pending_ = false;
    last_request_ = now;
  }

  SeqUnwrapper unwrapper_;
  std::map<int64_t, Held> buffer_;
  std::optional<int64_t> next_seq_;
  std::map<uint32_t, H264Sps> sps_;          // by seq_parameter_set_id (0..31)
  std::map<uint32_t, uint32_t> pps_to_sps_;  // pic_parameter_set_id (0..255) -> its SPS id
  std::optional<uint32_t> last_frame_num_;   // of the last frame assembled
  bool last_frame_was_reference_ = false;
  std::optional<Instant> first_packet_, last_request_;
  bool waiting_for_key_ = true, loss_pending_ = false, request_pending_ = false;
  bool retransmissions_expected_ = false;
  bool gap_unverified_ = false;  // sequence numbers were skipped; check the next frame's frame_num
  // The packets up to next_seq_ were consumed as a whole access unit, nothing missing since.
  bool after_complete_frame_ = false;
  std::optional<uint32_t> dropped_ts_;  // timestamp of the frame DropFrontFrame gave up on last
  uint64_t frames_received_ = 0, keyframes_received_ = 0, frames_dropped_ = 0, malformed_ = 0;
  uint32_t width_ = 0, height_ = 0;
};

}  // namespace

namespace internal {
std::unique_ptr<MediaSink> CreateH264Sink() { return std::make_unique<H264Sink>(); }
}  // namespace internal

}  // namespace refrtc::media
