// RTP data packet parse/serialize: RFC 3550 §5.1 (fixed header, CSRCs, padding), §5.3.1 (header
// extension), RFC 8285 §4.2 (one-byte elements) and §4.3 (two-byte elements).
#include "rtp/rtp_packet.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace refrtc::rtp {
namespace {

absl::Status Malformed(absl::string_view what) { return absl::InvalidArgumentError(absl::StrCat("rtp: ", what)); }

bool FitsOneByte(const HeaderExtension& e) { return e.id >= 1 && e.id <= 14 && !e.data.empty() && e.data.size() <= 16; }

// RFC 8285 §4.2. ID 0 is a padding byte when the whole byte is 0; ID 15 (or an ID 0 byte with a
// non-zero length, which cannot be padding) terminates processing, keeping the elements before it.
absl::Status ParseOneByteElements(ByteView body, std::vector<HeaderExtension>* out) {
  size_t i = 0;
  while (i < body.size()) {
    const uint8_t b = body[i];
    if (b == 0) {
      ++i;
      continue;
    }
    const uint8_t id = b >> 4;
    const size_t len = (b & 0x0F) + 1u;
    if (id == 15 || id == 0) break;
    if (body.size() - i - 1 < len) return Malformed("one-byte extension element past the extension block");
    HeaderExtension e;
    e.id = id;
    e.data.assign(body.begin() + i + 1, body.begin() + i + 1 + len);
    out->push_back(std::move(e));
    i += 1 + len;
  }
  return absl::OkStatus();
}

// RFC 8285 §4.3: ID octet, length octet (0-255), data; an ID octet of 0 is a single padding byte.
absl::Status ParseTwoByteElements(ByteView body, std::vector<HeaderExtension>* out) {
  size_t i = 0;
  while (i < body.size()) {
    const uint8_t id = body[i];
    if (id == 0) {
      ++i;
      continue;
    }
    if (body.size() - i < 2) return Malformed("two-byte extension element header past the extension block");
    const size_t len = body[i + 1];
    if (body.size() - i - 2 < len) return Malformed("two-byte extension element past the extension block");
    HeaderExtension e;
    e.id = id;
    e.data.assign(body.begin() + i + 2, body.begin() + i + 2 + len);
    out->push_back(std::move(e));
    i += 2 + len;
  }
  return absl::OkStatus();
}

}  // namespace

ExtensionForm RtpPacket::extension_form() const {
  if (!has_extension) return ExtensionForm::kNone;
  if (extension_profile == kOneByteExtensionProfile) return ExtensionForm::kOneByte;
  if ((extension_profile & 0xFFF0) == kTwoByteExtensionProfile) return ExtensionForm::kTwoByte;
  return ExtensionForm::kGeneric;
}

const HeaderExtension* RtpPacket::FindExtension(uint8_t id) const {
  for (const auto& e : extensions)
    if (e.id == id) return &e;
  return nullptr;
}

absl::Status RtpPacket::SetExtension(uint8_t id, ByteView data) {
  if (id == 0) return Malformed("extension id 0 is reserved for padding (RFC 8285 §4.2/§4.3)");
  if (data.size() > 255) return Malformed("extension element longer than 255 bytes");
  const ExtensionForm form = extension_form();
  if (form == ExtensionForm::kGeneric) return Malformed("packet already carries a non-RFC 8285 extension");
  HeaderExtension* slot = nullptr;
  for (auto& e : extensions)
    if (e.id == id) slot = &e;
  if (slot) {
    slot->data.assign(data.begin(), data.end());
  } else {
    extensions.push_back(HeaderExtension{id, Bytes(data.begin(), data.end())});
  }
  const bool all_one_byte = std::all_of(extensions.begin(), extensions.end(), FitsOneByte);
  if (form == ExtensionForm::kTwoByte) return absl::OkStatus();  // stays two-byte (keeps appbits)
  has_extension = true;
  extension_profile = all_one_byte ? kOneByteExtensionProfile : kTwoByteExtensionProfile;
  return absl::OkStatus();
}

size_t RtpPacket::HeaderSize() const {
  size_t n = kRtpFixedHeaderSize + 4 * csrcs.size();
  switch (extension_form()) {
    case ExtensionForm::kNone:
      break;
    case ExtensionForm::kGeneric:
      n += 4 + extension_raw.size();
      break;
    case ExtensionForm::kOneByte:
    case ExtensionForm::kTwoByte: {
      const size_t per = extension_form() == ExtensionForm::kOneByte ? 1 : 2;
      size_t body = 0;
      for (const auto& e : extensions) body += per + e.data.size();
      n += 4 + (body + 3) / 4 * 4;
      break;
    }
  }
  return n;
}

