#include "media/h264_rtp.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace refrtc::media {
namespace {

absl::Status Malformed(absl::string_view what) { return absl::InvalidArgumentError(absl::StrCat("H264: ", what)); }

// NAL unit types that may appear as a whole NAL unit in a packet: 1..23 (RFC 6184 §5.2, Table 1).
bool IsPlainNalType(uint8_t type) { return type >= 1 && type <= 23; }

// Bit reader over an RBSP (H.264 §7.2): u(n), ue(v) and se(v) (§9.1). Every read is bounds
// checked; a failed read leaves the reader failed.
class BitReader {
 public:
  explicit BitReader(ByteView data) : data_(data) {}
  bool ok() const { return ok_; }

  uint32_t Bits(int n) {  // n <= 32
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 1 | Bit();
    return ok_ ? static_cast<uint32_t>(v) : 0;
  }
  bool Flag() { return Bit() != 0; }
  // §9.1: leadingZeroBits zeros, a one, then leadingZeroBits bits; codeNum = 2^lzb - 1 + bits.
  uint32_t Ue() {
    int zeros = 0;
    while (ok_ && Bit() == 0) {
      if (++zeros > 31) {  // codeNum would exceed 2^32 - 2 (the largest ue(v) H.264 uses)
        ok_ = false;
        return 0;
      }
    }
    if (!ok_) return 0;
    uint64_t v = (uint64_t{1} << zeros) - 1 + Bits(zeros);
    if (!ok_ || v > UINT32_MAX) {
      ok_ = false;
      return 0;
    }
    return static_cast<uint32_t>(v);
  }
  // §9.1.1: codeNum k maps to (-1)^(k+1) * Ceil(k / 2).
  int64_t Se() {
    uint32_t k = Ue();
    int64_t mag = (static_cast<int64_t>(k) + 1) / 2;
    return (k & 1) ? mag : -mag;
  }

 private:
  uint32_t Bit() {
    if (!ok_ || pos_ >= data_.size() * 8) {
      ok_ = false;
      return 0;
    }
    uint32_t b = (data_[pos_ / 8] >> (7 - pos_ % 8)) & 1;
    ++pos_;
    return b;
  }
  ByteView data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// §7.3.2.1.1.1 scaling_list(): only parsed to be skipped.
bool SkipScalingList(BitReader& r, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size; ++j) {
    if (next != 0) {
      int64_t delta = r.Se();
      if (!r.ok() || delta < -128 || delta > 127) return false;  // §7.4.2.1.1.1 range
      next = static_cast<int>((last + delta + 256) % 256);
    }
    last = next == 0 ? last : next;
  }
  return r.ok();
}

bool StartsAccessUnitNal(uint8_t header, ByteView after_header) {
  const uint8_t type = H264NalTypeOf(header);
  // §7.4.1.2.3: these NAL units, when present, come first in an access unit.
  if (type == kH264NalAud || type == kH264NalSps || type == kH264NalPps || type == kH264NalSei ||
      (type >= 14 && type <= 18)) {
    return true;
  }
  if (type != kH264NalSlice && type != kH264NalPartitionA && type != kH264NalIdr) return false;
  // The first VCL NAL unit of a primary coded picture: first_mb_in_slice == 0 (no arbitrary slice
  // order). ue(v) 0 is the single bit '1', so only the first byte is needed.
  return !after_header.empty() && (after_header[0] & 0x80);
}

}  // namespace

bool H264Payload::StartsAccessUnit() const {
  switch (kind) {
    case Kind::kFuA:
      return fu_start && StartsAccessUnitNal(fu_nal_header, fu_fragment);
    case Kind::kSingleNal:
    case Kind::kStapA:
      if (nal_units.empty() || nal_units[0].empty()) return false;
      return StartsAccessUnitNal(nal_units[0][0], nal_units[0].subspan(1));
  }
  return false;
}

