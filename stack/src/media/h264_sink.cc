// The H.264 passthrough sink (media_pipeline.h, SupportedVideoCodecs): the VP8 sink's reordering,
// frame assembly and key frame request rules, with RFC 6184 depacketization instead of RFC 7741
// and no decoder. Frames (access units) are the packets of one RTP timestamp (RFC 6184 §5.1),
// with contiguous sequence numbers, ending with the marker bit.
#include <algorithm>
#include <map>
#include <optional>

#include "media/h264_rtp.h"
#include "media/media_internal.h"
#include "media/video_frame_buffer.h"

namespace refrtc::media {
namespace {

class H264Sink : public internal::VideoFrameBufferSink {
 public:
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
    internal::HeldVideoPacket h;
    h.timestamp = timestamp;
    h.marker = marker;
    h.filler = !parsed;
    h.start = parsed && parsed->StartsAccessUnit();
    if (h.start && parsed->kind != H264Payload::Kind::kFuA) {
      const uint8_t first = H264NalTypeOf(parsed->nal_units[0][0]);
      h.opens_with_aud_or_sps = first == kH264NalAud || first == kH264NalSps;
    }
    h.data.assign(payload.begin(), payload.end());
    Hold(seq, std::move(h), now);
  }

 private:
  void Process(Instant now) override {
    while (!buffer_.empty()) {
      if (SkipFrontFiller()) continue;
      Iter front = buffer_.begin();
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
      if (!next_seq_) {
        // Nothing to retransmit before the first packet: the kHoldTime rule even with NACK/RTX.
        if (now - OldestArrival() < internal::kHoldTime && !LaterFrameComplete() &&
            buffer_.size() <= internal::kMaxHeldPackets) {
          break;
        }
        if (front->second.start) {
          next_seq_ = front->first;
        } else {
          buffer_.erase(front);  // a packet of a frame whose start we never saw
        }
        continue;
      }
      // Incomplete front frame, or a gap before it.
      if (KeepWaiting(now)) break;
      GiveUp();
    }
  }

  void OnGapSkipped() override { after_complete_frame_ = false; }

  void DropFrontFrame() override {
    const uint32_t ts = buffer_.begin()->second.timestamp;
    VideoFrameBufferSink::DropFrontFrame();
    after_complete_frame_ = false;
    dropped_ts_ = ts;
  }

  const H264Sps* SpsForPps(uint32_t pps_id) const {
    auto p = pps_to_sps_.find(pps_id);
    if (p == pps_to_sps_.end()) return nullptr;
    auto s = sps_.find(p->second);
    return s == sps_.end() ? nullptr : &s->second;
  }

  void Deliver(Iter begin, Iter end) {
    std::vector<ByteView> payloads;
    for (Iter it = begin; it != end; ++it) payloads.push_back(it->second.data);
    auto nal_units = AssembleH264AccessUnit(payloads);
    // The frame's packets are consumed whatever the outcome (the views above die with them).
    auto consume = [&] {
      Consume(begin, end);
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
      OnKeyframe(sps->width, sps->height);
    } else if (waiting_for_key_) {
      ++frames_dropped_;  // undecodable until the next key frame
      return;
    }
    ++frames_received_;
  }

  std::map<uint32_t, H264Sps> sps_;          // by seq_parameter_set_id (0..31)
  std::map<uint32_t, uint32_t> pps_to_sps_;  // pic_parameter_set_id (0..255) -> its SPS id
  std::optional<uint32_t> last_frame_num_;   // of the last frame assembled
  bool last_frame_was_reference_ = false;
  // The packets up to next_seq_ were consumed as a whole access unit, nothing missing since.
  bool after_complete_frame_ = false;
  std::optional<uint32_t> dropped_ts_;  // timestamp of the frame DropFrontFrame gave up on last
};

}  // namespace

namespace internal {
std::unique_ptr<MediaSink> CreateH264Sink() { return std::make_unique<H264Sink>(); }
}  // namespace internal

}  // namespace refrtc::media
