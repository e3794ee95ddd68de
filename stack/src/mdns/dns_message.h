// DNS messages (RFC 1035 §4) as Multicast DNS (RFC 6762) uses them: header, questions and
// resource records. Parsing follows name compression pointers (RFC 1035 §4.1.4) with bounds and
// loop protection; records of every type are kept with their raw RDATA (only A and AAAA are
// interpreted, everything else is skipped safely by callers). Serialization writes names
// uncompressed (always valid, and our messages are tiny one-question queries).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "util/bytes.h"
#include "util/socket_address.h"

namespace refrtc::mdns {

// RFC 6762 §3: the mDNS port and the link-local groups 224.0.0.251 / ff02::fb.
constexpr uint16_t kMdnsPort = 5353;
SocketAddress GroupV4();  // 224.0.0.251:5353
SocketAddress GroupV6();  // [ff02::fb]:5353
bool IsMdnsGroup(const SocketAddress& a);  // either group, any port

// RFC 1035 §3.2.2 / RFC 3596 §2.1 types used here.
constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypePtr = 12;
constexpr uint16_t kTypeTxt = 16;
constexpr uint16_t kTypeAaaa = 28;
constexpr uint16_t kTypeSrv = 33;
constexpr uint16_t kTypeNsec = 47;
constexpr uint16_t kTypeAny = 255;
constexpr uint16_t kClassIn = 1;
// RFC 6762 §5.4 (QU bit in questions) and §10.2 (cache-flush bit in records): the top bit of the
// class field; the class proper is the low 15 bits.
constexpr uint16_t kClassTopBit = 0x8000;

// RFC 1035 §4.1.1 header flag bits.
constexpr uint16_t kFlagQr = 0x8000;  // response
constexpr uint16_t kFlagAa = 0x0400;  // authoritative answer (RFC 6762 §18.4: set in responses)
constexpr uint16_t kFlagTc = 0x0200;  // truncated (RFC 6762 §18.5: known answers follow)

// Parse limits (a packet violating them is rejected as a whole).
constexpr size_t kMaxNameWireLength = 255;  // RFC 1035 §3.1
constexpr size_t kMaxLabelLength = 63;      // RFC 1035 §2.3.4
constexpr int kMaxCompressionJumps = 64;    // a name has at most 127 labels; pointers only go back
constexpr size_t kMaxRecords = 256;         // questions + all records in one message

struct Question {
  std::string name;  // dotted, no trailing dot; '.' and '\' inside a label escaped with '\'
  uint16_t type = kTypeA;
  uint16_t klass = kClassIn;  // low 15 bits
  bool unicast_response = false;  // QU bit (RFC 6762 §5.4)
};

struct ResourceRecord {
  std::string name;
  uint16_t type = kTypeA;
  uint16_t klass = kClassIn;  // low 15 bits
  bool cache_flush = false;   // RFC 6762 §10.2
  uint32_t ttl = 0;
  Bytes rdata;  // raw; names inside (PTR, SRV, ...) may be compressed and are NOT expanded
  // The IP of an A (4-byte RDATA) or AAAA (16-byte RDATA) record of class IN, port 0; nullopt
  // for other types or a malformed length.
  std::optional<SocketAddress> address() const;
};

struct Message {
  uint16_t id = 0;  // RFC 6762 §18.1: zero in multicast messages, ignored on receipt
  uint16_t flags = 0;
  std::vector<Question> questions;
  std::vector<ResourceRecord> answers, authorities, additionals;

  bool is_response() const { return (flags & kFlagQr) != 0; }
  uint8_t opcode() const { return static_cast<uint8_t>((flags >> 11) & 0xf); }
  uint8_t rcode() const { return static_cast<uint8_t>(flags & 0xf); }

  // InvalidArgument on truncation, bad label types (RFC 1035 §4.1.4 reserved 01/10 prefixes),
  // forward or looping compression pointers, over-long names or labels, trailing garbage is
  // allowed (ignored) as RFC 1035 does not forbid padding. ResourceExhausted over kMaxRecords.
  static absl::StatusOr<Message> Parse(ByteView packet);
  // InvalidArgument if a name has an empty/over-long label or is over 255 bytes on the wire.
  absl::StatusOr<Bytes> Serialize() const;
};

// Case-insensitive (ASCII, RFC 6762 §16) comparison of two dotted names; a trailing dot on
// either side is ignored.
bool NameEquals(absl::string_view a, absl::string_view b);

// A one-question mDNS query (RFC 6762 §5.1 one-shot, §18: id 0, no flags).
Bytes BuildQuery(absl::string_view name, uint16_t type, bool unicast_response);

}  // namespace refrtc::mdns
