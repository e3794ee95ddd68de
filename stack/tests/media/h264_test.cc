// H.264 passthrough: RFC 6184 depacketization, the SPS / PPS / slice header parsers (H.264 §7.3)
// and the sink's frame assembly, loss handling and key frame requests.
#include <algorithm>
#include <chrono>

#include "gtest/gtest.h"
#include "media/h264_rtp.h"
#include "media/media_internal.h"
#include "media/media_pipeline.h"
#include "util/random.h"

namespace refrtc::media {
namespace {

const Instant kStart = Instant() + std::chrono::seconds(1000);

// ---- bit writer for H.264 syntax (§7.2 u(n), §9.1 ue(v)/se(v)) ----

class BitWriter {
 public:
  void U(int n, uint64_t v) {
    for (int i = n - 1; i >= 0; --i) Bit((v >> i) & 1);
  }
  void Flag(bool b) { Bit(b); }
  void Ue(uint64_t v) {
    const uint64_t code = v + 1;
    int bits = 0;
    while ((code >> bits) > 1) ++bits;
    U(bits, 0);
    U(bits + 1, code);
  }
  void Se(int64_t v) { Ue(v > 0 ? static_cast<uint64_t>(2 * v - 1) : static_cast<uint64_t>(-2 * v)); }
  // §7.3.2.11 rbsp_trailing_bits: a one, then zeros to the byte boundary.
  Bytes Finish() {
    Bit(1);
    while (nbits_ % 8) Bit(0);
    return out_;
  }

