#include "mdns/dns_message.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace refrtc::mdns {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("dns: ", what));
}

// RFC 1035 §4.1.4: a name is a sequence of labels ending in a zero octet or in a pointer
// (two octets, top bits 11) to a prior occurrence. `pos` is advanced past the name as it appears
// at `pos` (the pointer, if any, ends it there).
// Loop protection: every pointer must point strictly before the start of the label run that
// contains it, so the sequence of jump targets strictly decreases and always terminates; the
// jump count and the 255-octet wire length bound the work as well.
absl::StatusOr<std::string> ParseName(ByteView pkt, size_t* pos) {
  std::string out;
  size_t cursor = *pos;
  size_t run_start = *pos;
  bool jumped = false;
  int jumps = 0;
  size_t wire_len = 0;
  for (;;) {
    if (cursor >= pkt.size()) return Invalid("name runs past the end");
    uint8_t len = pkt[cursor];
    if ((len & 0xc0) == 0xc0) {
      if (cursor + 1 >= pkt.size()) return Invalid("truncated compression pointer");
      size_t target = static_cast<size_t>(len & 0x3f) << 8 | pkt[cursor + 1];
      if (target >= run_start) return Invalid("compression pointer does not point backwards");
      if (++jumps > kMaxCompressionJumps) return Invalid("too many compression pointers");
      if (!jumped) *pos = cursor + 2;
      jumped = true;
      cursor = run_start = target;
      continue;
    }
    if ((len & 0xc0) != 0) return Invalid("reserved label type");  // 01 (RFC 6891) and 10
    if (len == 0) {
      if (!jumped) *pos = cursor + 1;
      if (wire_len + 1 > kMaxNameWireLength) return Invalid("name longer than 255 octets");
      return out;
    }
    if (cursor + 1 + len > pkt.size()) return Invalid("label runs past the end");
    wire_len += 1 + len;
    if (wire_len + 1 > kMaxNameWireLength) return Invalid("name longer than 255 octets");
    if (!out.empty()) out.push_back('.');
    for (size_t i = 0; i < len; ++i) {
      char c = static_cast<char>(pkt[cursor + 1 + i]);
      if (c == '.' || c == '\\') out.push_back('\\');  // keep the dotted form unambiguous
      out.push_back(c);
    }
    cursor += 1 + len;
  }
}

// Splits a dotted (escaped) name into raw labels; a single trailing dot is allowed.
absl::StatusOr<std::vector<std::string>> SplitName(absl::string_view name) {
  std::vector<std::string> labels;
  if (name.empty() || name == ".") return labels;  // the root
  std::string cur;
  bool escaped = false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (escaped) {
      cur.push_back(c);
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == '.') {
      if (cur.empty()) return Invalid("empty label");
      labels.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (escaped) return Invalid("dangling escape");
  if (!cur.empty()) labels.push_back(std::move(cur));
  size_t wire = 1;
  for (const auto& l : labels) {
    if (l.size() > kMaxLabelLength) return Invalid("label longer than 63 octets");
    wire += 1 + l.size();
  }
  if (wire > kMaxNameWireLength) return Invalid("name longer than 255 octets");
  return labels;
}

absl::Status WriteName(ByteWriter& w, absl::string_view name) {
  auto labels = SplitName(name);
  if (!labels.ok()) return labels.status();
  for (const auto& l : *labels) {
    w.U8(static_cast<uint8_t>(l.size()));
    w.Append(AsBytes(l));
  }
  w.U8(0);
  return absl::OkStatus();
}

absl::Status ParseRecords(ByteView pkt, size_t* pos, uint16_t count, std::vector<ResourceRecord>* out) {
  for (uint16_t i = 0; i < count; ++i) {
    auto name = ParseName(pkt, pos);
    if (!name.ok()) return name.status();
    // RFC 1035 §4.1.3: TYPE, CLASS, TTL, RDLENGTH, RDATA.
    ByteReader r(pkt.subspan(*pos));
    auto type = r.U16();
    auto klass = r.U16();
    auto ttl = r.U32();
    auto rdlen = r.U16();
    if (!rdlen) return Invalid("truncated resource record");
    auto rdata = r.Take(*rdlen);
    if (!rdata) return Invalid("RDATA runs past the end");
    ResourceRecord rr;
    rr.name = std::move(*name);
    rr.type = *type;
    rr.klass = *klass & ~kClassTopBit;
    rr.cache_flush = (*klass & kClassTopBit) != 0;
    rr.ttl = *ttl;
    rr.rdata.assign(rdata->begin(), rdata->end());
    out->push_back(std::move(rr));
    *pos += r.position();
  }
  return absl::OkStatus();
}

void WriteRecords(ByteWriter& w, const std::vector<ResourceRecord>& rrs, absl::Status* st) {
  for (const auto& rr : rrs) {
    if (!st->ok()) return;
    *st = WriteName(w, rr.name);
    if (!st->ok()) return;
    if (rr.rdata.size() > 0xffff) {
      *st = Invalid("RDATA longer than 65535 octets");
      return;
    }
    w.U16(rr.type);
    w.U16(static_cast<uint16_t>((rr.klass & ~kClassTopBit) | (rr.cache_flush ? kClassTopBit : 0)));
    w.U32(rr.ttl);
    w.U16(static_cast<uint16_t>(rr.rdata.size()));
    w.Append(rr.rdata);
  }
}

}  // namespace

