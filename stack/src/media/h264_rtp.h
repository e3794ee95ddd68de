// RTP payload format for H.264 (RFC 6184), receive side, and the few H.264 syntax structures a
// passthrough receiver needs (ITU-T H.264 §7.3): refrtc has no H.264 encoder or decoder, so it
// negotiates H.264, depacketizes, assembles access units, tells key frames (IDR) and reads the
// picture size from the sequence parameter set, without decoding.
//
// Supported: packetization-mode 0 and 1 (RFC 6184 §6.2, §6.3): single NAL unit packets (§5.6),
// STAP-A (§5.7.1) and FU-A (§5.8). The interleaved mode's STAP-B, MTAP16/24 and FU-B, and the
// reserved NAL unit types 0, 30 and 31 (§5.2, Table 1) are rejected as malformed.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "util/bytes.h"

namespace refrtc::media {

// NAL unit types (H.264 Table 7-1) and RFC 6184 §5.2 payload structure types.
enum H264NalType : uint8_t {
  kH264NalSlice = 1,       // coded slice of a non-IDR picture
  kH264NalPartitionA = 2,  // slice data partition A
  kH264NalIdr = 5,         // coded slice of an IDR picture: a key frame
  kH264NalSei = 6,
  kH264NalSps = 7,
  kH264NalPps = 8,
  kH264NalAud = 9,
  kH264StapA = 24,
  kH264StapB = 25,
  kH264Mtap16 = 26,
  kH264Mtap24 = 27,
  kH264FuA = 28,
  kH264FuB = 29,
};
inline uint8_t H264NalTypeOf(uint8_t nal_header) { return nal_header & 0x1F; }
inline uint8_t H264NalRefIdcOf(uint8_t nal_header) { return (nal_header >> 5) & 0x03; }

// One RTP payload, parsed (RFC 6184 §5.6-§5.8). Views point into the payload given to the parser.
struct H264Payload {
  enum class Kind { kSingleNal, kStapA, kFuA };
  Kind kind = Kind::kSingleNal;
  // kSingleNal: the one NAL unit; kStapA: the aggregated NAL units (each with its NAL header).
  std::vector<ByteView> nal_units;
  // kFuA (§5.8): the S and E bits, the fragmented NAL unit's header (F and NRI from the FU
  // indicator, type from the FU header) and this fragment's bytes.
  bool fu_start = false, fu_end = false;
  uint8_t fu_nal_header = 0;
  ByteView fu_fragment;

  // Whether this payload starts a new access unit (H.264 §7.4.1.2.3): its first NAL unit (or the
  // fragmented NAL unit, when this is the FU-A start) is an access unit delimiter, SPS, PPS, SEI
  // or NAL type 14-18, or the first slice of a picture (first_mb_in_slice == 0). An FU-A
  // continuation never starts one.
  bool StartsAccessUnit() const;
  // Whether this payload carries (the start of) an IDR slice.
  bool HasIdr() const;
};

// InvalidArgument for: an empty payload; the forbidden_zero_bit set (H.264 §7.4.1); NAL unit
// types 0, 30, 31 (reserved/undefined) and STAP-B, MTAP16, MTAP24, FU-B (interleaved mode, not
// negotiated); a STAP-A without aggregation units, with a zero-size unit, a truncated size or
// unit, or an aggregation packet type inside it; an FU-A without FU header or fragment bytes, with
// both S and E set (§5.8: "MUST NOT"), or fragmenting an aggregation/fragmentation packet type.
absl::StatusOr<H264Payload> ParseH264Payload(ByteView payload);

// Reassembles the NAL units of one access unit from its RTP payloads in sequence-number order
// (RFC 6184 §5.8: FU-A fragments are concatenated, in order, after the reconstructed NAL header).
// InvalidArgument when a payload is malformed, an FU-A continuation or end arrives without its
// start, a new FU-A starts before the previous one ended, a fragment's NAL type differs from its
// start's, or the last FU-A is left unfinished.
absl::StatusOr<std::vector<Bytes>> AssembleH264AccessUnit(absl::Span<const ByteView> payloads);

// Packetization-mode 1 packetizer (used by tests and tools; refrtc never encodes H.264): NAL
// units that fit go out as single NAL unit packets, consecutive small ones aggregated into STAP-A
// packets; larger ones are split into FU-A fragments of at most `max_payload` bytes. Empty NAL
// units are skipped; nothing is produced when max_payload < 3.
std::vector<Bytes> PacketizeH264(absl::Span<const Bytes> nal_units, size_t max_payload);

// H.264 §7.4.1 / §7.3.1: the RBSP of a NAL unit's payload (after its header byte) with the
// emulation_prevention_three_byte of every 0x000003 sequence removed. At most `max_bytes` of the
// input are converted.
Bytes H264UnescapeRbsp(ByteView escaped, size_t max_bytes = SIZE_MAX);

// The fields of seq_parameter_set_rbsp() (H.264 §7.3.2.1.1) refrtc uses.
struct H264Sps {
  uint8_t profile_idc = 0;
  uint8_t constraint_flags = 0;  // constraint_set0..5_flag and reserved_zero_2bits, as sent
  uint8_t level_idc = 0;
  uint32_t sps_id = 0;               // 0..31
  uint32_t chroma_format_idc = 1;    // 1 (4:2:0) when absent
  bool separate_colour_plane = false;
  uint32_t bit_depth_luma = 8, bit_depth_chroma = 8;
  uint32_t log2_max_frame_num = 4;   // log2_max_frame_num_minus4 + 4
  uint32_t pic_order_cnt_type = 0;
  uint32_t max_num_ref_frames = 0;
  bool gaps_in_frame_num_allowed = false;
  bool frame_mbs_only = true;
  uint32_t width = 0, height = 0;    // after frame cropping (§7.4.2.1.1)
};

// Parses a complete SPS NAL unit (header byte included, emulation prevention still in it).
// InvalidArgument when it is not an SPS, is truncated, a value is out of its range in §7.4.2.1.1,
// the cropping window is empty, or the picture exceeds 16384 pixels in either direction. The VUI
// and everything after it is not read.
absl::StatusOr<H264Sps> ParseH264Sps(ByteView nal_unit);

// pic_parameter_set_id and seq_parameter_set_id of a PPS NAL unit (H.264 §7.3.2.2).
struct H264PpsIds {
  uint32_t pps_id = 0;  // 0..255
  uint32_t sps_id = 0;  // 0..31
};
absl::StatusOr<H264PpsIds> ParseH264PpsIds(ByteView nal_unit);

// The start of slice_header() (H.264 §7.3.3) of a slice NAL unit (type 1, 2 or 5).
struct H264SliceStart {
  uint32_t first_mb_in_slice = 0;
  uint32_t slice_type = 0;  // 0..9
  uint32_t pps_id = 0;
};
absl::StatusOr<H264SliceStart> ParseH264SliceStart(ByteView nal_unit);
// frame_num of a slice, which needs the SPS its PPS refers to (separate_colour_plane_flag and
// log2_max_frame_num). InvalidArgument when truncated.
absl::StatusOr<uint32_t> ParseH264FrameNum(ByteView nal_unit, const H264Sps& sps);

}  // namespace refrtc::media