 private:
  void Bit(uint64_t b) {
    if (nbits_ % 8 == 0) out_.push_back(0);
    if (b) out_.back() |= static_cast<uint8_t>(0x80 >> (nbits_ % 8));
    ++nbits_;
  }
  Bytes out_;
  size_t nbits_ = 0;
};

// §7.4.1: inserts emulation_prevention_three_byte where the RBSP has 0x0000 followed by 0..3.
Bytes Escape(const Bytes& rbsp) {
  Bytes out;
  int zeros = 0;
  for (uint8_t b : rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push_back(3);
      zeros = 0;
    }
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return out;
}

Bytes Nal(uint8_t header, const Bytes& rbsp) {
  Bytes out{header};
  Bytes e = Escape(rbsp);
  out.insert(out.end(), e.begin(), e.end());
  return out;
}

struct SpsFields {
  uint8_t profile = 66, constraints = 0xE0, level = 31;
  uint32_t sps_id = 0;
  uint32_t chroma_format_idc = 1;
  bool separate_colour_plane = false;
  bool scaling_matrix = false;
  uint32_t log2_max_frame_num_minus4 = 0;
  uint32_t poc_type = 2;
  uint32_t max_refs = 1;
  bool gaps = false;
  uint32_t width_mbs_minus1 = 19, height_map_units_minus1 = 14;
  bool frame_mbs_only = true;
  bool crop = false;
  uint32_t crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;
  int64_t offset_for_non_ref_pic = 0;
};

bool HighProfile(uint8_t p) {
  for (int q : {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}) {
    if (p == q) return true;
  }
  return false;
}

// seq_parameter_set_rbsp() of §7.3.2.1.1, written field by field.
Bytes SpsRbsp(const SpsFields& f) {
  BitWriter w;
  w.U(8, f.profile);
  w.U(8, f.constraints);
  w.U(8, f.level);
  w.Ue(f.sps_id);
  if (HighProfile(f.profile)) {
    w.Ue(f.chroma_format_idc);
    if (f.chroma_format_idc == 3) w.Flag(f.separate_colour_plane);
    w.Ue(0);  // bit_depth_luma_minus8
    w.Ue(0);  // bit_depth_chroma_minus8
    w.Flag(false);
    w.Flag(f.scaling_matrix);
    if (f.scaling_matrix) {
      const int lists = f.chroma_format_idc != 3 ? 8 : 12;
      for (int i = 0; i < lists; ++i) {
        const bool present = i % 2 == 0;
        w.Flag(present);
        if (!present) continue;
        const int size = i < 6 ? 16 : 64;
        if (i == 2) {
          w.Se(-8);  // nextScale 0 at j = 0: useDefaultScalingMatrixFlag, the list ends
          continue;
        }
        // A flat-ish list: deltas that walk the scale up and down within -128..127.
        for (int j = 0; j < size; ++j) w.Se(j % 3 == 0 ? 5 : -2);
      }
    }
  }
  w.Ue(f.log2_max_frame_num_minus4);
  w.Ue(f.poc_type);
  if (f.poc_type == 0) {
    w.Ue(2);
  } else if (f.poc_type == 1) {
    w.Flag(false);
    w.Se(f.offset_for_non_ref_pic);
    w.Se(-3);
    w.Ue(3);
    for (int i = 0; i < 3; ++i) w.Se(i * 2 - 1);
  }
  w.Ue(f.max_refs);
  w.Flag(f.gaps);
  w.Ue(f.width_mbs_minus1);
  w.Ue(f.height_map_units_minus1);
  w.Flag(f.frame_mbs_only);
  if (!f.frame_mbs_only) w.Flag(true);
  w.Flag(true);  // direct_8x8_inference_flag
  w.Flag(f.crop);
  if (f.crop) {
    w.Ue(f.crop_left);
    w.Ue(f.crop_right);
    w.Ue(f.crop_top);
    w.Ue(f.crop_bottom);
  }
  w.Flag(false);  // vui_parameters_present_flag
  return w.Finish();
}

Bytes Sps(const SpsFields& f) { return Nal(0x67, SpsRbsp(f)); }

Bytes Pps(uint32_t pps_id, uint32_t sps_id) {
  BitWriter w;
  w.Ue(pps_id);
  w.Ue(sps_id);
  w.Flag(false);  // entropy_coding_mode_flag (the rest of the PPS is not read)
  return Nal(0x68, w.Finish());
}

// A slice: its header up to frame_num (§7.3.3), then `body` pseudo-random bytes.
Bytes Slice(bool idr, uint8_t nal_ref_idc, uint32_t first_mb, uint32_t pps_id, uint32_t frame_num,
            uint32_t log2_max_frame_num, size_t body, Random& rng) {
  BitWriter w;
  w.Ue(first_mb);
  w.Ue(idr ? 7 : 5);  // I or P, all slices of the picture the same type
  w.Ue(pps_id);
  w.U(static_cast<int>(log2_max_frame_num), frame_num);
  if (idr) w.Ue(0);  // idr_pic_id
  Bytes rbsp = w.Finish();
  Bytes tail = rng.RandomBytes(body);
  rbsp.insert(rbsp.end(), tail.begin(), tail.end());
  return Nal(static_cast<uint8_t>(nal_ref_idc << 5 | (idr ? kH264NalIdr : kH264NalSlice)), rbsp);
}

// ---- SPS ----

TEST(H264Sps, Baseline320x240KnownBytes) {
  // Constrained Baseline 3.1 (42 e0 1f), sps_id 0, log2_max_frame_num 4, pic_order_cnt_type 2,
  // one reference frame, 20x15 macroblocks, progressive, no cropping, no VUI. Worked out by hand
  // from §7.3.2.1.1: ue(0)=1 ue(0)=1 ue(2)=011 ue(1)=010 | 0 ue(19)=000010100 ue(14)=0001111 |
  // 1 1 0 0, the stop bit and two zero bits: 11011010 00000101 00000111 11100100.
  const Bytes known = {0x67, 0x42, 0xE0, 0x1F, 0xDA, 0x05, 0x07, 0xE4};
  EXPECT_EQ(Sps(SpsFields{}), known);  // the test's writer agrees with the hand encoding
  auto sps = ParseH264Sps(known);
  ASSERT_TRUE(sps.ok()) << sps.status();
  EXPECT_EQ(sps->profile_idc, 66);
  EXPECT_EQ(sps->constraint_flags, 0xE0);
  EXPECT_EQ(sps->level_idc, 31);
  EXPECT_EQ(sps->sps_id, 0u);
  EXPECT_EQ(sps->log2_max_frame_num, 4u);
  EXPECT_EQ(sps->pic_order_cnt_type, 2u);
  EXPECT_EQ(sps->max_num_ref_frames, 1u);
  EXPECT_TRUE(sps->frame_mbs_only);
  EXPECT_EQ(sps->width, 320u);
  EXPECT_EQ(sps->height, 240u);
}

TEST(H264Sps, High1280x720WithScalingListsAndCropping) {
  SpsFields f;
  f.profile = 100;
  f.constraints = 0;
  f.level = 31;
  f.sps_id = 3;
  f.scaling_matrix = true;
  f.log2_max_frame_num_minus4 = 5;
  f.poc_type = 0;
  f.max_refs = 4;
  f.width_mbs_minus1 = 79;
  f.height_map_units_minus1 = 45;  // 736 lines coded
  f.crop = true;
  f.crop_bottom = 8;  // 4:2:0 progressive: CropUnitY = 2, 16 lines off
  auto sps = ParseH264Sps(Sps(f));
  ASSERT_TRUE(sps.ok()) << sps.status();
  EXPECT_EQ(sps->profile_idc, 100);
  EXPECT_EQ(sps->sps_id, 3u);
  EXPECT_EQ(sps->chroma_format_idc, 1u);
  EXPECT_EQ(sps->log2_max_frame_num, 9u);
  EXPECT_EQ(sps->max_num_ref_frames, 4u);
  EXPECT_EQ(sps->width, 1280u);
  EXPECT_EQ(sps->height, 720u);
}

TEST(H264Sps, CroppingUnitsFollowChromaFormatAndFieldCoding) {
  struct Case {
    uint8_t profile;
    uint32_t chroma;
    bool separate;
    bool frame_mbs_only;
    uint32_t w_mbs_m1, h_units_m1, left, right, top, bottom;
    uint32_t width, height;
  };
  const Case cases[] = {
      // 1080p 4:2:0: 1088 coded lines, CropUnitY 2.
      {100, 1, false, true, 119, 67, 0, 0, 0, 4, 1920, 1080},
      // 1080i 4:2:0: 34 map units of field pairs = 68 MB rows, CropUnitY = 2 * 2.
      {100, 1, false, false, 119, 33, 0, 0, 0, 2, 1920, 1080},
      // Baseline (chroma 4:2:0 implied): CropUnitX 2.
      {66, 1, false, true, 10, 8, 1, 2, 0, 0, 176 - 6, 144},
      // 4:2:2: SubWidthC 2, SubHeightC 1.
      {122, 2, false, true, 39, 29, 1, 1, 3, 0, 640 - 4, 480 - 3},
      // 4:4:4: crop units 1 (12 scaling lists when present).
      {244, 3, false, true, 39, 29, 1, 2, 3, 4, 640 - 3, 480 - 7},
      // separate_colour_plane: ChromaArrayType 0, crop units 1 (2 for fields).
      {244, 3, true, false, 39, 14, 2, 0, 1, 0, 640 - 2, 480 - 2},
  };
  for (const auto& c : cases) {
    SpsFields f;
    f.profile = c.profile;
    f.chroma_format_idc = c.chroma;
    f.separate_colour_plane = c.separate;
    f.scaling_matrix = c.chroma == 3;
    f.frame_mbs_only = c.frame_mbs_only;
    f.width_mbs_minus1 = c.w_mbs_m1;
    f.height_map_units_minus1 = c.h_units_m1;
    f.crop = true;
    f.crop_left = c.left;
    f.crop_right = c.right;
    f.crop_top = c.top;
    f.crop_bottom = c.bottom;
    auto sps = ParseH264Sps(Sps(f));
    ASSERT_TRUE(sps.ok()) << sps.status() << " profile " << int(c.profile);
    EXPECT_EQ(sps->width, c.width) << int(c.profile) << " chroma " << c.chroma;
    EXPECT_EQ(sps->height, c.height) << int(c.profile) << " chroma " << c.chroma;
    EXPECT_EQ(sps->separate_colour_plane, c.separate);
  }
}

TEST(H264Sps, EmulationPreventionIsRemoved) {
  // pic_order_cnt_type 1 with a large offset_for_non_ref_pic: its se(v) has 25-bit runs of zeros,
  // so the escaped SPS carries 0x000003 sequences.
  SpsFields f;
  f.poc_type = 1;
  f.offset_for_non_ref_pic = int64_t{1} << 24;
  f.width_mbs_minus1 = 39;
  f.height_map_units_minus1 = 29;
  const Bytes rbsp = SpsRbsp(f);
  const Bytes nal = Sps(f);
  ASSERT_GT(nal.size(), rbsp.size() + 1);
  bool has_epb = false;
  for (size_t i = 2; i < nal.size(); ++i) has_epb |= nal[i - 2] == 0 && nal[i - 1] == 0 && nal[i] == 3;
  ASSERT_TRUE(has_epb);
  EXPECT_EQ(H264UnescapeRbsp(ByteView(nal).subspan(1)), rbsp);
  auto sps = ParseH264Sps(nal);
  ASSERT_TRUE(sps.ok()) << sps.status();
  EXPECT_EQ(sps->pic_order_cnt_type, 1u);
  EXPECT_EQ(sps->width, 640u);
  EXPECT_EQ(sps->height, 480u);
  EXPECT_EQ(H264UnescapeRbsp(Bytes{0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x03}),
            (Bytes{0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03}));
}

TEST(H264Sps, RejectsMalformed) {
  const Bytes good = Sps(SpsFields{});
  // Every truncation fails cleanly (the stop bit is the last byte's; the VUI flag is in it).
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ParseH264Sps(ByteView(good.data(), n)).ok()) << n;
  }
  SpsFields f;
  f.sps_id = 32;
  EXPECT_FALSE(ParseH264Sps(Sps(f)).ok());
  f = SpsFields{};
  f.crop = true;
  f.crop_right = 160;  // 2 * 160 = the whole width
  EXPECT_FALSE(ParseH264Sps(Sps(f)).ok());
  f = SpsFields{};
  f.width_mbs_minus1 = 1024;  // 16400 pixels
  EXPECT_FALSE(ParseH264Sps(Sps(f)).ok());
  f = SpsFields{};
  f.log2_max_frame_num_minus4 = 13;
  EXPECT_FALSE(ParseH264Sps(Sps(f)).ok());
  f = SpsFields{};
  f.poc_type = 3;
  EXPECT_FALSE(ParseH264Sps(Sps(f)).ok());
  f = SpsFields{};
  f.profile = 100;
  f.chroma_format_idc = 4;
  EXPECT_FALSE(ParseH264Sps(Sps(f)).ok());
  Bytes not_sps = good;
  not_sps[0] = 0x68;
  EXPECT_FALSE(ParseH264Sps(not_sps).ok());
  // 32+ leading zeros in a ue(v).
  EXPECT_FALSE(ParseH264Sps(Bytes{0x67, 0x42, 0, 0x1F, 0, 0, 0, 0, 0, 0, 1}).ok());
}