SocketAddress GroupV4() { return SocketAddress::V4({224, 0, 0, 251}, kMdnsPort); }

SocketAddress GroupV6() {
  return SocketAddress::V6({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb}, kMdnsPort);
}

bool IsMdnsGroup(const SocketAddress& a) {
  SocketAddress g = a.is_v4() ? GroupV4() : GroupV6();
  g.set_port(a.port());
  return a.valid() && a == g;
}

std::optional<SocketAddress> ResourceRecord::address() const {
  if (klass != kClassIn) return std::nullopt;
  if (type == kTypeA && rdata.size() == 4) return SocketAddress::V4({rdata[0], rdata[1], rdata[2], rdata[3]}, 0);
  if (type == kTypeAaaa && rdata.size() == 16) {
    std::array<uint8_t, 16> ip;
    for (size_t i = 0; i < 16; ++i) ip[i] = rdata[i];
    return SocketAddress::V6(ip, 0);
  }
  return std::nullopt;
}

absl::StatusOr<Message> Message::Parse(ByteView packet) {
  // RFC 1035 §4.1.1 header: ID, flags, QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT.
  ByteReader r(packet);
  auto id = r.U16();
  auto flags = r.U16();
  auto qd = r.U16();
  auto an = r.U16();
  auto ns = r.U16();
  auto ar = r.U16();
  if (!ar) return Invalid("shorter than the 12-octet header");
  if (static_cast<size_t>(*qd) + *an + *ns + *ar > kMaxRecords)
    return absl::ResourceExhaustedError("dns: too many records");
  Message m;
  m.id = *id;
  m.flags = *flags;
  size_t pos = 12;
  for (uint16_t i = 0; i < *qd; ++i) {
    auto name = ParseName(packet, &pos);
    if (!name.ok()) return name.status();
    ByteReader q(packet.subspan(pos));
    auto type = q.U16();
    auto klass = q.U16();
    if (!klass) return Invalid("truncated question");
    pos += 4;
    Question question;
    question.name = std::move(*name);
    question.type = *type;
    question.klass = *klass & ~kClassTopBit;
    question.unicast_response = (*klass & kClassTopBit) != 0;
    m.questions.push_back(std::move(question));
  }
  if (auto st = ParseRecords(packet, &pos, *an, &m.answers); !st.ok()) return st;
  if (auto st = ParseRecords(packet, &pos, *ns, &m.authorities); !st.ok()) return st;
  if (auto st = ParseRecords(packet, &pos, *ar, &m.additionals); !st.ok()) return st;
  return m;
}

absl::StatusOr<Bytes> Message::Serialize() const {
  if (questions.size() + answers.size() + authorities.size() + additionals.size() > kMaxRecords)
    return absl::ResourceExhaustedError("dns: too many records");
  Bytes out;
  ByteWriter w(&out);
  w.U16(id);
  w.U16(flags);
  w.U16(static_cast<uint16_t>(questions.size()));
  w.U16(static_cast<uint16_t>(answers.size()));
  w.U16(static_cast<uint16_t>(authorities.size()));
  w.U16(static_cast<uint16_t>(additionals.size()));
  for (const auto& q : questions) {
    if (auto st = WriteName(w, q.name); !st.ok()) return st;
    w.U16(q.type);
    w.U16(static_cast<uint16_t>((q.klass & ~kClassTopBit) | (q.unicast_response ? kClassTopBit : 0)));
  }
  absl::Status st;
  WriteRecords(w, answers, &st);
  WriteRecords(w, authorities, &st);
  WriteRecords(w, additionals, &st);
  if (!st.ok()) return st;
  return out;
}

bool NameEquals(absl::string_view a, absl::string_view b) {
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  return absl::EqualsIgnoreCase(a, b);
}

Bytes BuildQuery(absl::string_view name, uint16_t type, bool unicast_response) {
  Message m;
  m.questions.push_back(Question{std::string(name), type, kClassIn, unicast_response});
  auto bytes = m.Serialize();
  return bytes.ok() ? *bytes : Bytes();
}

}  // namespace refrtc::mdns
