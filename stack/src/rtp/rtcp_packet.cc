// RTCP parse/serialize. Section references are to RFC 3550 unless stated otherwise.
#include "rtp/rtcp_packet.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace refrtc::rtp {
namespace {

constexpr size_t kReportBlockSize = 24;  // §6.4.1
constexpr uint32_t kRembIdentifier = 0x52454D42;  // 'R' 'E' 'M' 'B'

absl::Status Malformed(absl::string_view what) { return absl::InvalidArgumentError(absl::StrCat("rtcp: ", what)); }

absl::Status Expect(const RtcpBlock& b, uint8_t pt, std::optional<uint8_t> fmt, absl::string_view name) {
  if (b.packet_type != pt || (fmt && b.count != *fmt))
    return Malformed(absl::StrCat("not a ", name, " packet (PT ", b.packet_type, ", count/FMT ", b.count, ")"));
  return absl::OkStatus();
}

int32_t SignExtend24(uint32_t v) { return static_cast<int32_t>((v & 0xFFFFFF) ^ 0x800000) - 0x800000; }

// §6.4.1 report block (24 bytes); the caller checked the length.
ReportBlock ReadReportBlock(ByteReader& r) {
  ReportBlock rb;
  rb.source_ssrc = Ssrc(*r.U32());
  const uint32_t lost_word = *r.U32();
  rb.fraction_lost = static_cast<uint8_t>(lost_word >> 24);
  rb.cumulative_lost = SignExtend24(lost_word);
  rb.extended_highest_sequence = *r.U32();
  rb.jitter = *r.U32();
  rb.last_sr = *r.U32();
  rb.delay_since_last_sr = *r.U32();
  return rb;
}

absl::Status ReadReportBlocks(ByteReader& r, size_t count, std::vector<ReportBlock>* out) {
  if (r.remaining() < count * kReportBlockSize) return Malformed("report blocks past the end of the packet");
  out->reserve(count);
  for (size_t i = 0; i < count; ++i) out->push_back(ReadReportBlock(r));
  return absl::OkStatus();
}

Bytes Rest(ByteReader& r) {
  auto v = r.Take(r.remaining());
  return Bytes(v->begin(), v->end());
}

// Writes the §6.4.1 common header with a placeholder length; Finish() patches it.
class PacketWriter {
 public:
  PacketWriter(Bytes* out, uint8_t count, uint8_t pt) : out_(out), w_(out), start_(out->size()) {
    w_.U8(static_cast<uint8_t>(0x80 | (count & 0x1F)));
    w_.U8(pt);
    w_.U16(0);
  }
  ByteWriter& w() { return w_; }
  void PadTo32() { w_.Zeros((4 - (out_->size() - start_) % 4) % 4); }
  absl::Status Finish() {
    const size_t size = out_->size() - start_;
    if (size % 4 != 0) return Malformed("packet body is not a multiple of 32 bits");
    if (size / 4 - 1 > 0xFFFF) return Malformed("packet longer than 65536 words");
    w_.PatchU16(start_ + 2, static_cast<uint16_t>(size / 4 - 1));
    return absl::OkStatus();
  }