TEST(H264Headers, PpsAndSliceStart) {
  auto ids = ParseH264PpsIds(Pps(200, 17));
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->pps_id, 200u);
  EXPECT_EQ(ids->sps_id, 17u);
  EXPECT_FALSE(ParseH264PpsIds(Pps(256, 0)).ok());
  EXPECT_FALSE(ParseH264PpsIds(Pps(0, 32)).ok());
  EXPECT_FALSE(ParseH264PpsIds(Bytes{0x68}).ok());

  Random rng(1);
  H264Sps sps;
  sps.log2_max_frame_num = 9;
  Bytes slice = Slice(false, 2, 99, 5, 300, 9, 40, rng);
  auto start = ParseH264SliceStart(slice);
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(start->first_mb_in_slice, 99u);
  EXPECT_EQ(start->slice_type, 5u);
  EXPECT_EQ(start->pps_id, 5u);
  auto fn = ParseH264FrameNum(slice, sps);
  ASSERT_TRUE(fn.ok()) << fn.status();
  EXPECT_EQ(*fn, 300u);
  sps.separate_colour_plane = true;  // colour_plane_id shifts frame_num by 2 bits
  EXPECT_NE(*ParseH264FrameNum(slice, sps), 300u);
  EXPECT_FALSE(ParseH264SliceStart(Bytes{0x41}).ok());
  EXPECT_FALSE(ParseH264SliceStart(Pps(0, 0)).ok());
}

