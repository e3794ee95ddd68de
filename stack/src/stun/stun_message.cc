#include "stun/stun_message.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "mbedtls/md.h"
#include "util/codec.h"

namespace refrtc::stun {
namespace {

// RFC 8489 §5: the message type packs the class bits C1 (bit 8) and C0 (bit 4) between method bits.
uint16_t EncodeType(StunClass cls, uint16_t method) {
  uint16_t c = static_cast<uint16_t>(cls);
  uint16_t m = method & 0x0FFF;
  return static_cast<uint16_t>((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) |
                               ((c & 0x1) << 4) | ((c & 0x2) << 7));
}

void DecodeType(uint16_t type, StunClass* cls, uint16_t* method) {
  *method = static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  *cls = static_cast<StunClass>(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
}

size_t Padded(size_t n) { return (n + 3) & ~size_t{3}; }

absl::Status Bad(absl::string_view why) { return absl::InvalidArgumentError(absl::StrCat("STUN: ", why)); }

// RFC 8489 §14.1 / §14.2: family(1)=0x01 IPv4 (4 bytes), 0x02 IPv6 (16 bytes).
std::optional<SocketAddress> DecodeAddress(ByteView v, bool xored, const TransactionId& tid) {
  if (v.size() < 4 || v[0] != 0) return std::nullopt;
  uint8_t family = v[1];
  uint16_t port = static_cast<uint16_t>(v[2] << 8 | v[3]);
  if (xored) port ^= static_cast<uint16_t>(kMagicCookie >> 16);
  uint8_t xor_pad[16];
  const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
  std::memcpy(xor_pad, cookie, 4);
  std::memcpy(xor_pad + 4, tid.data(), 12);
  if (family == 0x01 && v.size() == 8) {
    std::array<uint8_t, 4> ip;
    for (int i = 0; i < 4; ++i) ip[i] = static_cast<uint8_t>(v[4 + i] ^ (xored ? xor_pad[i] : 0));
    return SocketAddress::V4(ip, port);
  }
  if (family == 0x02 && v.size() == 20) {
    std::array<uint8_t, 16> ip;
    for (int i = 0; i < 16; ++i) ip[i] = static_cast<uint8_t>(v[4 + i] ^ (xored ? xor_pad[i] : 0));
    return SocketAddress::V6(ip, port);
  }
  return std::nullopt;
}

Bytes EncodeAddress(const SocketAddress& a, bool xored, const TransactionId& tid) {
  Bytes out;
  ByteWriter w(&out);
  w.U8(0);
  w.U8(a.is_v6() ? 0x02 : 0x01);
  uint16_t port = a.port();
  if (xored) port ^= static_cast<uint16_t>(kMagicCookie >> 16);
  w.U16(port);
  uint8_t xor_pad[16];
  const uint8_t cookie[4] = {0x21, 0x12, 0xA4, 0x42};
  std::memcpy(xor_pad, cookie, 4);
  std::memcpy(xor_pad + 4, tid.data(), 12);
  size_t n = a.is_v6() ? 16 : 4;
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = a.valid() ? a.ip_bytes()[i] : 0;
    w.U8(static_cast<uint8_t>(b ^ (xored ? xor_pad[i] : 0)));
  }
  return out;
}

bool IsKnown(uint16_t type) {
  switch (type) {
    case attr::kMappedAddress:
    case attr::kUsername:
    case attr::kMessageIntegrity:
    case attr::kErrorCode:
    case attr::kUnknownAttributes:
    case attr::kRealm:
    case attr::kNonce:
    case attr::kMessageIntegritySha256:
    case attr::kXorMappedAddress:
    case attr::kPriority:
    case attr::kUseCandidate:
    case attr::kSoftware:
    case attr::kAlternateServer:
    case attr::kFingerprint:
    case attr::kIceControlled:
    case attr::kIceControlling:
    case attr::kChannelNumber:
    case attr::kLifetime:
    case attr::kXorPeerAddress:
    case attr::kData:
    case attr::kXorRelayedAddress:
    case attr::kRequestedTransport:
      return true;
    default:
      return false;
  }
}

// Format checks for the attributes this module interprets; unknown ones are kept opaque.
absl::Status ValidateAttribute(uint16_t type, ByteView v, const TransactionId& tid) {
  switch (type) {
    case attr::kMappedAddress:
    case attr::kAlternateServer:
      if (!DecodeAddress(v, false, tid)) return Bad("malformed MAPPED-ADDRESS");
      return absl::OkStatus();
    case attr::kXorMappedAddress:
      if (!DecodeAddress(v, true, tid)) return Bad("malformed XOR-MAPPED-ADDRESS");
      return absl::OkStatus();
    case attr::kXorPeerAddress:
    case attr::kXorRelayedAddress:
      if (!DecodeAddress(v, true, tid)) return Bad("malformed XOR-PEER/RELAYED-ADDRESS");
      return absl::OkStatus();
    case attr::kChannelNumber:  // RFC 8656 §18.1: number (2) + RFFU (2)
    case attr::kLifetime:       // §18.2
    case attr::kRequestedTransport:  // §18.11: protocol (1) + RFFU (3)
      if (v.size() != 4) return Bad("CHANNEL-NUMBER/LIFETIME/REQUESTED-TRANSPORT length is not 4");
      return absl::OkStatus();
    case attr::kUsername:
      if (v.size() > kMaxUsernameBytes) return Bad("USERNAME longer than 513 bytes");
      return absl::OkStatus();
    case attr::kMessageIntegrity:
      if (v.size() != 20) return Bad("MESSAGE-INTEGRITY length is not 20");
      return absl::OkStatus();
    case attr::kMessageIntegritySha256:
      // RFC 8489 §14.6: 16..32 bytes, a multiple of 4.
      if (v.size() < 16 || v.size() > 32 || v.size() % 4 != 0)
        return Bad("malformed MESSAGE-INTEGRITY-SHA256");
      return absl::OkStatus();
    case attr::kFingerprint:
      if (v.size() != 4) return Bad("FINGERPRINT length is not 4");
      return absl::OkStatus();
    case attr::kErrorCode: {
      // RFC 8489 §14.8: 21 reserved bits, class (3 bits) in 3..6, number 0..99, reason <= 763 bytes.
      if (v.size() < 4) return Bad("ERROR-CODE too short");
      if (v.size() > 4 + 763) return Bad("ERROR-CODE reason too long");
      uint8_t cls = v[2] & 0x07;
      if (cls < 3 || cls > 6 || v[3] > 99) return Bad("ERROR-CODE out of range");
      return absl::OkStatus();
    }
    case attr::kUnknownAttributes:
      if (v.size() % 2 != 0) return Bad("UNKNOWN-ATTRIBUTES length is odd");
      return absl::OkStatus();
    case attr::kPriority:
      if (v.size() != 4) return Bad("PRIORITY length is not 4");
      return absl::OkStatus();
    case attr::kUseCandidate:
      if (!v.empty()) return Bad("USE-CANDIDATE is not empty");
      return absl::OkStatus();
    case attr::kIceControlled:
    case attr::kIceControlling:
      if (v.size() != 8) return Bad("ICE-CONTROLLED/ICE-CONTROLLING length is not 8");
      return absl::OkStatus();
    case attr::kRealm:
    case attr::kNonce:
      if (v.size() > 763) return Bad("REALM/NONCE too long");
      return absl::OkStatus();
    case attr::kSoftware:
      if (v.size() > 763) return Bad("SOFTWARE too long");
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

struct HeaderInfo {
  StunClass cls;
  uint16_t method;
  TransactionId tid;
};

// RFC 8489 §5/§6.3: header checks shared by Parse and VerifyMessageIntegrity.
absl::StatusOr<HeaderInfo> ParseHeader(ByteView data) {
  if (data.size() < kHeaderSize) return Bad("shorter than the 20-byte header");
  ByteReader r(data);
  uint16_t type = *r.U16();
  uint16_t length = *r.U16();
  uint32_t cookie = *r.U32();
  if (type & 0xC000) return Bad("the two most significant bits are not zero");
  if (cookie != kMagicCookie) return Bad("wrong magic cookie");
  if (length % 4 != 0) return Bad("message length is not a multiple of 4");
  if (static_cast<size_t>(length) + kHeaderSize != data.size())
    return Bad("message length does not match the datagram size");
  HeaderInfo h;
  DecodeType(type, &h.cls, &h.method);
  auto tid = r.Take(12);
  std::memcpy(h.tid.data(), tid->data(), 12);
  return h;
}

}  // namespace

bool LooksLikeStun(ByteView packet) { return !packet.empty() && packet[0] <= 3; }

std::optional<TransactionId> PeekTransactionId(ByteView packet) {
  if (packet.size() < kHeaderSize) return std::nullopt;
  TransactionId t;
  std::memcpy(t.data(), packet.data() + 8, 12);
  return t;
}

std::array<uint8_t, 20> HmacSha1(ByteView key, ByteView header, ByteView body) {
  std::array<uint8_t, 20> out{};
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
  mbedtls_md_context_t ctx;
  mbedtls_md_init(&ctx);
  if (mbedtls_md_setup(&ctx, info, 1) == 0 && mbedtls_md_hmac_starts(&ctx, key.data(), key.size()) == 0) {
    mbedtls_md_hmac_update(&ctx, header.data(), header.size());
    mbedtls_md_hmac_update(&ctx, body.data(), body.size());
    mbedtls_md_hmac_finish(&ctx, out.data());
  }
  mbedtls_md_free(&ctx);
  return out;
}

absl::StatusOr<StunMessage> StunMessage::Parse(ByteView data) {
  auto h = ParseHeader(data);
  if (!h.ok()) return h.status();
  StunMessage m(h->cls, h->method, h->tid);
  ByteReader r(data.subspan(kHeaderSize));
  bool seen_integrity = false;
  bool seen_fingerprint = false;
  while (r.remaining() > 0) {
    // RFC 8489 §14.7: FINGERPRINT MUST be the last attribute.
    if (seen_fingerprint) return Bad("attribute after FINGERPRINT");
    size_t attr_offset = kHeaderSize + r.position();
    auto type = r.U16();
    auto len = r.U16();
    if (!type || !len) return Bad("truncated attribute header");
    auto value = r.Take(*len);
    if (!value) return Bad(absl::StrCat("attribute 0x", absl::Hex(*type), " value runs past the end"));
    size_t pad = Padded(*len) - *len;
    if (!r.Skip(pad)) return Bad("attribute padding runs past the end");
    // RFC 8489 §14.5: everything after MESSAGE-INTEGRITY except MESSAGE-INTEGRITY-SHA256 and
    // FINGERPRINT is ignored -- not validated either (a malformed ignored attribute must not
    // get an authenticated message dropped), and never reaches the typed getters.
    if (seen_integrity && *type != attr::kMessageIntegritySha256 && *type != attr::kFingerprint) continue;
    if (auto st = ValidateAttribute(*type, *value, m.transaction_id_); !st.ok()) return st;
    if (*type == attr::kFingerprint) {
      // RFC 8489 §14.7: CRC-32 of the message up to the attribute, XOR 0x5354554E. The header
      // length already counts FINGERPRINT because it must be last (checked above).
      uint32_t expected = Crc32(data.subspan(0, attr_offset)) ^ kFingerprintXor;
      uint32_t got = static_cast<uint32_t>((*value)[0]) << 24 | static_cast<uint32_t>((*value)[1]) << 16 |
                     static_cast<uint32_t>((*value)[2]) << 8 | (*value)[3];
      if (got != expected) return Bad("FINGERPRINT mismatch");
      seen_fingerprint = true;
    }
    if (*type == attr::kMessageIntegrity) seen_integrity = true;
    m.attributes_.push_back({*type, Bytes(value->begin(), value->end())});
  }
  return m;
}

Bytes StunMessage::Serialize(ByteView integrity_key, bool fingerprint, uint8_t padding) const {
  const bool fresh_integrity = !integrity_key.empty();
  Bytes out;
  out.reserve(kHeaderSize + 128);
  ByteWriter w(&out);
  w.U16(EncodeType(cls_, method_));
  w.U16(0);  // patched below
  w.U32(kMagicCookie);
  w.Append(ByteView(transaction_id_.data(), transaction_id_.size()));
  auto put = [&](uint16_t type, ByteView v) {
    w.U16(type);
    w.U16(static_cast<uint16_t>(v.size()));
    w.Append(v);
    out.insert(out.end(), Padded(v.size()) - v.size(), padding);
  };
  bool listed_fingerprint = false;
  for (const auto& a : attributes_) {
    if (a.type == attr::kFingerprint) {
      listed_fingerprint = true;
      continue;  // always recomputed, always last
    }
    if (fresh_integrity && (a.type == attr::kMessageIntegrity || a.type == attr::kMessageIntegritySha256))
      continue;
    if (a.value.size() > 0xFFFF) continue;  // cannot be encoded
    put(a.type, a.value);
  }
  if (fresh_integrity) {
    // RFC 8489 §14.5: length covers up to and including MESSAGE-INTEGRITY when hashing.
    size_t len_with_mi = out.size() - kHeaderSize + 24;
    w.PatchU16(2, static_cast<uint16_t>(len_with_mi));
    auto mac = HmacSha1(integrity_key, ByteView(out.data(), kHeaderSize),
                        ByteView(out.data() + kHeaderSize, out.size() - kHeaderSize));
    put(attr::kMessageIntegrity, ByteView(mac.data(), mac.size()));
  }
  if (fingerprint || (listed_fingerprint && !fresh_integrity)) {
    w.PatchU16(2, static_cast<uint16_t>(out.size() - kHeaderSize + 8));
    uint32_t crc = Crc32(ByteView(out.data(), out.size())) ^ kFingerprintXor;
    Bytes v;
    ByteWriter(&v).U32(crc);
    put(attr::kFingerprint, v);
  }
  w.PatchU16(2, static_cast<uint16_t>(out.size() - kHeaderSize));
  return out;
}

absl::Status VerifyMessageIntegrity(ByteView raw, ByteView key) {
  auto h = ParseHeader(raw);
  if (!h.ok()) return h.status();
  ByteReader r(raw.subspan(kHeaderSize));
  while (r.remaining() > 0) {
    size_t attr_offset = kHeaderSize + r.position();
    auto type = r.U16();
    auto len = r.U16();
    if (!type || !len) return Bad("truncated attribute header");
    auto value = r.Take(*len);
    if (!value || !r.Skip(Padded(*len) - *len)) return Bad("truncated attribute");
    if (*type != attr::kMessageIntegrity) continue;
    if (value->size() != 20) return Bad("MESSAGE-INTEGRITY length is not 20");
    // RFC 8489 §14.5: hash the header with the length adjusted to end after MI, then the
    // attributes that precede MI, exactly as received.
    uint8_t header[kHeaderSize];
    std::memcpy(header, raw.data(), kHeaderSize);
    size_t adjusted = attr_offset - kHeaderSize + 24;
    header[2] = static_cast<uint8_t>(adjusted >> 8);
    header[3] = static_cast<uint8_t>(adjusted);
    auto mac = HmacSha1(key, ByteView(header, kHeaderSize),
                        raw.subspan(kHeaderSize, attr_offset - kHeaderSize));
    // Constant-time comparison.
    uint8_t diff = 0;
    for (size_t i = 0; i < 20; ++i) diff |= static_cast<uint8_t>(mac[i] ^ (*value)[i]);
    if (diff != 0) return absl::UnauthenticatedError("STUN: MESSAGE-INTEGRITY mismatch");
    return absl::OkStatus();
  }
  return Bad("no MESSAGE-INTEGRITY");
}

const Attribute* StunMessage::Find(uint16_t type) const {
  for (const auto& a : attributes_)
    if (a.type == type) return &a;
  return nullptr;
}

void StunMessage::AddUsername(absl::string_view u) {
  auto b = AsBytes(u);
  AddRaw(attr::kUsername, Bytes(b.begin(), b.end()));
}
void StunMessage::AddSoftware(absl::string_view s) {
  auto b = AsBytes(s);
  AddRaw(attr::kSoftware, Bytes(b.begin(), b.end()));
}
void StunMessage::AddXorMappedAddress(const SocketAddress& a) {
  AddRaw(attr::kXorMappedAddress, EncodeAddress(a, true, transaction_id_));
}
void StunMessage::AddMappedAddress(const SocketAddress& a) {
  AddRaw(attr::kMappedAddress, EncodeAddress(a, false, transaction_id_));
}
void StunMessage::AddErrorCode(uint16_t code, absl::string_view reason) {
  Bytes v;
  ByteWriter w(&v);
  w.U16(0);
  w.U8(static_cast<uint8_t>((code / 100) & 0x07));
  w.U8(static_cast<uint8_t>(code % 100));
  w.Append(AsBytes(reason.substr(0, 763)));
  AddRaw(attr::kErrorCode, std::move(v));
}
void StunMessage::AddUnknownAttributes(const std::vector<uint16_t>& types) {
  Bytes v;
  ByteWriter w(&v);
  for (uint16_t t : types) w.U16(t);
  AddRaw(attr::kUnknownAttributes, std::move(v));
}
void StunMessage::AddPriority(uint32_t p) {
  Bytes v;
  ByteWriter(&v).U32(p);
  AddRaw(attr::kPriority, std::move(v));
}
void StunMessage::AddUseCandidate() { AddRaw(attr::kUseCandidate, {}); }
void StunMessage::AddIceControlling(uint64_t t) {
  Bytes v;
  ByteWriter(&v).U64(t);
  AddRaw(attr::kIceControlling, std::move(v));
}
void StunMessage::AddIceControlled(uint64_t t) {
  Bytes v;
  ByteWriter(&v).U64(t);
  AddRaw(attr::kIceControlled, std::move(v));
}

void StunMessage::AddRealm(absl::string_view r) { AddRaw(attr::kRealm, Bytes(r.begin(), r.end())); }
void StunMessage::AddNonce(absl::string_view n) { AddRaw(attr::kNonce, Bytes(n.begin(), n.end())); }
void StunMessage::AddXorAddress(uint16_t type, const SocketAddress& a) {
  AddRaw(type, EncodeAddress(a, true, transaction_id_));
}
void StunMessage::AddLifetime(uint32_t seconds) {
  Bytes v;
  ByteWriter(&v).U32(seconds);
  AddRaw(attr::kLifetime, std::move(v));
}
void StunMessage::AddRequestedTransport(uint8_t protocol) {
  AddRaw(attr::kRequestedTransport, Bytes{protocol, 0, 0, 0});
}
void StunMessage::AddChannelNumber(uint16_t channel) {
  AddRaw(attr::kChannelNumber, Bytes{static_cast<uint8_t>(channel >> 8), static_cast<uint8_t>(channel), 0, 0});
}
void StunMessage::AddData(ByteView data) { AddRaw(attr::kData, Bytes(data.begin(), data.end())); }

std::optional<std::string> StunMessage::realm() const {
  const Attribute* a = Find(attr::kRealm);
  if (!a) return std::nullopt;
  return std::string(a->value.begin(), a->value.end());
}
std::optional<std::string> StunMessage::nonce() const {
  const Attribute* a = Find(attr::kNonce);
  if (!a) return std::nullopt;
  return std::string(a->value.begin(), a->value.end());
}
std::optional<SocketAddress> StunMessage::xor_address(uint16_t type) const {
  const Attribute* a = Find(type);
  if (!a) return std::nullopt;
  return DecodeAddress(a->value, true, transaction_id_);
}
std::optional<uint32_t> StunMessage::lifetime() const {
  const Attribute* a = Find(attr::kLifetime);
  if (!a || a->value.size() != 4) return std::nullopt;
  return ByteReader(a->value).U32();
}
std::optional<uint16_t> StunMessage::channel_number() const {
  const Attribute* a = Find(attr::kChannelNumber);
  if (!a || a->value.size() != 4) return std::nullopt;
  return static_cast<uint16_t>(a->value[0] << 8 | a->value[1]);
}
std::optional<ByteView> StunMessage::data() const {
  const Attribute* a = Find(attr::kData);
  if (!a) return std::nullopt;
  return ByteView(a->value);
}

std::optional<std::string> StunMessage::username() const {
  const Attribute* a = Find(attr::kUsername);
  if (!a) return std::nullopt;
  return std::string(a->value.begin(), a->value.end());
}
std::optional<std::string> StunMessage::software() const {
  const Attribute* a = Find(attr::kSoftware);
  if (!a) return std::nullopt;
  return std::string(a->value.begin(), a->value.end());
}
std::optional<SocketAddress> StunMessage::xor_mapped_address() const {
  const Attribute* a = Find(attr::kXorMappedAddress);
  if (!a) return std::nullopt;
  return DecodeAddress(a->value, true, transaction_id_);
}
std::optional<SocketAddress> StunMessage::mapped_address() const {
  const Attribute* a = Find(attr::kMappedAddress);
  if (!a) return std::nullopt;
  return DecodeAddress(a->value, false, transaction_id_);
}
std::optional<ErrorCode> StunMessage::error_code() const {
  const Attribute* a = Find(attr::kErrorCode);
  if (!a || a->value.size() < 4) return std::nullopt;
  ErrorCode e;
  e.code = static_cast<uint16_t>((a->value[2] & 0x07) * 100 + a->value[3]);
  e.reason.assign(a->value.begin() + 4, a->value.end());
  return e;
}
std::optional<std::vector<uint16_t>> StunMessage::unknown_attributes() const {
  const Attribute* a = Find(attr::kUnknownAttributes);
  if (!a || a->value.size() % 2) return std::nullopt;
  std::vector<uint16_t> out;
  for (size_t i = 0; i + 1 < a->value.size(); i += 2)
    out.push_back(static_cast<uint16_t>(a->value[i] << 8 | a->value[i + 1]));
  return out;
}
std::optional<uint32_t> StunMessage::priority() const {
  const Attribute* a = Find(attr::kPriority);
  if (!a || a->value.size() != 4) return std::nullopt;
  return ByteReader(a->value).U32();
}
std::optional<uint64_t> StunMessage::ice_controlling() const {
  const Attribute* a = Find(attr::kIceControlling);
  if (!a || a->value.size() != 8) return std::nullopt;
  return ByteReader(a->value).U64();
}
std::optional<uint64_t> StunMessage::ice_controlled() const {
  const Attribute* a = Find(attr::kIceControlled);
  if (!a || a->value.size() != 8) return std::nullopt;
  return ByteReader(a->value).U64();
}

std::vector<uint16_t> StunMessage::UnknownComprehensionRequired() const {
  std::vector<uint16_t> out;
  for (const auto& a : attributes_)
    if (attr::IsComprehensionRequired(a.type) && !IsKnown(a.type)) out.push_back(a.type);
  return out;
}

}  // namespace refrtc::stun