bool H264Payload::HasIdr() const {
  if (kind == Kind::kFuA) return fu_start && H264NalTypeOf(fu_nal_header) == kH264NalIdr;
  for (ByteView n : nal_units) {
    if (!n.empty() && H264NalTypeOf(n[0]) == kH264NalIdr) return true;
  }
  return false;
}

absl::StatusOr<H264Payload> ParseH264Payload(ByteView payload) {
  if (payload.empty()) return Malformed("empty payload");
  const uint8_t header = payload[0];
  // RFC 6184 §5.3 / H.264 §7.4.1: forbidden_zero_bit shall be 0.
  if (header & 0x80) return Malformed("forbidden_zero_bit set");
  const uint8_t type = H264NalTypeOf(header);
  H264Payload p;
  if (IsPlainNalType(type)) {
    // §5.6 single NAL unit packet: the payload is the NAL unit.
    p.kind = H264Payload::Kind::kSingleNal;
    p.nal_units.push_back(payload);
    return p;
  }
  if (type == kH264StapA) {
    // §5.7.1: STAP-A header, then aggregation units of [16-bit NALU size][NAL unit].
    p.kind = H264Payload::Kind::kStapA;
    ByteReader r(payload.subspan(1));
    while (r.remaining() > 0) {
      auto size = r.U16();
      if (!size) return Malformed("STAP-A: truncated NAL unit size");
      if (*size == 0) return Malformed("STAP-A: zero-size NAL unit");
      auto nal = r.Take(*size);
      if (!nal) return Malformed("STAP-A: NAL unit size exceeds the payload");
      if ((*nal)[0] & 0x80) return Malformed("STAP-A: forbidden_zero_bit set in an aggregated NAL unit");
      if (!IsPlainNalType(H264NalTypeOf((*nal)[0]))) return Malformed("STAP-A: aggregated NAL unit of type 0 or 24-31");
      p.nal_units.push_back(*nal);
    }
    if (p.nal_units.empty()) return Malformed("STAP-A without aggregation units");
    return p;
  }
  if (type == kH264FuA) {
    // §5.8: FU indicator (F, NRI, type 28), FU header |S|E|R|Type|, then the fragment.
    if (payload.size() < 2) return Malformed("FU-A without FU header");
    if (payload.size() < 3) return Malformed("FU-A without fragment bytes");
    const uint8_t fu = payload[1];
    p.kind = H264Payload::Kind::kFuA;
    p.fu_start = fu & 0x80;
    p.fu_end = fu & 0x40;
    // The R bit "MUST be ignored by the receiver".
    if (p.fu_start && p.fu_end) return Malformed("FU-A with both S and E set");
    const uint8_t inner = H264NalTypeOf(fu);
    if (!IsPlainNalType(inner)) return Malformed("FU-A fragmenting a NAL unit of type 0 or 24-31");
    p.fu_nal_header = static_cast<uint8_t>((header & 0xE0) | inner);
    p.fu_fragment = payload.subspan(2);
    return p;
  }
  if (type == kH264StapB || type == kH264Mtap16 || type == kH264Mtap24 || type == kH264FuB) {
    return Malformed(absl::StrCat("packet type ", type, " needs packetization-mode 2 (not supported)"));
  }
  return Malformed(absl::StrCat("reserved NAL unit type ", type));
}

absl::StatusOr<std::vector<Bytes>> AssembleH264AccessUnit(absl::Span<const ByteView> payloads) {
  std::vector<Bytes> out;
  std::optional<Bytes> open;  // the FU-A NAL unit being reassembled
  for (ByteView payload : payloads) {
    auto p = ParseH264Payload(payload);
    if (!p.ok()) return p.status();
    if (p->kind != H264Payload::Kind::kFuA) {
      if (open) return Malformed("FU-A interrupted before its end fragment");
      for (ByteView n : p->nal_units) out.emplace_back(n.begin(), n.end());
      continue;
    }
    if (p->fu_start) {
      if (open) return Malformed("FU-A start before the previous FU-A ended");
      open.emplace();
      open->reserve(1 + p->fu_fragment.size());
      open->push_back(p->fu_nal_header);
    } else {
      if (!open) return Malformed("FU-A fragment without its start");
      if (H264NalTypeOf((*open)[0]) != H264NalTypeOf(p->fu_nal_header)) {
        return Malformed("FU-A fragment of another NAL unit type");
      }
    }
    open->insert(open->end(), p->fu_fragment.begin(), p->fu_fragment.end());
    if (p->fu_end) {
      out.push_back(std::move(*open));
      open.reset();
    }
  }
  if (open) return Malformed("FU-A without its end fragment");
  return out;
}