 private:
  Bytes* out_;
  ByteWriter w_;
  size_t start_;
};

void WriteReportBlock(ByteWriter& w, const ReportBlock& rb) {
  w.U32(rb.source_ssrc.value());
  // A.3: cumulative lost is clamped to the 24-bit signed range.
  const int32_t lost = std::clamp<int32_t>(rb.cumulative_lost, -0x800000, 0x7FFFFF);
  w.U32(static_cast<uint32_t>(rb.fraction_lost) << 24 | (static_cast<uint32_t>(lost) & 0xFFFFFF));
  w.U32(rb.extended_highest_sequence);
  w.U32(rb.jitter);
  w.U32(rb.last_sr);
  w.U32(rb.delay_since_last_sr);
}

absl::Status CheckAligned(const Bytes& b, absl::string_view what) {
  if (b.size() % 4 != 0) return Malformed(absl::StrCat(what, " is not a multiple of 32 bits"));
  return absl::OkStatus();
}

// ---- serializers, one per type (each appends one individual packet) ----

absl::Status Write(const SenderReport& sr, Bytes* out) {
  if (sr.report_blocks.size() > 31) return Malformed("more than 31 report blocks");
  if (auto st = CheckAligned(sr.profile_extension, "SR profile extension"); !st.ok()) return st;
  PacketWriter p(out, static_cast<uint8_t>(sr.report_blocks.size()), kRtcpSr);
  p.w().U32(sr.sender_ssrc.value());
  p.w().U64(sr.ntp_time.value());
  p.w().U32(sr.rtp_timestamp);
  p.w().U32(sr.packet_count);
  p.w().U32(sr.octet_count);
  for (const auto& rb : sr.report_blocks) WriteReportBlock(p.w(), rb);
  p.w().Append(sr.profile_extension);
  return p.Finish();
}

absl::Status Write(const ReceiverReport& rr, Bytes* out) {
  if (rr.report_blocks.size() > 31) return Malformed("more than 31 report blocks");
  if (auto st = CheckAligned(rr.profile_extension, "RR profile extension"); !st.ok()) return st;
  PacketWriter p(out, static_cast<uint8_t>(rr.report_blocks.size()), kRtcpRr);
  p.w().U32(rr.sender_ssrc.value());
  for (const auto& rb : rr.report_blocks) WriteReportBlock(p.w(), rb);
  p.w().Append(rr.profile_extension);
  return p.Finish();
}

absl::Status Write(const Sdes& sdes, Bytes* out) {
  if (sdes.chunks.size() > 31) return Malformed("more than 31 SDES chunks");
  for (const auto& c : sdes.chunks)
    for (const auto& item : c.items) {
      if (item.type == 0) return Malformed("SDES item type 0 is the end-of-list marker");
      if (item.value.size() > 255) return Malformed("SDES item longer than 255 bytes");
    }
  PacketWriter p(out, static_cast<uint8_t>(sdes.chunks.size()), kRtcpSdes);
  for (const auto& c : sdes.chunks) {
    p.w().U32(c.ssrc.value());
    for (const auto& item : c.items) {
      p.w().U8(item.type);
      p.w().U8(static_cast<uint8_t>(item.value.size()));
      p.w().Append(AsBytes(item.value));
    }
    // §6.5: one null octet ends the item list, more pad to the next 32-bit boundary.
    p.w().U8(0);
    p.PadTo32();
  }
  return p.Finish();
}

absl::Status Write(const Bye& bye, Bytes* out) {
  if (bye.ssrcs.size() > 31) return Malformed("more than 31 SSRCs in BYE");
  if (bye.reason && bye.reason->size() > 255) return Malformed("BYE reason longer than 255 bytes");
  PacketWriter p(out, static_cast<uint8_t>(bye.ssrcs.size()), kRtcpBye);
  for (Ssrc s : bye.ssrcs) p.w().U32(s.value());
  if (bye.reason) {
    p.w().U8(static_cast<uint8_t>(bye.reason->size()));
    p.w().Append(AsBytes(*bye.reason));
    p.PadTo32();
  }
  return p.Finish();
}

absl::Status Write(const Nack& nack, Bytes* out) {
  if (nack.lost.empty()) return Malformed("NACK without lost packets");
  const auto fcis = BuildNackFcis(nack.lost);
  PacketWriter p(out, kRtpfbNack, kRtcpRtpfb);
  p.w().U32(nack.sender_ssrc.value());
  p.w().U32(nack.media_ssrc.value());
  for (const auto& [pid, blp] : fcis) {
    p.w().U16(pid);
    p.w().U16(blp);
  }
  return p.Finish();
}

absl::Status Write(const Pli& pli, Bytes* out) {
  PacketWriter p(out, kPsfbPli, kRtcpPsfb);
  p.w().U32(pli.sender_ssrc.value());
  p.w().U32(pli.media_ssrc.value());
  return p.Finish();
}

absl::Status Write(const Fir& fir, Bytes* out) {
  if (fir.entries.empty()) return Malformed("FIR without entries");
  PacketWriter p(out, kPsfbFir, kRtcpPsfb);
  p.w().U32(fir.sender_ssrc.value());
  p.w().U32(fir.media_ssrc.value());
  for (const auto& e : fir.entries) {
    p.w().U32(e.ssrc.value());
    p.w().U8(e.sequence_number);
    p.w().Zeros(3);  // RFC 5104 §4.3.1.1 reserved
  }
  return p.Finish();
}

absl::Status Write(const Remb& remb, Bytes* out) {
  if (remb.ssrcs.size() > 255) return Malformed("REMB with more than 255 SSRCs");
  // draft-alvestrand-rmcat-remb-03 §2.2: bitrate = mantissa (18 bits) * 2^exp (6 bits).
  uint32_t exp = 0;
  while ((remb.bitrate_bps >> exp) >= (uint64_t{1} << 18)) ++exp;
  const uint32_t mantissa = static_cast<uint32_t>(remb.bitrate_bps >> exp);
  PacketWriter p(out, kPsfbAfb, kRtcpPsfb);
  p.w().U32(remb.sender_ssrc.value());
  p.w().U32(remb.media_ssrc.value());
  p.w().U32(kRembIdentifier);
  p.w().U32(static_cast<uint32_t>(remb.ssrcs.size()) << 24 | exp << 18 | mantissa);
  for (Ssrc s : remb.ssrcs) p.w().U32(s.value());
  return p.Finish();
}

// draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.1 status symbols.
enum TwccSymbol : uint8_t { kNotReceived = 0, kSmallDelta = 1, kLargeDelta = 2, kReserved = 3 };

absl::Status Write(const TransportFeedback& fb, Bytes* out) {
  const size_t n = fb.packets.size();
  if (n > 0xFFFF) return Malformed("transport-cc feedback for more than 65535 packets");
  if (fb.reference_time < -0x800000 || fb.reference_time > 0x7FFFFF)
    return Malformed("transport-cc reference time outside 24 bits");
  std::vector<uint8_t> symbols(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& s = fb.packets[i];
    if (s.sequence_number != static_cast<uint16_t>(fb.base_sequence + i))
      return Malformed("transport-cc packet list is not consecutive from the base sequence number");
    if (!s.received) {
      symbols[i] = kNotReceived;
      continue;
    }
    if (s.delta_us % 250 != 0) return Malformed("transport-cc delta not a multiple of 250 us");
    const int32_t ticks = s.delta_us / 250;
    if (ticks >= 0 && ticks <= 255) {
      symbols[i] = kSmallDelta;
    } else if (ticks >= -32768 && ticks <= 32767) {
      symbols[i] = kLargeDelta;
    } else {
      return Malformed("transport-cc delta outside the 16-bit range");
    }
  }
  PacketWriter p(out, kRtpfbTwcc, kRtcpRtpfb);
  ByteWriter& w = p.w();
  w.U32(fb.sender_ssrc.value());
  w.U32(fb.media_ssrc.value());
  w.U16(fb.base_sequence);
  w.U16(static_cast<uint16_t>(n));
  w.U32(static_cast<uint32_t>(fb.reference_time) << 8 | fb.feedback_packet_count);
  // §3.1.3/§3.1.4 chunks: a run-length chunk for runs of 7 or more identical symbols (or for the
  // tail), a one-bit status vector when the next 14 symbols have no large delta, otherwise a
  // two-bit vector of 7. Symbols past the status count in a vector are "not received" filler.
  size_t i = 0;
  while (i < n) {
    size_t run = 1;
    while (i + run < n && run < 0x1FFF && symbols[i + run] == symbols[i]) ++run;
    if (run >= 7 || i + run == n) {
      w.U16(static_cast<uint16_t>(symbols[i] << 13 | run));
      i += run;
      continue;
    }
    const bool one_bit = n - i >= 14 && std::all_of(symbols.begin() + i, symbols.begin() + i + 14,
                                                    [](uint8_t s) { return s <= kSmallDelta; });
    uint16_t chunk = 0x8000;
    if (one_bit) {
      for (size_t k = 0; k < 14; ++k) chunk |= static_cast<uint16_t>(symbols[i + k] << (13 - k));
      i += 14;
    } else {
      chunk |= 0x4000;
      for (size_t k = 0; k < 7 && i + k < n; ++k) chunk |= static_cast<uint16_t>(symbols[i + k] << (12 - 2 * k));
      i += std::min<size_t>(7, n - i);
    }
    w.U16(chunk);
  }
  // §3.1.5 receive deltas, then zero padding to 32 bits.
  for (size_t k = 0; k < n; ++k) {
    const int32_t ticks = fb.packets[k].delta_us / 250;
    if (symbols[k] == kSmallDelta) w.U8(static_cast<uint8_t>(ticks));
    if (symbols[k] == kLargeDelta) w.U16(static_cast<uint16_t>(static_cast<int16_t>(ticks)));
  }
  p.PadTo32();
  return p.Finish();
}

absl::Status Write(const UnknownRtcp& u, Bytes* out) {
  if (u.count > 31) return Malformed("count/FMT above 31");
  if (auto st = CheckAligned(u.body, "unknown packet body"); !st.ok()) return st;
  PacketWriter p(out, u.count, u.packet_type);
  p.w().Append(u.body);
  return p.Finish();
}

}  // namespace

