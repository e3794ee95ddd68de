// Security regressions for the media path's RTP parser (rtp::ParseRtp, RFC 3550 §5.1 / §5.3.1,
// RFC 8285), which every packet that passed SRTP authentication goes through
// (api/media_session.cc OnRtp). SRTP authenticates but does not validate the RTP structure —
// header-extension lengths are checked by SrtpSession only as far as it needs them, padding not at
// all (see stack/tests/srtp/srtp_security_test.cc PaddingCountIsLeftToTheRtpParser) — so a
// key-holding peer can hand the parser any lengths. These tests sweep the length fields instead
// of spot-checking them, and check that whatever is accepted is self-consistent (header + payload
// + padding == packet size: nothing read past the end, nothing invented).
//
// Existing spot checks not repeated here: rtp_packet_test.cc RtpMalformed.Rejected
// ("extension length past the end", "padding count larger than the payload", "padding into the
// extension", element-past-block cases).
#include <gtest/gtest.h>

#include <string>

#include "rtp/rtp_packet.h"
#include "rtp_test_util.h"

namespace refrtc::rtp {
namespace {

using testing::FromHex;

// V=2, PT=96, seq 1, ts 2, SSRC 3.
Bytes Header(uint8_t first_byte = 0x80) {
  return Bytes{first_byte, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03};
}

// Whatever ParseRtp accepts accounts for every byte exactly once: the header as it is on the wire
// (fixed part, CSRCs, extension block — HeaderSize() is the canonical re-serialized size, which
// drops in-block padding), the payload and the padding.
void ExpectConsistent(const RtpPacket& p, ByteView wire) {
  size_t header = 12 + 4 * p.csrcs.size();
  if (p.has_extension) header += 4 + 4 * (static_cast<size_t>(wire[header + 2]) << 8 | wire[header + 3]);
  EXPECT_EQ(header + p.payload.size() + p.padding_size, wire.size());
}

// RFC 3550 §5.3.1: the extension length counts 32-bit words after the 4-byte extension header.
// Any length whose body is not entirely inside the packet is rejected — for every length from 1
// to 64 words and the extremes 0x100, 0x7FFF, 0xFFFF, with every body size short of it. A body
// that fits exactly parses, with the payload after it.
TEST(RtpSecurity, HeaderExtensionLengthPastEndIsRejected) {
  std::vector<uint16_t> lengths;
  for (uint16_t w = 1; w <= 64; ++w) lengths.push_back(w);
  for (uint16_t w : {0x100, 0x7fff, 0xffff}) lengths.push_back(w);
  for (uint16_t words : lengths) {
    const size_t body = 4u * words;
    const size_t max_present = std::min<size_t>(body, 300);
    for (size_t present = 0; present < max_present; present += (present < 12 ? 1 : 7)) {
      Bytes pkt = Header(0x90);  // X
      pkt.insert(pkt.end(), {0x12, 0x34, static_cast<uint8_t>(words >> 8), static_cast<uint8_t>(words)});
      pkt.insert(pkt.end(), present, 0xAB);
      auto parsed = ParseRtp(pkt);
      EXPECT_FALSE(parsed.ok()) << words << " words, " << present << " bytes present";
    }
    if (body <= 300) {
      Bytes exact = Header(0x90);
      exact.insert(exact.end(), {0x12, 0x34, static_cast<uint8_t>(words >> 8), static_cast<uint8_t>(words)});
      exact.insert(exact.end(), body, 0xAB);
      exact.insert(exact.end(), {1, 2, 3});  // payload
      auto parsed = ParseRtp(exact);
      ASSERT_TRUE(parsed.ok()) << words << ": " << parsed.status();
      EXPECT_EQ(parsed->extension_raw.size(), body);
      EXPECT_EQ(parsed->payload, Bytes({1, 2, 3}));
      ExpectConsistent(*parsed, exact);
    }
  }
}

// RFC 3550 §5.1: "The last octet of the padding contains a count of how many padding octets
// should be ignored, including itself." A count of 0, or larger than what follows the header
// (CSRCs and extension included), is rejected; every other count leaves exactly
// rest - count payload bytes. Swept over every count byte and every payload size up to 40, with a
// plain header and with CSRCs + an RFC 8285 extension in front (padding must never eat into
// them).
TEST(RtpSecurity, PaddingCountLargerThanPayloadIsRejected) {
  const Bytes plain_header = Header(0xA0);  // P
  Bytes rich_header = Header(0xB2);         // P, X, CC=2
  rich_header.insert(rich_header.end(), {0, 0, 0, 9, 0, 0, 0, 10});            // CSRCs
  rich_header.insert(rich_header.end(), {0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00});  // ext
  for (const Bytes& header : {plain_header, rich_header}) {
    for (size_t rest = 1; rest <= 40; ++rest) {
      for (int count = 0; count <= 255; ++count) {
        Bytes pkt = header;
        for (size_t i = 0; i + 1 < rest; ++i) pkt.push_back(static_cast<uint8_t>(0x40 + i));
        pkt.push_back(static_cast<uint8_t>(count));
        auto parsed = ParseRtp(pkt);
        const bool valid = count >= 1 && static_cast<size_t>(count) <= rest;
        ASSERT_EQ(parsed.ok(), valid) << "rest " << rest << " count " << count;
        if (!valid) continue;
        EXPECT_EQ(parsed->padding_size, count);
        EXPECT_EQ(parsed->payload.size(), rest - count);
        EXPECT_EQ(parsed->csrcs.size(), header == rich_header ? 2u : 0u);
        ExpectConsistent(*parsed, pkt);
      }
    }
    // P set but nothing at all after the header: no count octet to read.
    EXPECT_FALSE(ParseRtp(header).ok());
  }
}

// RFC 8285 §4.2 / §4.3: an element whose length runs past the extension block is rejected, for
// every length value of the one-byte (4-bit L = 0..15, i.e. 1..16 bytes) and two-byte (0..255)
// forms and every block size; elements that fit parse and sum up to at most the block.
TEST(RtpSecurity, ExtensionElementLengthPastBlockIsRejected) {
  for (uint16_t words = 1; words <= 5; ++words) {
    const size_t block = 4u * words;
    for (int l = 0; l <= 15; ++l) {  // one-byte form: ID 1, L = l → l + 1 data bytes
      Bytes pkt = Header(0x90);
      pkt.insert(pkt.end(), {0xBE, 0xDE, 0x00, static_cast<uint8_t>(words)});
      Bytes body(block, 0);
      body[0] = static_cast<uint8_t>(0x10 | l);
      pkt.insert(pkt.end(), body.begin(), body.end());
      auto parsed = ParseRtp(pkt);
      const bool fits = 1u + static_cast<size_t>(l) + 1u <= block;
      EXPECT_EQ(parsed.ok(), fits) << "one-byte L " << l << " block " << block;
      if (parsed.ok()) {
        ASSERT_EQ(parsed->extensions.size(), 1u);
        EXPECT_EQ(parsed->extensions[0].data.size(), static_cast<size_t>(l) + 1);
        ExpectConsistent(*parsed, pkt);
      }
    }
    for (int len = 0; len <= 255; ++len) {  // two-byte form: ID 1, length octet
      Bytes pkt = Header(0x90);
      pkt.insert(pkt.end(), {0x10, 0x00, 0x00, static_cast<uint8_t>(words)});
      Bytes body(block, 0);
      body[0] = 0x01;
      body[1] = static_cast<uint8_t>(len);
      pkt.insert(pkt.end(), body.begin(), body.end());
      auto parsed = ParseRtp(pkt);
      const bool fits = 2u + static_cast<size_t>(len) <= block;
      EXPECT_EQ(parsed.ok(), fits) << "two-byte length " << len << " block " << block;
      if (parsed.ok()) {
        ASSERT_GE(parsed->extensions.size(), 1u);
        EXPECT_EQ(parsed->extensions[0].data.size(), static_cast<size_t>(len));
        ExpectConsistent(*parsed, pkt);
      }
    }
  }
}

// Every truncation of a packet that uses every length-bearing field at once (CSRCs, a two-byte
// extension, payload, padding) is either rejected or parsed consistently; the padding count of a
// cut packet is read from its own last byte, never from beyond it.
TEST(RtpSecurity, EveryTruncationIsRejectedOrConsistent) {
  const Bytes full = FromHex(
      "b3 60 12 34 56 78 9a bc de ad be ef"  // P, X, CC=3
      "00 00 00 01 00 00 00 02 00 00 00 03"  // CSRCs
      "10 00 00 02 01 03 aa bb cc 02 00 00"  // two-byte extension: id 1 (3 bytes), id 2 (0 bytes)
      "01 02 03 04 05"                       // payload
      "00 00 03");                           // padding (3)
  auto whole = ParseRtp(full);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->payload, Bytes({1, 2, 3, 4, 5}));
  EXPECT_EQ(whole->extensions.size(), 2u);
  ExpectConsistent(*whole, full);
  size_t accepted = 0;
  for (size_t n = 0; n < full.size(); ++n) {
    const Bytes cut(full.begin(), full.begin() + n);
    auto parsed = ParseRtp(cut);
    if (!parsed.ok()) continue;
    ++accepted;
    ExpectConsistent(*parsed, cut);
    EXPECT_LE(parsed->payload.size(), 5u);
  }
  // Only cuts inside the payload/padding area can be valid packets (their last byte is then the
  // padding count), never a cut inside the fixed header, CSRC list or extension.
  for (size_t n = 0; n < 36; ++n) EXPECT_FALSE(ParseRtp(Bytes(full.begin(), full.begin() + n)).ok()) << n;
  EXPECT_LE(accepted, full.size() - 36);
}

}  // namespace
}  // namespace refrtc::rtp