std::vector<Bytes> PacketizeH264(absl::Span<const Bytes> nal_units, size_t max_payload) {
  std::vector<Bytes> out;
  if (max_payload < 3) return out;
  size_t i = 0;
  while (i < nal_units.size()) {
    const Bytes& nal = nal_units[i];
    if (nal.empty()) {
      ++i;
      continue;
    }
    if (nal.size() > max_payload) {
      // §5.8 FU-A: the NAL header's F/NRI go into the FU indicator, its type into the FU header;
      // the header byte itself is not sent.
      const size_t capacity = max_payload - 2;
      const size_t body = nal.size() - 1;
      const size_t count = (body + capacity - 1) / capacity;
      size_t pos = 1;
      for (size_t k = 0; k < count; ++k) {
        const size_t len = std::min(capacity, nal.size() - pos);
        Bytes p;
        p.push_back(static_cast<uint8_t>((nal[0] & 0xE0) | kH264FuA));
        p.push_back(static_cast<uint8_t>((k == 0 ? 0x80 : 0) | (k + 1 == count ? 0x40 : 0) | (nal[0] & 0x1F)));
        p.insert(p.end(), nal.begin() + pos, nal.begin() + pos + len);
        pos += len;
        out.push_back(std::move(p));
      }
      ++i;
      continue;
    }
    // §5.7.1 STAP-A: as many following NAL units as fit (NRI = the largest of theirs).
    size_t j = i, size = 1;
    uint8_t nri = 0;
    while (j < nal_units.size() && !nal_units[j].empty() && nal_units[j].size() <= 0xFFFF &&
           size + 2 + nal_units[j].size() <= max_payload) {
      size += 2 + nal_units[j].size();
      nri = std::max<uint8_t>(nri, nal_units[j][0] & 0x60);
      ++j;
    }
    if (j - i < 2) {
      out.push_back(nal);  // §5.6 single NAL unit packet
      ++i;
      continue;
    }
    Bytes p;
    p.push_back(static_cast<uint8_t>(nri | kH264StapA));
    for (size_t k = i; k < j; ++k) {
      p.push_back(static_cast<uint8_t>(nal_units[k].size() >> 8));
      p.push_back(static_cast<uint8_t>(nal_units[k].size()));
      p.insert(p.end(), nal_units[k].begin(), nal_units[k].end());
    }
    out.push_back(std::move(p));
    i = j;
  }
  return out;
}

Bytes H264UnescapeRbsp(ByteView escaped, size_t max_bytes) {
  Bytes out;
  const size_t n = std::min(escaped.size(), max_bytes);
  out.reserve(n);
  int zeros = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t b = escaped[i];
    // §7.4.1: within a NAL unit, 0x000003 is 0x0000 followed by an emulation_prevention_three_byte.
    if (zeros >= 2 && b == 0x03) {
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out.push_back(b);
  }
  return out;
}