bool operator==(const ReportBlock& a, const ReportBlock& b) {
  return a.source_ssrc == b.source_ssrc && a.fraction_lost == b.fraction_lost &&
         a.cumulative_lost == b.cumulative_lost && a.extended_highest_sequence == b.extended_highest_sequence &&
         a.jitter == b.jitter && a.last_sr == b.last_sr && a.delay_since_last_sr == b.delay_since_last_sr;
}
bool operator==(const SenderReport& a, const SenderReport& b) {
  return a.sender_ssrc == b.sender_ssrc && a.ntp_time == b.ntp_time && a.rtp_timestamp == b.rtp_timestamp &&
         a.packet_count == b.packet_count && a.octet_count == b.octet_count && a.report_blocks == b.report_blocks &&
         a.profile_extension == b.profile_extension;
}
bool operator==(const ReceiverReport& a, const ReceiverReport& b) {
  return a.sender_ssrc == b.sender_ssrc && a.report_blocks == b.report_blocks &&
         a.profile_extension == b.profile_extension;
}
bool operator==(const Nack& a, const Nack& b) {
  return a.sender_ssrc == b.sender_ssrc && a.media_ssrc == b.media_ssrc && a.lost == b.lost;
}
bool operator==(const Remb& a, const Remb& b) {
  return a.sender_ssrc == b.sender_ssrc && a.media_ssrc == b.media_ssrc && a.bitrate_bps == b.bitrate_bps &&
         a.ssrcs == b.ssrcs;
}
bool operator==(const TransportFeedback& a, const TransportFeedback& b) {
  return a.sender_ssrc == b.sender_ssrc && a.media_ssrc == b.media_ssrc && a.base_sequence == b.base_sequence &&
         a.reference_time == b.reference_time && a.feedback_packet_count == b.feedback_packet_count &&
         a.packets == b.packets;
}