// ---- RTP payloads ----

TEST(H264Payload, SingleStapAAndFuA) {
  const Bytes single = {0x65, 0x88, 0x84, 0x00};
  auto p = ParseH264Payload(single);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, H264Payload::Kind::kSingleNal);
  ASSERT_EQ(p->nal_units.size(), 1u);
  EXPECT_TRUE(p->HasIdr());
  EXPECT_TRUE(p->StartsAccessUnit());  // first_mb_in_slice ue '1' = 0

  const Bytes stap = {0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68, 0x00, 0x03, 0x41, 0x9A, 0x00};
  p = ParseH264Payload(stap);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kind, H264Payload::Kind::kStapA);
  ASSERT_EQ(p->nal_units.size(), 3u);
  EXPECT_EQ(Bytes(p->nal_units[0].begin(), p->nal_units[0].end()), (Bytes{0x67, 0x42}));
  EXPECT_EQ(Bytes(p->nal_units[1].begin(), p->nal_units[1].end()), (Bytes{0x68}));
  EXPECT_EQ(Bytes(p->nal_units[2].begin(), p->nal_units[2].end()), (Bytes{0x41, 0x9A, 0x00}));
  EXPECT_TRUE(p->StartsAccessUnit());  // SPS first
  EXPECT_FALSE(p->HasIdr());

  const Bytes fu_start = {0x7C, 0x85, 0x88, 0x01};  // NRI 3, S, type 5
  p = ParseH264Payload(fu_start);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, H264Payload::Kind::kFuA);
  EXPECT_TRUE(p->fu_start);
  EXPECT_FALSE(p->fu_end);
  EXPECT_EQ(p->fu_nal_header, 0x65);
  EXPECT_TRUE(p->HasIdr());
  EXPECT_TRUE(p->StartsAccessUnit());
  const Bytes fu_end = {0x7C, 0x45, 0x02};
  p = ParseH264Payload(fu_end);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->fu_end);
  EXPECT_FALSE(p->StartsAccessUnit());
  // A second slice (first_mb_in_slice 1 = '010') does not start an access unit.
  EXPECT_FALSE(ParseH264Payload(Bytes{0x41, 0x40, 0x00})->StartsAccessUnit());
  // An access unit delimiter does.
  EXPECT_TRUE(ParseH264Payload(Bytes{0x09, 0xF0})->StartsAccessUnit());

  auto au = AssembleH264AccessUnit({ByteView(stap), ByteView(fu_start), ByteView(Bytes{0x7C, 0x05, 0x03}), ByteView(fu_end)});
  ASSERT_TRUE(au.ok()) << au.status();
  ASSERT_EQ(au->size(), 4u);
  EXPECT_EQ((*au)[3], (Bytes{0x65, 0x88, 0x01, 0x03, 0x02}));
}

TEST(H264Payload, MalformedIsRejected) {
  const std::vector<Bytes> bad = {
      {},                                // empty
      {0xE5, 0x00},                      // forbidden_zero_bit
      {0x00, 0x01},                      // NAL type 0
      {0x1E, 0x01},                      // 30
      {0x1F, 0x01},                      // 31
      {0x19, 0x00, 0x00, 0x00, 0x01, 0x41},  // STAP-B
      {0x1A, 0x00},                      // MTAP16
      {0x1B, 0x00},                      // MTAP24
      {0x1D, 0x85, 0x00, 0x00, 0x01},    // FU-B
      {0x78},                            // STAP-A without aggregation units
      {0x78, 0x00},                      // truncated NALU size
      {0x78, 0x00, 0x02, 0x67, 0x42, 0x00},  // second size truncated
      {0x78, 0x00, 0x05, 0x67, 0x42},    // size beyond the payload
      {0x78, 0x00, 0x00, 0x00, 0x01, 0x41},  // zero-size unit
      {0x78, 0x00, 0x02, 0x7C, 0x85},    // FU-A inside STAP-A
      {0x78, 0x00, 0x01, 0x00},          // type 0 inside STAP-A
      {0x7C},                            // FU-A without FU header
      {0x7C, 0x85},                      // FU-A without fragment
      {0x7C, 0xC5, 0x00},                // S and E both set
      {0x7C, 0x98, 0x00},                // FU-A of an aggregation packet type
  };
  for (const auto& b : bad) {
    EXPECT_FALSE(ParseH264Payload(b).ok()) << testing::PrintToString(b);
  }
  // Reassembly errors.
  const Bytes s = {0x7C, 0x85, 1}, m = {0x7C, 0x05, 2}, e = {0x7C, 0x45, 3}, m1 = {0x7C, 0x01, 2};
  const Bytes single = {0x41, 0x80};
  EXPECT_FALSE(AssembleH264AccessUnit({ByteView(m), ByteView(e)}).ok());         // no start
  EXPECT_FALSE(AssembleH264AccessUnit({ByteView(s), ByteView(m)}).ok());         // no end
  EXPECT_FALSE(AssembleH264AccessUnit({ByteView(s), ByteView(s), ByteView(e)}).ok());  // start twice
  EXPECT_FALSE(AssembleH264AccessUnit({ByteView(s), ByteView(m1), ByteView(e)}).ok());  // type change
  EXPECT_FALSE(AssembleH264AccessUnit({ByteView(s), ByteView(single), ByteView(e)}).ok());
  EXPECT_TRUE(AssembleH264AccessUnit({ByteView(s), ByteView(m), ByteView(e)}).ok());
}