absl::StatusOr<H264Sps> ParseH264Sps(ByteView nal_unit) {
  if (nal_unit.empty() || H264NalTypeOf(nal_unit[0]) != kH264NalSps) return Malformed("not an SPS NAL unit");
  const Bytes rbsp = H264UnescapeRbsp(nal_unit.subspan(1));
  BitReader r(rbsp);
  H264Sps s;
  s.profile_idc = static_cast<uint8_t>(r.Bits(8));
  s.constraint_flags = static_cast<uint8_t>(r.Bits(8));
  s.level_idc = static_cast<uint8_t>(r.Bits(8));
  s.sps_id = r.Ue();
  if (!r.ok()) return Malformed("SPS: truncated header");
  if (s.sps_id > 31) return Malformed("SPS: seq_parameter_set_id > 31");
  switch (s.profile_idc) {
    // §7.3.2.1.1: the profiles with chroma format, bit depth and scaling matrices in the SPS.
    case 100: case 110: case 122: case 244: case 44: case 83: case 86: case 118: case 128:
    case 138: case 139: case 134: case 135: {
      s.chroma_format_idc = r.Ue();
      if (!r.ok() || s.chroma_format_idc > 3) return Malformed("SPS: chroma_format_idc");
      if (s.chroma_format_idc == 3) s.separate_colour_plane = r.Flag();
      const uint32_t luma = r.Ue(), chroma = r.Ue();
      if (!r.ok() || luma > 6 || chroma > 6) return Malformed("SPS: bit depth");
      s.bit_depth_luma = 8 + luma;
      s.bit_depth_chroma = 8 + chroma;
      r.Flag();  // qpprime_y_zero_transform_bypass_flag
      if (r.Flag()) {  // seq_scaling_matrix_present_flag
        const int lists = s.chroma_format_idc != 3 ? 8 : 12;
        for (int i = 0; i < lists; ++i) {
          if (r.Flag() && !SkipScalingList(r, i < 6 ? 16 : 64)) return Malformed("SPS: scaling list");
        }
      }
      break;
    }
    default:
      break;
  }
  const uint32_t log2_max_frame_num_minus4 = r.Ue();
  if (!r.ok() || log2_max_frame_num_minus4 > 12) return Malformed("SPS: log2_max_frame_num_minus4");
  s.log2_max_frame_num = log2_max_frame_num_minus4 + 4;
  s.pic_order_cnt_type = r.Ue();
  if (!r.ok() || s.pic_order_cnt_type > 2) return Malformed("SPS: pic_order_cnt_type");
  if (s.pic_order_cnt_type == 0) {
    if (r.Ue() > 12) return Malformed("SPS: log2_max_pic_order_cnt_lsb_minus4");
  } else if (s.pic_order_cnt_type == 1) {
    r.Flag();  // delta_pic_order_always_zero_flag
    r.Se();    // offset_for_non_ref_pic
    r.Se();    // offset_for_top_to_bottom_field
    const uint32_t cycle = r.Ue();
    if (!r.ok() || cycle > 255) return Malformed("SPS: num_ref_frames_in_pic_order_cnt_cycle");
    for (uint32_t i = 0; i < cycle && r.ok(); ++i) r.Se();  // offset_for_ref_frame[i]
  }
  s.max_num_ref_frames = r.Ue();
  s.gaps_in_frame_num_allowed = r.Flag();
  const uint32_t width_mbs_minus1 = r.Ue();
  const uint32_t height_map_units_minus1 = r.Ue();
  s.frame_mbs_only = r.Flag();
  if (!s.frame_mbs_only) r.Flag();  // mb_adaptive_frame_field_flag
  r.Flag();                         // direct_8x8_inference_flag
  uint32_t crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;
  if (r.Flag()) {  // frame_cropping_flag
    crop_left = r.Ue();
    crop_right = r.Ue();
    crop_top = r.Ue();
    crop_bottom = r.Ue();
  }
  r.Flag();  // vui_parameters_present_flag: the VUI itself is not needed
  if (!r.ok()) return Malformed("SPS: truncated");
  if (s.max_num_ref_frames > 16) return Malformed("SPS: max_num_ref_frames > 16");

  // §7.4.2.1.1: PicWidthInMbs, FrameHeightInMbs and the cropping rectangle (CropUnitX/Y from
  // ChromaArrayType, Table 6-1 SubWidthC/SubHeightC).
  constexpr uint64_t kMaxPixels = 16384;
  const uint64_t width_mbs = uint64_t{width_mbs_minus1} + 1;
  const uint64_t height_mbs = (s.frame_mbs_only ? 1 : 2) * (uint64_t{height_map_units_minus1} + 1);
  if (width_mbs * 16 > kMaxPixels || height_mbs * 16 > kMaxPixels) return Malformed("SPS: picture too large");
  const uint32_t chroma_array_type = s.separate_colour_plane ? 0 : s.chroma_format_idc;
  uint64_t crop_unit_x = 1, crop_unit_y = s.frame_mbs_only ? 1 : 2;
  if (chroma_array_type != 0) {
    const uint64_t sub_width_c = chroma_array_type == 3 ? 1 : 2;
    const uint64_t sub_height_c = chroma_array_type == 1 ? 2 : 1;
    crop_unit_x = sub_width_c;
    crop_unit_y *= sub_height_c;
  }
  const uint64_t crop_x = crop_unit_x * (uint64_t{crop_left} + crop_right);
  const uint64_t crop_y = crop_unit_y * (uint64_t{crop_top} + crop_bottom);
  if (crop_x >= width_mbs * 16 || crop_y >= height_mbs * 16) return Malformed("SPS: cropping leaves no picture");
  s.width = static_cast<uint32_t>(width_mbs * 16 - crop_x);
  s.height = static_cast<uint32_t>(height_mbs * 16 - crop_y);
  return s;
}