absl::StatusOr<RtpPacket> ParseRtp(ByteView data) {
  // RFC 3550 §5.1 fixed header.
  if (data.size() < kRtpFixedHeaderSize) return Malformed("shorter than the 12-byte fixed header");
  ByteReader r(data);
  const uint8_t b0 = *r.U8();
  const uint8_t b1 = *r.U8();
  if ((b0 >> 6) != 2) return Malformed("version is not 2");
  const bool padding = (b0 & 0x20) != 0;
  const bool extension = (b0 & 0x10) != 0;
  const size_t cc = b0 & 0x0F;
  RtpPacket p;
  p.marker = (b1 & 0x80) != 0;
  p.payload_type = PayloadType(b1 & 0x7F);
  p.sequence_number = SequenceNumber(*r.U16());
  p.timestamp = *r.U32();
  p.ssrc = Ssrc(*r.U32());
  // §5.1 CSRC list: CC items of 32 bits.
  if (r.remaining() < 4 * cc) return Malformed("CSRC count larger than the packet");
  p.csrcs.reserve(cc);
  for (size_t i = 0; i < cc; ++i) p.csrcs.push_back(Ssrc(*r.U32()));
  // §5.3.1 header extension: 16-bit profile field, 16-bit length in 32-bit words, body.
  if (extension) {
    auto profile = r.U16();
    auto words = r.U16();
    if (!profile || !words) return Malformed("header extension header past the end");
    auto body = r.Take(size_t{*words} * 4);
    if (!body) return Malformed("header extension length past the end");
    p.has_extension = true;
    p.extension_profile = *profile;
    absl::Status st;
    switch (p.extension_form()) {
      case ExtensionForm::kOneByte:
        st = ParseOneByteElements(*body, &p.extensions);
        break;
      case ExtensionForm::kTwoByte:
        st = ParseTwoByteElements(*body, &p.extensions);
        break;
      default:
        p.extension_raw.assign(body->begin(), body->end());
        break;
    }
    if (!st.ok()) return st;
  }
  // §5.1 P bit: "The last octet of the padding contains a count of how many padding octets should
  // be ignored, including itself."
  size_t rest = r.remaining();
  if (padding) {
    if (rest == 0) return Malformed("padding bit set but no padding count octet");
    const uint8_t count = data[data.size() - 1];
    if (count == 0) return Malformed("padding count is 0");
    if (count > rest) return Malformed("padding count larger than the payload");
    p.padding_size = count;
    rest -= count;
  }
  auto payload = r.Take(rest);
  p.payload.assign(payload->begin(), payload->end());
  return p;
}

absl::StatusOr<Bytes> RtpPacket::Serialize() const {
  if (payload_type.value() > 127) return Malformed("payload type above 127");
  if (csrcs.size() > kMaxCsrcs) return Malformed("more than 15 CSRCs");
  if (!has_extension && (!extensions.empty() || !extension_raw.empty()))
    return Malformed("extension elements set without the X bit");
  const ExtensionForm form = extension_form();
  if (form != ExtensionForm::kGeneric && !extension_raw.empty())
    return Malformed("raw extension body with an RFC 8285 profile");
  if (form == ExtensionForm::kGeneric && !extensions.empty())
    return Malformed("RFC 8285 elements with a generic extension profile");
  const size_t header_size = HeaderSize();
  if (form != ExtensionForm::kNone && (header_size - kRtpFixedHeaderSize - 4 * csrcs.size() - 4) / 4 > 0xFFFF)
    return Malformed("header extension longer than 65535 words");

  Bytes out;
  out.reserve(header_size + payload.size() + padding_size);
  ByteWriter w(&out);
  w.U8(static_cast<uint8_t>(0x80 | (padding_size ? 0x20 : 0) | (has_extension ? 0x10 : 0) | csrcs.size()));
  w.U8(static_cast<uint8_t>((marker ? 0x80 : 0) | payload_type.value()));
  w.U16(sequence_number.value());
  w.U32(timestamp);
  w.U32(ssrc.value());
  for (Ssrc c : csrcs) w.U32(c.value());
  if (form != ExtensionForm::kNone) {
    w.U16(extension_profile);
    const size_t body_words = (header_size - out.size() - 2) / 4;
    w.U16(static_cast<uint16_t>(body_words));
    const size_t body_start = out.size();
    if (form == ExtensionForm::kGeneric) {
      if (extension_raw.size() % 4 != 0) return Malformed("generic extension body not a multiple of 4 bytes");
      w.Append(extension_raw);
    } else {
      for (const auto& e : extensions) {
        if (form == ExtensionForm::kOneByte) {
          if (!FitsOneByte(e)) return Malformed("element does not fit the one-byte form (id 1-14, 1-16 bytes)");
          w.U8(static_cast<uint8_t>(e.id << 4 | (e.data.size() - 1)));
        } else {
          if (e.id == 0 || e.data.size() > 255) return Malformed("element does not fit the two-byte form");
          w.U8(e.id);
          w.U8(static_cast<uint8_t>(e.data.size()));
        }
        w.Append(e.data);
      }
      w.Zeros(body_start + body_words * 4 - out.size());  // RFC 8285 §4.1.1 pad to 32 bits
    }
  }
  w.Append(payload);
  if (padding_size) {
    w.Zeros(padding_size - 1u);
    w.U8(padding_size);
  }
  return out;
}

bool operator==(const RtpPacket& a, const RtpPacket& b) {
  return a.marker == b.marker && a.payload_type == b.payload_type && a.sequence_number == b.sequence_number &&
         a.timestamp == b.timestamp && a.ssrc == b.ssrc && a.csrcs == b.csrcs && a.has_extension == b.has_extension &&
         a.extension_profile == b.extension_profile && a.extensions == b.extensions &&
         a.extension_raw == b.extension_raw && a.payload == b.payload && a.padding_size == b.padding_size;
}

// RFC 5761 §4: RTCP packet types 192-223 occupy the second octet where RTP has M + PT 64-95.
bool IsRtcpPacket(ByteView data) {
  return data.size() >= 4 && (data[0] >> 6) == 2 && data[1] >= 192 && data[1] <= 223;
}

bool IsRtpPacket(ByteView data) {
  return data.size() >= kRtpFixedHeaderSize && (data[0] >> 6) == 2 && !(data[1] >= 192 && data[1] <= 223);
}

}  // namespace refrtc::rtp
