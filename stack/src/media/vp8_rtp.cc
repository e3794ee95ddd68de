#include "media/vp8_rtp.h"

#include <algorithm>

#include "absl/status/status.h"

namespace refrtc::media {

absl::StatusOr<Vp8Descriptor> ParseVp8Descriptor(ByteView payload) {
  ByteReader r(payload);
  Vp8Descriptor d;
  auto b0 = r.U8();
  if (!b0) return absl::InvalidArgumentError("VP8: empty payload");
  // RFC 7741 §4.2: R bits MUST be ignored by receivers.
  const bool x = *b0 & 0x80;
  d.non_reference = *b0 & 0x20;
  d.start_of_partition = *b0 & 0x10;
  d.partition_index = *b0 & 0x07;
  if (x) {
    auto b1 = r.U8();
    if (!b1) return absl::InvalidArgumentError("VP8: truncated extension byte");
    const bool i = *b1 & 0x80, l = *b1 & 0x40, t = *b1 & 0x20, k = *b1 & 0x10;
    if (i) {
      auto p0 = r.U8();
      if (!p0) return absl::InvalidArgumentError("VP8: truncated PictureID");
      if (*p0 & 0x80) {
        auto p1 = r.U8();
        if (!p1) return absl::InvalidArgumentError("VP8: truncated 15-bit PictureID");
        d.picture_id = static_cast<uint16_t>((*p0 & 0x7F) << 8 | *p1);
        d.picture_id_15bit = true;
      } else {
        d.picture_id = *p0 & 0x7F;
      }
    }
    if (l) {
      auto v = r.U8();
      if (!v) return absl::InvalidArgumentError("VP8: truncated TL0PICIDX");
      d.tl0_pic_idx = *v;
    }
    if (t || k) {
      auto v = r.U8();
      if (!v) return absl::InvalidArgumentError("VP8: truncated TID/KEYIDX");
      if (t) {
        d.tid = static_cast<uint8_t>(*v >> 6);
        d.layer_sync = *v & 0x20;
      }
      if (k) d.key_idx = *v & 0x1F;
    }
  }
  d.header_size = r.position();
  if (r.remaining() == 0) return absl::InvalidArgumentError("VP8: no payload after the descriptor");
  return d;
}

void WriteVp8Descriptor(bool start_of_frame, uint16_t picture_id, Bytes* out) {
  out->push_back(static_cast<uint8_t>(0x80 | (start_of_frame ? 0x10 : 0)));  // X=1, S, PID=0
  out->push_back(0x80);                                                      // I=1
  out->push_back(static_cast<uint8_t>(0x80 | ((picture_id >> 8) & 0x7F)));   // M=1
  out->push_back(static_cast<uint8_t>(picture_id));
}

std::vector<Bytes> PacketizeVp8(ByteView frame, uint16_t picture_id, size_t max_payload) {
  std::vector<Bytes> out;
  if (frame.empty() || max_payload <= kVp8SendDescriptorSize) return out;
  const size_t capacity = max_payload - kVp8SendDescriptorSize;
  const size_t count = (frame.size() + capacity - 1) / capacity;
  const size_t base = frame.size() / count, extra = frame.size() % count;
  size_t pos = 0;
  for (size_t i = 0; i < count; ++i) {
    size_t len = base + (i < extra ? 1 : 0);
    Bytes p;
    p.reserve(kVp8SendDescriptorSize + len);
    WriteVp8Descriptor(i == 0, picture_id, &p);
    p.insert(p.end(), frame.begin() + pos, frame.begin() + pos + len);
    pos += len;
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<Vp8FrameHeader> ParseVp8FrameHeader(ByteView frame) {
  if (frame.size() < 3) return std::nullopt;
  // RFC 6386 §9.1: 3-byte little-endian frame tag: frame type (1 bit, 0 = key frame), version
  // (3), show_frame (1), first_part_size (19).
  uint32_t tag = frame[0] | frame[1] << 8 | frame[2] << 16;
  Vp8FrameHeader h;
  h.keyframe = (tag & 1) == 0;
  h.version = (tag >> 1) & 7;
  h.show_frame = (tag >> 4) & 1;
  h.first_partition_size = (tag >> 5) & 0x7FFFF;
  if (h.keyframe) {
    // Start code 0x9d 0x01 0x2a, then 2 bytes each: 14-bit width/height and 2-bit scale.
    if (frame.size() < 10) return std::nullopt;
    if (frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a) return std::nullopt;
    uint16_t w = static_cast<uint16_t>(frame[6] | frame[7] << 8);
    uint16_t hh = static_cast<uint16_t>(frame[8] | frame[9] << 8);
    h.width = w & 0x3FFF;
    h.horizontal_scale = static_cast<uint8_t>(w >> 14);
    h.height = hh & 0x3FFF;
    h.vertical_scale = static_cast<uint8_t>(hh >> 14);
  }
  return h;
}

}  // namespace refrtc::media