absl::StatusOr<H264PpsIds> ParseH264PpsIds(ByteView nal_unit) {
  if (nal_unit.empty() || H264NalTypeOf(nal_unit[0]) != kH264NalPps) return Malformed("not a PPS NAL unit");
  // Two ue(v) of at most 33 bits each fit in the first 16 RBSP bytes.
  const Bytes rbsp = H264UnescapeRbsp(nal_unit.subspan(1), 16);
  BitReader r(rbsp);
  H264PpsIds ids;
  ids.pps_id = r.Ue();
  ids.sps_id = r.Ue();
  if (!r.ok()) return Malformed("PPS: truncated");
  if (ids.pps_id > 255 || ids.sps_id > 31) return Malformed("PPS: parameter set id out of range");
  return ids;
}

namespace {

absl::StatusOr<H264SliceStart> ReadSliceStart(BitReader& r, ByteView nal_unit) {
  if (nal_unit.empty()) return Malformed("empty slice NAL unit");
  const uint8_t type = H264NalTypeOf(nal_unit[0]);
  if (type != kH264NalSlice && type != kH264NalPartitionA && type != kH264NalIdr) return Malformed("not a slice NAL unit");
  H264SliceStart s;
  s.first_mb_in_slice = r.Ue();
  s.slice_type = r.Ue();
  s.pps_id = r.Ue();
  if (!r.ok()) return Malformed("slice header: truncated");
  if (s.slice_type > 9 || s.pps_id > 255) return Malformed("slice header: value out of range");
  return s;
}

}  // namespace

absl::StatusOr<H264SliceStart> ParseH264SliceStart(ByteView nal_unit) {
  // first_mb_in_slice, slice_type, pic_parameter_set_id, colour_plane_id and frame_num take at
  // most 33 + 33 + 33 + 2 + 16 bits: the first 32 RBSP bytes hold them.
  const Bytes rbsp = H264UnescapeRbsp(nal_unit.empty() ? nal_unit : nal_unit.subspan(1), 32);
  BitReader r(rbsp);
  return ReadSliceStart(r, nal_unit);
}

absl::StatusOr<uint32_t> ParseH264FrameNum(ByteView nal_unit, const H264Sps& sps) {
  const Bytes rbsp = H264UnescapeRbsp(nal_unit.empty() ? nal_unit : nal_unit.subspan(1), 32);
  BitReader r(rbsp);
  auto start = ReadSliceStart(r, nal_unit);
  if (!start.ok()) return start.status();
  if (sps.separate_colour_plane) r.Bits(2);  // colour_plane_id
  const uint32_t frame_num = r.Bits(static_cast<int>(std::min<uint32_t>(sps.log2_max_frame_num, 16)));
  if (!r.ok()) return Malformed("slice header: truncated frame_num");
  return frame_num;
}

}  // namespace refrtc::media