TEST(H264Payload, PacketizeRoundTrips) {
  Random rng(7);
  for (size_t max_payload : {3u, 10u, 100u, 1200u}) {
    std::vector<Bytes> nals;
    for (int i = 0; i < 12; ++i) {
      Bytes n = rng.RandomBytes(rng.Range(1, 3000));
      n[0] = static_cast<uint8_t>(0x60 | rng.Range(1, 23));
      nals.push_back(n);
      if (i % 3 == 0) {  // two small SEI NAL units: aggregated when they fit
        nals.push_back(Bytes{0x06, 0x05});
        nals.push_back(Bytes{0x06, 0x04, 0x01});
      }
    }
    auto packets = PacketizeH264(nals, max_payload);
    bool saw_stap = false, saw_fu = false;
    for (const auto& p : packets) {
      EXPECT_LE(p.size(), max_payload);
      saw_stap |= (p[0] & 0x1F) == kH264StapA;
      saw_fu |= (p[0] & 0x1F) == kH264FuA;
    }
    EXPECT_TRUE(saw_fu) << max_payload;
    if (max_payload >= 10) {
      EXPECT_TRUE(saw_stap) << max_payload;
    }
    std::vector<ByteView> views(packets.begin(), packets.end());
    auto au = AssembleH264AccessUnit(views);
    ASSERT_TRUE(au.ok()) << au.status();
    EXPECT_EQ(*au, nals) << max_payload;
  }
}

// ---- the sink ----

struct Packet {
  uint16_t seq;
  uint32_t ts;
  bool marker;
  Bytes payload;
  int frame;
};

struct StreamOptions {
  int frames = 60;
  int keyframe_interval = 30;
  size_t max_payload = 1200;
  size_t slice_bytes = 3000;  // > max_payload: FU-A
  int slices = 1;
  bool non_reference_every_third = false;
  bool marker = true;
  uint16_t first_seq = 65500;  // wraps during the stream
  uint32_t ts_base = 0xFFFFF000u;
  SpsFields sps;
};

// An H.264-shaped stream: key frames are [SPS, PPS, IDR slices] (the parameter sets aggregated
// in a STAP-A), other frames [P slices]; frame_num per §7.4.3.
std::vector<Packet> MakeStream(const StreamOptions& o) {
  Random rng(42);
  std::vector<Packet> out;
  uint16_t seq = o.first_seq;
  uint32_t frame_num = 0;
  const uint32_t log2_max = o.sps.log2_max_frame_num_minus4 + 4;
  const uint32_t mbs = (o.sps.width_mbs_minus1 + 1) * (o.sps.height_map_units_minus1 + 1);
  for (int k = 0; k < o.frames; ++k) {
    const bool key = k % o.keyframe_interval == 0;
    std::vector<Bytes> nals;
    uint8_t ref = 3;
    if (key) {
      frame_num = 0;
      nals.push_back(Sps(o.sps));
      nals.push_back(Pps(0, o.sps.sps_id));
    } else if (o.non_reference_every_third && k % 3 == 2) {
      ref = 0;
    }
    for (int s = 0; s < o.slices; ++s) {
      nals.push_back(Slice(key, ref, s * mbs / o.slices, 0, frame_num, log2_max, o.slice_bytes / o.slices, rng));
    }
    if (ref != 0) frame_num = (frame_num + 1) % (1u << log2_max);
    auto payloads = PacketizeH264(nals, o.max_payload);
    for (size_t i = 0; i < payloads.size(); ++i) {
      out.push_back(Packet{seq++, o.ts_base + 3000u * static_cast<uint32_t>(k),
                           o.marker && i + 1 == payloads.size(), std::move(payloads[i]), k});
    }
  }
  return out;
}