std::optional<std::string> Sdes::Cname(Ssrc ssrc) const {
  for (const auto& c : chunks) {
    if (c.ssrc != ssrc) continue;
    for (const auto& item : c.items)
      if (item.type == kSdesCname) return item.value;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<RtcpBlock>> SplitRtcpCompound(ByteView data, bool allow_inner_padding) {
  if (data.empty()) return Malformed("empty compound packet");
  std::vector<RtcpBlock> blocks;
  size_t off = 0;
  while (off < data.size()) {
    const size_t left = data.size() - off;
    if (left < 4) return Malformed("trailing bytes shorter than an RTCP header");
    const uint8_t b0 = data[off];
    if ((b0 >> 6) != 2) return Malformed("version is not 2");
    // §6.4.1 length: "in 32-bit words minus one, including the header and any padding".
    const size_t size = (static_cast<size_t>(data[off + 2]) << 8 | data[off + 3]) * 4 + 4;
    if (size > left) return Malformed("length field past the end of the compound packet");
    RtcpBlock b;
    b.count = b0 & 0x1F;
    b.packet_type = data[off + 1];
    b.padding = (b0 & 0x20) != 0;
    b.raw = data.subspan(off, size);
    b.body = data.subspan(off + 4, size - 4);
    if (b.padding) {
      if (off + size != data.size() && !allow_inner_padding)
        return Malformed("padding bit set on a packet that is not the last of the compound");
      const uint8_t count = b.raw[size - 1];
      if (b.body.empty()) return Malformed("padding bit set on a packet without a body");
      if (count == 0) return Malformed("padding count is 0");
      if (count > b.body.size()) return Malformed("padding count larger than the packet body");
      b.body = b.body.first(b.body.size() - count);
    }
    blocks.push_back(b);
    off += size;
  }
  return blocks;
}

absl::StatusOr<SenderReport> ParseSenderReport(const RtcpBlock& b) {
  if (auto st = Expect(b, kRtcpSr, std::nullopt, "SR"); !st.ok()) return st;
  ByteReader r(b.body);
  if (r.remaining() < 24) return Malformed("SR shorter than the sender info");
  SenderReport sr;
  sr.sender_ssrc = Ssrc(*r.U32());
  sr.ntp_time = NtpTime(*r.U64());
  sr.rtp_timestamp = *r.U32();
  sr.packet_count = *r.U32();
  sr.octet_count = *r.U32();
  if (auto st = ReadReportBlocks(r, b.count, &sr.report_blocks); !st.ok()) return st;
  sr.profile_extension = Rest(r);
  return sr;
}

absl::StatusOr<ReceiverReport> ParseReceiverReport(const RtcpBlock& b) {
  if (auto st = Expect(b, kRtcpRr, std::nullopt, "RR"); !st.ok()) return st;
  ByteReader r(b.body);
  if (r.remaining() < 4) return Malformed("RR without a sender SSRC");
  ReceiverReport rr;
  rr.sender_ssrc = Ssrc(*r.U32());
  if (auto st = ReadReportBlocks(r, b.count, &rr.report_blocks); !st.ok()) return st;
  rr.profile_extension = Rest(r);
  return rr;
}

// §6.5: SC chunks of SSRC + items (type, length, text), each list ended by a null octet and padded
// with null octets to the next 32-bit boundary (chunks start aligned within the body).
absl::StatusOr<Sdes> ParseSdes(const RtcpBlock& b) {
  if (auto st = Expect(b, kRtcpSdes, std::nullopt, "SDES"); !st.ok()) return st;
  ByteReader r(b.body);
  Sdes sdes;
  for (size_t c = 0; c < b.count; ++c) {
    auto ssrc = r.U32();
    if (!ssrc) return Malformed("SDES chunk past the end of the packet");
    SdesChunk chunk;
    chunk.ssrc = Ssrc(*ssrc);
    while (true) {
      auto type = r.U8();
      if (!type) return Malformed("SDES chunk without an end-of-list null octet");
      if (*type == 0) break;
      auto len = r.U8();
      if (!len) return Malformed("SDES item length past the end of the chunk");
      auto text = r.Take(*len);
      if (!text) return Malformed("SDES item past the end of the chunk");
      chunk.items.push_back(SdesItem{*type, std::string(AsString(*text))});
    }
    const size_t pad = (4 - r.position() % 4) % 4;
    if (!r.Skip(pad)) return Malformed("SDES chunk padding past the end of the packet");
    sdes.chunks.push_back(std::move(chunk));
  }
  return sdes;
}

// §6.6: SC SSRC/CSRCs, then optionally a length-prefixed reason.
absl::StatusOr<Bye> ParseBye(const RtcpBlock& b) {
  if (auto st = Expect(b, kRtcpBye, std::nullopt, "BYE"); !st.ok()) return st;
  ByteReader r(b.body);
  if (r.remaining() < 4 * size_t{b.count}) return Malformed("BYE SSRC list past the end of the packet");
  Bye bye;
  for (size_t i = 0; i < b.count; ++i) bye.ssrcs.push_back(Ssrc(*r.U32()));
  if (r.remaining() > 0) {
    const uint8_t len = *r.U8();
    auto text = r.Take(len);
    if (!text) return Malformed("BYE reason past the end of the packet");
    bye.reason = std::string(AsString(*text));
  }
  return bye;
}

// RFC 4585 §6.2.1: FCI = PID (16) + BLP (16); bit i of BLP (LSB = 0) reports PID + i + 1 lost.
absl::StatusOr<Nack> ParseNack(const RtcpBlock& b) {
  if (auto st = Expect(b, kRtcpRtpfb, kRtpfbNack, "generic NACK"); !st.ok()) return st;
  ByteReader r(b.body);
  if (r.remaining() < 8) return Malformed("NACK shorter than the feedback header");
  Nack nack;
  nack.sender_ssrc = Ssrc(*r.U32());
  nack.media_ssrc = Ssrc(*r.U32());
  if (r.remaining() < 4) return Malformed("NACK without an FCI entry");  // RFC 4585 §6.2.1: "at least one"
  while (r.remaining() >= 4) {
    const uint16_t pid = *r.U16();
    const uint16_t blp = *r.U16();
    nack.lost.push_back(SequenceNumber(pid));
    for (int i = 0; i < 16; ++i)
      if (blp & (1u << i)) nack.lost.push_back(SequenceNumber(static_cast<uint16_t>(pid + i + 1)));
  }
  return nack;
}

std::vector<std::pair<uint16_t, uint16_t>> BuildNackFcis(const std::vector<SequenceNumber>& lost) {
  std::vector<std::pair<uint16_t, uint16_t>> fcis;
  int last_offset = 0;  // offset from the current PID of the last number placed (0 = PID itself)
  for (SequenceNumber s : lost) {
    if (!fcis.empty()) {
      const int offset = static_cast<uint16_t>(s.value() - fcis.back().first);
      if (offset > last_offset && offset <= 16) {
        fcis.back().second |= static_cast<uint16_t>(1u << (offset - 1));
        last_offset = offset;
        continue;
      }
    }
    fcis.emplace_back(s.value(), 0);
    last_offset = 0;
  }
  return fcis;
}

absl::StatusOr<Pli> ParsePli(const RtcpBlock& b) {
  if (auto st = Expect(b, kRtcpPsfb, kPsfbPli, "PLI"); !st.ok()) return st;
  ByteReader r(b.body);
  if (r.remaining() < 8) return Malformed("PLI shorter than the feedback header");
  Pli pli;
  pli.sender_ssrc = Ssrc(*r.U32());
  pli.media_ssrc = Ssrc(*r.U32());
  return pli;  // RFC 4585 §6.3.1: no FCI; anything after the header is ignored
}

// RFC 5104 §4.3.1.1: FCI entries of SSRC (32) + Seq nr (8) + reserved (24).
absl::StatusOr<Fir> ParseFir(const RtcpBlock& b) {
  if (auto st = Expect(b, kRtcpPsfb, kPsfbFir, "FIR"); !st.ok()) return st;
  ByteReader r(b.body);
  if (r.remaining() < 8) return Malformed("FIR shorter than the feedback header");
  Fir fir;
  fir.sender_ssrc = Ssrc(*r.U32());
  fir.media_ssrc = Ssrc(*r.U32());
  if (r.remaining() == 0) return Malformed("FIR without an FCI entry");
  if (r.remaining() % 8 != 0) return Malformed("truncated FIR entry");
  while (r.remaining() >= 8) {
    FirEntry e;
    e.ssrc = Ssrc(*r.U32());
    e.sequence_number = *r.U8();
    r.Skip(3);
    fir.entries.push_back(e);
  }
  return fir;
}

// draft-alvestrand-rmcat-remb-03 §2.2: 'REMB', Num SSRC (8), BR Exp (6), BR Mantissa (18), SSRCs.
absl::StatusOr<Remb> ParseRemb(const RtcpBlock& b) {
  if (auto st = Expect(b, kRtcpPsfb, kPsfbAfb, "REMB"); !st.ok()) return st;
  ByteReader r(b.body);
  if (r.remaining() < 16) return Malformed("REMB shorter than its fixed fields");
  Remb remb;
  remb.sender_ssrc = Ssrc(*r.U32());
  remb.media_ssrc = Ssrc(*r.U32());
  if (*r.U32() != kRembIdentifier) return Malformed("application feedback is not 'REMB'");
  const uint32_t word = *r.U32();
  const size_t num = word >> 24;
  const uint32_t exp = (word >> 18) & 0x3F;
  const uint64_t mantissa = word & 0x3FFFF;
  if (mantissa != 0 && exp > 0 && (mantissa << exp) >> exp != mantissa)
    return Malformed("REMB bitrate overflows 64 bits");
  remb.bitrate_bps = mantissa << exp;
  if (r.remaining() < 4 * num) return Malformed("REMB SSRC list past the end of the packet");
  for (size_t i = 0; i < num; ++i) remb.ssrcs.push_back(Ssrc(*r.U32()));
  return remb;
}

// draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.
absl::StatusOr<TransportFeedback> ParseTransportFeedback(const RtcpBlock& b) {
  if (auto st = Expect(b, kRtcpRtpfb, kRtpfbTwcc, "transport-cc feedback"); !st.ok()) return st;
  ByteReader r(b.body);
  if (r.remaining() < 16) return Malformed("transport-cc feedback shorter than its fixed fields");
  TransportFeedback fb;
  fb.sender_ssrc = Ssrc(*r.U32());
  fb.media_ssrc = Ssrc(*r.U32());
  fb.base_sequence = *r.U16();
  const size_t status_count = *r.U16();
  const uint32_t word = *r.U32();
  fb.reference_time = SignExtend24(word >> 8);
  fb.feedback_packet_count = static_cast<uint8_t>(word);

  // §3.1.3 run-length chunks and §3.1.4 status vector chunks. Entries are appended only as chunks
  // are actually read, so memory is bounded by what the packet encodes, not by the claimed count.
  std::vector<uint8_t> symbols;
  auto add = [&](uint8_t symbol) -> absl::Status {
    if (symbol == kReserved) return Malformed("transport-cc reserved status symbol");
    symbols.push_back(symbol);
    return absl::OkStatus();
  };
  while (symbols.size() < status_count) {
    auto chunk = r.U16();
    if (!chunk) return Malformed("transport-cc packet chunks past the end of the packet");
    const size_t want = status_count - symbols.size();
    if ((*chunk & 0x8000) == 0) {
      const uint8_t symbol = (*chunk >> 13) & 0x3;
      const size_t run = std::min<size_t>(*chunk & 0x1FFF, want);
      if (symbol == kReserved && run > 0) return Malformed("transport-cc reserved status symbol");
      symbols.insert(symbols.end(), run, symbol);
    } else if ((*chunk & 0x4000) == 0) {
      for (size_t k = 0; k < 14 && k < want; ++k) symbols.push_back((*chunk >> (13 - k)) & 0x1);
    } else {
      for (size_t k = 0; k < 7 && k < want; ++k)
        if (auto st = add((*chunk >> (12 - 2 * k)) & 0x3); !st.ok()) return st;
    }
  }
  // §3.1.5 receive deltas: 8-bit unsigned for "small", 16-bit signed for "large", 250 us each.
  fb.packets.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) {
    TwccPacketStatus s;
    s.sequence_number = static_cast<uint16_t>(fb.base_sequence + i);
    if (symbols[i] == kSmallDelta) {
      auto d = r.U8();
      if (!d) return Malformed("transport-cc receive delta past the end of the packet");
      s.received = true;
      s.delta_us = int32_t{*d} * 250;
    } else if (symbols[i] == kLargeDelta) {
      auto d = r.U16();
      if (!d) return Malformed("transport-cc receive delta past the end of the packet");
      s.received = true;
      s.delta_us = int32_t{static_cast<int16_t>(*d)} * 250;
    }
    fb.packets.push_back(s);
  }
  return fb;  // trailing bytes are the draft's "recv delta padding"
}

absl::StatusOr<RtcpPacket> ParseRtcpBlock(const RtcpBlock& b) {
  auto wrap = [](auto st) -> absl::StatusOr<RtcpPacket> {
    if (!st.ok()) return st.status();
    return RtcpPacket(*std::move(st));
  };
  switch (b.packet_type) {
    case kRtcpSr:
      return wrap(ParseSenderReport(b));
    case kRtcpRr:
      return wrap(ParseReceiverReport(b));
    case kRtcpSdes:
      return wrap(ParseSdes(b));
    case kRtcpBye:
      return wrap(ParseBye(b));
    case kRtcpRtpfb:
      if (b.count == kRtpfbNack) return wrap(ParseNack(b));
      if (b.count == kRtpfbTwcc) return wrap(ParseTransportFeedback(b));
      break;
    case kRtcpPsfb:
      if (b.count == kPsfbPli) return wrap(ParsePli(b));
      if (b.count == kPsfbFir) return wrap(ParseFir(b));
      if (b.count == kPsfbAfb && b.body.size() >= 12 && (uint32_t{b.body[8]} << 24 | uint32_t{b.body[9]} << 16 |
                                                         uint32_t{b.body[10]} << 8 | b.body[11]) == kRembIdentifier)
        return wrap(ParseRemb(b));
      break;
    default:
      break;
  }
  UnknownRtcp u;
  u.packet_type = b.packet_type;
  u.count = b.count;
  u.body.assign(b.body.begin(), b.body.end());
  return RtcpPacket(std::move(u));
}

absl::StatusOr<std::vector<RtcpPacket>> ParseRtcpCompound(ByteView data, bool allow_inner_padding) {
  auto blocks = SplitRtcpCompound(data, allow_inner_padding);
  if (!blocks.ok()) return blocks.status();
  std::vector<RtcpPacket> out;
  out.reserve(blocks->size());
  for (const auto& b : *blocks) {
    auto p = ParseRtcpBlock(b);
    if (!p.ok()) return p.status();
    out.push_back(*std::move(p));
  }
  return out;
}

absl::Status AppendRtcpPacket(const RtcpPacket& packet, Bytes* out) {
  const size_t start = out->size();
  absl::Status st = std::visit([out](const auto& p) { return Write(p, out); }, packet);
  if (!st.ok()) out->resize(start);  // leave `out` as it was
  return st;
}

absl::StatusOr<Bytes> SerializeRtcpCompound(const std::vector<RtcpPacket>& packets) {
  Bytes out;
  for (const auto& p : packets)
    if (auto st = AppendRtcpPacket(p, &out); !st.ok()) return st;
  return out;
}

}  // namespace refrtc::rtp
