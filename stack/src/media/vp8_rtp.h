// RTP payload format for VP8 (RFC 7741): the payload descriptor (§4.2), the payload header /
// key-frame header (§4.3, RFC 6386 §9.1), and a packetizer (§4.1, §5).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "util/bytes.h"

namespace refrtc::media {

// RFC 7741 §4.2 VP8 payload descriptor.
//      0 1 2 3 4 5 6 7
//     +-+-+-+-+-+-+-+-+
//     |X|R|N|S|R| PID | (REQUIRED)
//     +-+-+-+-+-+-+-+-+
// X:  |I|L|T|K| RSV   | (OPTIONAL)
//     +-+-+-+-+-+-+-+-+
// I:  |M| PictureID   | (OPTIONAL; M=1: 15-bit PictureID over two bytes)
// L:  |   TL0PICIDX   | (OPTIONAL)
// T/K:|TID|Y| KEYIDX  | (OPTIONAL)
struct Vp8Descriptor {
  bool non_reference = false;  // N
  bool start_of_partition = false;  // S
  uint8_t partition_index = 0;  // PID
  std::optional<uint16_t> picture_id;  // 7 or 15 bits
  bool picture_id_15bit = false;
  std::optional<uint8_t> tl0_pic_idx;
  std::optional<uint8_t> tid;  // with Y
  bool layer_sync = false;     // Y
  std::optional<uint8_t> key_idx;
  size_t header_size = 0;  // bytes of descriptor before the VP8 payload

  bool starts_frame() const { return start_of_partition && partition_index == 0; }
};

// Parses the descriptor at the start of `payload`; InvalidArgument when truncated or when no
// VP8 payload byte follows it (RFC 7741 §4.2: a packet carries at least one payload byte).
absl::StatusOr<Vp8Descriptor> ParseVp8Descriptor(ByteView payload);

// Writes the descriptor we send: X=1, I=1 with M=1 (15-bit PictureID), S, PID 0.
void WriteVp8Descriptor(bool start_of_frame, uint16_t picture_id, Bytes* out);
inline constexpr size_t kVp8SendDescriptorSize = 4;

// Splits one encoded frame into payloads of at most `max_payload` bytes each (descriptor
// included), in roughly equal parts (RFC 7741 §5 leaves the split to the sender).
std::vector<Bytes> PacketizeVp8(ByteView frame, uint16_t picture_id, size_t max_payload);

// RFC 6386 §9.1 frame tag (the RFC 7741 §4.3 payload header) and, for key frames, the start
// code and dimensions. nullopt when `frame` is too short or a key frame's start code is wrong.
struct Vp8FrameHeader {
  bool keyframe = false;
  uint8_t version = 0;
  bool show_frame = false;
  uint32_t first_partition_size = 0;
  uint16_t width = 0, height = 0;  // key frames only (14 bits each)
  uint8_t horizontal_scale = 0, vertical_scale = 0;
};
std::optional<Vp8FrameHeader> ParseVp8FrameHeader(ByteView frame);

}  // namespace refrtc::media