std::unique_ptr<MediaSink> MakeH264Sink() {
  auto codecs = SupportedVideoCodecs();
  EXPECT_EQ(codecs.size(), 2u);
  auto s = MediaSink::Create(codecs.back());
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

// Feeds packets `spacing` apart; returns how many key frame requests were taken.
int Feed(MediaSink& sink, const std::vector<Packet>& packets, Duration spacing, Instant start = kStart) {
  Instant now = start;
  int requests = 0;
  for (const auto& p : packets) {
    sink.OnRtp(p.seq, p.ts, p.marker, p.payload, now);
    requests += sink.TakeKeyframeRequest();
    now += spacing;
  }
  return requests;
}

TEST(H264Codec, SupportedAndFactories) {
  auto video = SupportedVideoCodecs();
  ASSERT_EQ(video.size(), 2u);
  EXPECT_EQ(video[0].name, "VP8");
  EXPECT_TRUE(video[0].can_encode);
  EXPECT_EQ(video[1].name, "H264");
  EXPECT_EQ(video[1].clock_rate, 90000u);
  EXPECT_EQ(video[1].fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  EXPECT_FALSE(video[1].can_encode);
  for (const auto& c : SupportedAudioCodecs()) EXPECT_TRUE(c.can_encode) << c.name;

  auto src = MediaSource::Create("pattern", video[1], kStart);
  EXPECT_EQ(src.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(MediaSource::Create("pattern", CodecSpec{"h264", 90000, 1, ""}, kStart).status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(MediaSink::Create(CodecSpec{"H264", 8000, 1, ""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MediaSink::Create(CodecSpec{"H264", 90000, 1, "profile-level-id=42e01f; packetization-mode=2"})
                .status()
                .code(),
            absl::StatusCode::kUnimplemented);
  auto mode0 = MediaSink::Create(CodecSpec{"h264", 90000, 1, "profile-level-id=42e01f"});
  ASSERT_TRUE(mode0.ok());
  EXPECT_EQ((*mode0)->kind(), MediaKind::kVideo);
}

TEST(H264Sink, CleanStreamFuAAndStapA) {
  for (int slices : {1, 3}) {
    StreamOptions o;
    o.slices = slices;
    auto sink = MakeH264Sink();
    auto packets = MakeStream(o);
    EXPECT_EQ(Feed(*sink, packets, std::chrono::milliseconds(3)), 0);
    auto info = sink->Info();
    EXPECT_EQ(info.kind, MediaKind::kVideo);
    EXPECT_EQ(info.frames_received, 60u) << slices;
    EXPECT_EQ(info.keyframes_received, 2u);
    EXPECT_EQ(info.frames_dropped, 0u);
    EXPECT_EQ(info.frames_decoded, 0u);
    EXPECT_EQ(info.width, 320u);
    EXPECT_EQ(info.height, 240u);
    EXPECT_EQ(sink->malformed_payloads(), 0u);
  }
}

TEST(H264Sink, SingleNalPacketsAndHighProfileSize) {
  StreamOptions o;
  o.slice_bytes = 200;  // fits: single NAL unit packets (SPS/PPS/IDR aggregated in one STAP-A)
  o.sps.profile = 100;
  o.sps.width_mbs_minus1 = 79;
  o.sps.height_map_units_minus1 = 45;
  o.sps.crop = true;
  o.sps.crop_bottom = 8;
  o.sps.scaling_matrix = true;
  auto packets = MakeStream(o);
  size_t stap = 0, single = 0;
  for (const auto& p : packets) (p.payload[0] & 0x1F) == kH264StapA ? ++stap : ++single;
  EXPECT_EQ(stap, 2u);
  EXPECT_EQ(single, 58u);
  auto sink = MakeH264Sink();
  Feed(*sink, packets, std::chrono::milliseconds(3));
  auto info = sink->Info();
  EXPECT_EQ(info.frames_received, 60u);
  EXPECT_EQ(info.keyframes_received, 2u);
  EXPECT_EQ(info.width, 1280u);
  EXPECT_EQ(info.height, 720u);
}

TEST(H264Sink, LostFuAFragmentDropsFrameAndRequestsKeyframe) {
  for (bool rtx : {false, true}) {
    StreamOptions o;
    auto packets = MakeStream(o);
    std::vector<Packet> sent;
    bool lost = false;
    for (const auto& p : packets) {
      // Frame 5's middle FU-A fragment (3000-byte slice: 3 fragments).
      if (p.frame == 5 && !lost && (p.payload[1] & 0xC0) == 0) {
        lost = true;
        continue;
      }
      sent.push_back(p);
    }
    ASSERT_TRUE(lost);
    auto sink = MakeH264Sink();
    sink->SetRetransmissionsExpected(rtx);
    // 33 ms per frame (~11 ms per packet): with NACK/RTX the gap is waited on for 400 ms.
    int requests = Feed(*sink, sent, std::chrono::milliseconds(11));
    EXPECT_GE(requests, 1) << rtx;
    auto info = sink->Info();
    EXPECT_EQ(info.frames_received, 5u + 30u) << rtx;  // 0..4, then 30..59 after the key frame
    EXPECT_EQ(info.frames_dropped, 1u + 24u) << rtx;   // frame 5, then 6..29 undecodable
    EXPECT_EQ(info.keyframes_received, 2u);
    EXPECT_EQ(sink->malformed_payloads(), 0u);
  }
}

TEST(H264Sink, RetransmittedPacketIsWaitedForWithRtx) {
  StreamOptions o;
  auto packets = MakeStream(o);
  // Packet 20 arrives 8 packets (~90 ms) late, as a retransmission would.
  std::vector<Packet> sent = packets;
  Packet late = sent[20];
  sent.erase(sent.begin() + 20);
  sent.insert(sent.begin() + 28, late);
  {
    auto sink = MakeH264Sink();
    sink->SetRetransmissionsExpected(true);
    EXPECT_EQ(Feed(*sink, sent, std::chrono::milliseconds(11)), 0);
    EXPECT_EQ(sink->Info().frames_received, 60u);
    EXPECT_EQ(sink->Info().frames_dropped, 0u);
  }
  {
    // Without NACK/RTX, later complete frames end the wait: the frame is given up.
    auto sink = MakeH264Sink();
    EXPECT_GE(Feed(*sink, sent, std::chrono::milliseconds(11)), 1);
    EXPECT_LT(sink->Info().frames_received, 60u);
    EXPECT_GT(sink->Info().frames_dropped, 0u);
  }
}

TEST(H264Sink, ReorderedAndDuplicatedPackets) {
  StreamOptions o;
  o.max_payload = 500;
  o.slices = 2;
  auto packets = MakeStream(o);
  // Reverse each frame's packets and send its first packet twice; swap adjacent frames' last
  // and first packets too.
  std::vector<Packet> shuffled;
  size_t i = 0;
  while (i < packets.size()) {
    size_t j = i;
    while (j < packets.size() && packets[j].frame == packets[i].frame) ++j;
    for (size_t k = j; k > i; --k) shuffled.push_back(packets[k - 1]);
    shuffled.push_back(packets[i]);
    i = j;
  }
  for (size_t k = 10; k + 1 < shuffled.size(); k += 17) std::swap(shuffled[k], shuffled[k + 1]);
  auto sink = MakeH264Sink();
  EXPECT_EQ(Feed(*sink, shuffled, std::chrono::milliseconds(1)), 0);
  auto info = sink->Info();
  EXPECT_EQ(info.frames_received, 60u);
  EXPECT_EQ(info.frames_dropped, 0u);
  EXPECT_EQ(sink->malformed_payloads(), 0u);
}

TEST(H264Sink, LostPaddingIsNotALossButALostFrameIs) {
  StreamOptions o;
  o.sps.log2_max_frame_num_minus4 = 0;  // MaxFrameNum 16: frame_num wraps during the stream
  auto packets = MakeStream(o);
  // After every frame, two padding-only (empty) packets; one in three is lost. Frame 40 is lost
  // entirely in variant 1: only frame_num continuity tells that from lost padding.
  for (int variant = 0; variant < 2; ++variant) {
    std::vector<Packet> sent;
    uint16_t seq = 0;
    int n = 0;
    for (const auto& p : packets) {
      Packet q = p;
      q.seq = seq++;
      if (!(variant == 1 && p.frame == 40)) sent.push_back(q);
      if (p.marker) {
        for (int k = 0; k < 2; ++k) {
          Packet pad{seq++, p.ts, false, {}, p.frame};
          if (++n % 3 != 0) sent.push_back(pad);
        }
      }
    }
    auto sink = MakeH264Sink();
    int requests = Feed(*sink, sent, std::chrono::milliseconds(3));
    auto info = sink->Info();
    EXPECT_EQ(sink->malformed_payloads(), 0u);
    if (variant == 0) {
      EXPECT_EQ(requests, 0);
      EXPECT_EQ(info.frames_received, 60u);
      EXPECT_EQ(info.frames_dropped, 0u);
    } else {
      EXPECT_GE(requests, 1);
      EXPECT_EQ(info.frames_received, 40u);       // 0..39; 41..59 need a key frame
      EXPECT_EQ(info.frames_dropped, 1u + 19u);   // the gap, then 41..59
    }
  }
}

TEST(H264Sink, LostNonReferenceFrameDoesNotStopTheStream) {
  StreamOptions o;
  o.non_reference_every_third = true;
  auto packets = MakeStream(o);
  std::vector<Packet> sent;
  for (const auto& p : packets) {
    if (p.frame != 8) sent.push_back(p);  // frame 8 is non-reference (nal_ref_idc 0)
  }
  auto sink = MakeH264Sink();
  EXPECT_EQ(Feed(*sink, sent, std::chrono::milliseconds(3)), 0);
  // Nothing depends on it (§7.4.3: the next frame_num is the same), so decoding could go on.
  EXPECT_EQ(sink->Info().frames_received, 59u);
  EXPECT_EQ(sink->Info().frames_dropped, 0u);
  // A lost reference frame (frame 7) is seen.
  sent.clear();
  for (const auto& p : packets) {
    if (p.frame != 7) sent.push_back(p);
  }
  sink = MakeH264Sink();
  EXPECT_GE(Feed(*sink, sent, std::chrono::milliseconds(3)), 1);
  EXPECT_EQ(sink->Info().frames_received, 7u + 30u);
}

TEST(H264Sink, MissingMarkerEndsFrameAtNextAccessUnit) {
  StreamOptions o;
  o.marker = false;
  auto sink = MakeH264Sink();
  Feed(*sink, MakeStream(o), std::chrono::milliseconds(3));
  // Every frame but the last (whose end is never seen) is assembled.
  EXPECT_EQ(sink->Info().frames_received, 59u);
  EXPECT_EQ(sink->Info().frames_dropped, 0u);
}

TEST(H264Sink, KeyframeWithoutParameterSetsIsNotUsable) {
  StreamOptions o;
  auto packets = MakeStream(o);
  ASSERT_EQ(packets[0].payload[0] & 0x1F, kH264StapA);  // SPS + PPS
  packets.erase(packets.begin());
  auto sink = MakeH264Sink();
  EXPECT_GE(Feed(*sink, packets, std::chrono::milliseconds(3)), 1);
  auto info = sink->Info();
  EXPECT_EQ(info.keyframes_received, 1u);  // only frame 30
  EXPECT_EQ(info.frames_received, 30u);
  EXPECT_EQ(info.width, 320u);
}

TEST(H264Sink, NoKeyframeWithin500MsRequestsOneRateLimited) {
  StreamOptions o;
  auto packets = MakeStream(o);
  auto sink = MakeH264Sink();
  std::vector<int> request_ms;
  for (const auto& p : packets) {
    if (p.frame == 0) continue;  // the key frame is lost
    const Instant now = kStart + std::chrono::milliseconds(33 * p.frame);
    sink->OnRtp(p.seq, p.ts, p.marker, p.payload, now);
    if (sink->TakeKeyframeRequest()) request_ms.push_back(static_cast<int>(ToMillis(now - kStart)));
    if (p.frame == 29) break;
  }
  ASSERT_GE(request_ms.size(), 2u);
  // First packet at 33 ms: the first request 500 ms later, the next at least 300 ms after it.
  EXPECT_GE(request_ms[0], 533);
  EXPECT_LT(request_ms[0], 533 + 40);
  EXPECT_GE(request_ms[1] - request_ms[0], 300);
  EXPECT_EQ(sink->Info().frames_received, 0u);
  EXPECT_GT(sink->Info().frames_dropped, 0u);
}

TEST(H264Sink, MalformedPayloadsAreCountedAndDropped) {
  StreamOptions o;
  o.frames = 10;
  o.keyframe_interval = 5;
  auto packets = MakeStream(o);
  auto sink = MakeH264Sink();
  Instant now = kStart;
  // Frames 0..1 clean.
  size_t i = 0;
  for (; packets[i].frame < 2; ++i) sink->OnRtp(packets[i].seq, packets[i].ts, packets[i].marker, packets[i].payload, now);
  EXPECT_EQ(sink->Info().frames_received, 2u);
  // Rejected at parsing (their sequence numbers are consumed as losses later).
  const std::vector<Bytes> bad = {{0x78, 0x00}, {0x78, 0x00, 0x09, 0x41}, {0x78}, {0x1F}, {0x1A, 0, 0}, {0x7C}};
  uint16_t seq = static_cast<uint16_t>(packets.back().seq + 100);
  for (const auto& b : bad) sink->OnRtp(seq++, 1, true, b, now);
  EXPECT_EQ(sink->malformed_payloads(), bad.size());
  // An FU-A middle fragment right after a complete frame (its start was never sent): the stream is
  // broken, counted once more, and frame 2 is lost with it.
  Packet orphan = packets[i];
  ASSERT_EQ(orphan.frame, 2);
  ASSERT_EQ(orphan.payload[0] & 0x1F, kH264FuA);
  orphan.payload[1] &= 0x7F;  // clear S
  sink->OnRtp(orphan.seq, orphan.ts, false, orphan.payload, now);
  EXPECT_EQ(sink->malformed_payloads(), bad.size() + 1);
  EXPECT_TRUE(sink->TakeKeyframeRequest());
  for (++i; i < packets.size(); ++i) {
    now += std::chrono::milliseconds(3);
    sink->OnRtp(packets[i].seq, packets[i].ts, packets[i].marker, packets[i].payload, now);
  }
  auto info = sink->Info();
  EXPECT_EQ(info.frames_received, 2u + 5u);  // 0, 1 and the second GOP
  EXPECT_EQ(info.frames_dropped, 1u + 2u);   // 2, then 3 and 4 without a key frame
  EXPECT_EQ(sink->malformed_payloads(), bad.size() + 1);
}

TEST(H264Sink, AssembledGarbageNeverCrashes) {
  // Well-formed packets around garbage NAL units: SPS/PPS/slices that do not parse.
  auto sink = MakeH264Sink();
  Random rng(3);
  Instant now = kStart;
  uint16_t seq = 0;
  for (int k = 0; k < 300; ++k) {
    std::vector<Bytes> nals;
    for (int n = 0; n < 3; ++n) {
      Bytes nal = rng.RandomBytes(rng.Range(1, 60));
      const uint8_t types[] = {1, 5, 7, 8, 9, 6};
      nal[0] = static_cast<uint8_t>(0x60 | types[rng.Range(0, 5)]);
      nals.push_back(nal);
    }
    auto payloads = PacketizeH264(nals, rng.Range(3, 80));
    for (size_t i = 0; i < payloads.size(); ++i) {
      sink->OnRtp(seq++, 3000u * k, i + 1 == payloads.size(), payloads[i], now);
      sink->TakeKeyframeRequest();
      now += std::chrono::milliseconds(2);
    }
  }
  auto info = sink->Info();
  EXPECT_LE(info.frames_received + info.frames_dropped, 300u + 300u);
  EXPECT_LE(info.keyframes_received, info.frames_received);
}

}  // namespace
}  // namespace refrtc::media
