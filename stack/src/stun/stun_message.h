// STUN messages (RFC 8489, which obsoletes RFC 5389): header, attributes, MESSAGE-INTEGRITY
// (HMAC-SHA1, short-term credentials as used by ICE), FINGERPRINT, and the attributes ICE
// needs (RFC 8445 §16.1: PRIORITY, USE-CANDIDATE, ICE-CONTROLLED, ICE-CONTROLLING).
//
// A StunMessage is an ordered list of raw attributes plus typed accessors. Parsing checks the
// header and every attribute length; known attributes are validated for their format. Unknown
// attributes are kept (in order) so that a parsed message re-serializes faithfully.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "util/bytes.h"
#include "util/socket_address.h"

namespace refrtc::stun {

constexpr uint32_t kMagicCookie = 0x2112A442;  // RFC 8489 §5
constexpr size_t kHeaderSize = 20;
constexpr uint32_t kFingerprintXor = 0x5354554E;  // RFC 8489 §14.7
constexpr size_t kMaxUsernameBytes = 513;        // RFC 8489 §14.3

enum class StunClass : uint8_t { kRequest = 0, kIndication = 1, kSuccessResponse = 2, kErrorResponse = 3 };

constexpr uint16_t kMethodBinding = 0x001;
// TURN methods (RFC 8656 §17).
constexpr uint16_t kMethodAllocate = 0x003;
constexpr uint16_t kMethodRefresh = 0x004;
constexpr uint16_t kMethodSend = 0x006;  // indication only
constexpr uint16_t kMethodData = 0x007;  // indication only
constexpr uint16_t kMethodCreatePermission = 0x008;
constexpr uint16_t kMethodChannelBind = 0x009;

// Attribute types (RFC 8489 §18.3, RFC 8445 §16.1).
namespace attr {
constexpr uint16_t kMappedAddress = 0x0001;
constexpr uint16_t kUsername = 0x0006;
constexpr uint16_t kMessageIntegrity = 0x0008;
constexpr uint16_t kErrorCode = 0x0009;
constexpr uint16_t kUnknownAttributes = 0x000A;
constexpr uint16_t kRealm = 0x0014;
constexpr uint16_t kNonce = 0x0015;
constexpr uint16_t kMessageIntegritySha256 = 0x001C;
constexpr uint16_t kUserhash = 0x001E;
// TURN (RFC 8656 §18).
constexpr uint16_t kChannelNumber = 0x000C;
constexpr uint16_t kLifetime = 0x000D;
constexpr uint16_t kXorPeerAddress = 0x0012;
constexpr uint16_t kData = 0x0013;
constexpr uint16_t kXorRelayedAddress = 0x0016;
constexpr uint16_t kRequestedAddressFamily = 0x0017;
constexpr uint16_t kEvenPort = 0x0018;
constexpr uint16_t kRequestedTransport = 0x0019;
constexpr uint16_t kDontFragment = 0x001A;
constexpr uint16_t kReservationToken = 0x0022;
constexpr uint16_t kXorMappedAddress = 0x0020;
constexpr uint16_t kPriority = 0x0024;
constexpr uint16_t kUseCandidate = 0x0025;
constexpr uint16_t kSoftware = 0x8022;
constexpr uint16_t kAlternateServer = 0x8023;
constexpr uint16_t kFingerprint = 0x8028;
constexpr uint16_t kIceControlled = 0x8029;
constexpr uint16_t kIceControlling = 0x802A;
// 0x0000-0x7FFF are comprehension-required (RFC 8489 §14).
inline bool IsComprehensionRequired(uint16_t type) { return type < 0x8000; }
}  // namespace attr

using TransactionId = std::array<uint8_t, 12>;

struct Attribute {
  uint16_t type = 0;
  Bytes value;
  friend bool operator==(const Attribute& a, const Attribute& b) {
    return a.type == b.type && a.value == b.value;
  }
};

struct ErrorCode {  // RFC 8489 §14.8
  uint16_t code = 0;  // 300..699
  std::string reason;
};

// RFC 7983 §7 demultiplexing: a first byte in 0..3 means STUN. Only the first byte is looked at,
// so a malformed STUN-range packet still goes to STUN (and is dropped there).
bool LooksLikeStun(ByteView packet);

class StunMessage {
 public:
  StunMessage() = default;
  StunMessage(StunClass cls, uint16_t method, const TransactionId& tid)
      : cls_(cls), method_(method), transaction_id_(tid) {}

  // Parses one complete STUN message (the whole datagram). Rejects with InvalidArgument and a
  // reason: short header, non-zero top bits, bad magic cookie, length not a multiple of 4 or not
  // matching the datagram, truncated attributes, malformed known attributes, anything after
  // FINGERPRINT, or a FINGERPRINT that does not match. Attributes after MESSAGE-INTEGRITY other
  // than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored (dropped without being validated),
  // as RFC 8489 §14.5 says.
  static absl::StatusOr<StunMessage> Parse(ByteView data);

  // Serializes the attributes in order. MESSAGE-INTEGRITY / FINGERPRINT attributes in the list are
  // written verbatim (MI) or recomputed (FINGERPRINT), which makes Parse->Serialize faithful.
  // When `integrity_key` is non-empty, any listed MI/FINGERPRINT are dropped and a fresh
  // MESSAGE-INTEGRITY (HMAC-SHA1 with that key, RFC 8489 §14.5) is appended; when `fingerprint`
  // is true a fresh FINGERPRINT is appended last (§14.7). `padding` is the byte used to pad
  // attribute values to 4 bytes (any value is legal; RFC 5769's vectors use 0x20).
  Bytes Serialize(ByteView integrity_key = {}, bool fingerprint = false, uint8_t padding = 0) const;

  StunClass cls() const { return cls_; }
  uint16_t method() const { return method_; }
  const TransactionId& transaction_id() const { return transaction_id_; }
  void set_class(StunClass c) { cls_ = c; }
  void set_method(uint16_t m) { method_ = m; }
  void set_transaction_id(const TransactionId& t) { transaction_id_ = t; }
  bool IsBindingRequest() const { return method_ == kMethodBinding && cls_ == StunClass::kRequest; }
  bool IsBindingResponse() const {
    return method_ == kMethodBinding &&
           (cls_ == StunClass::kSuccessResponse || cls_ == StunClass::kErrorResponse);
  }

  const std::vector<Attribute>& attributes() const { return attributes_; }
  const Attribute* Find(uint16_t type) const;  // first occurrence (RFC 8489 §14: later ones ignored)
  bool Has(uint16_t type) const { return Find(type) != nullptr; }
  void AddRaw(uint16_t type, Bytes value) { attributes_.push_back({type, std::move(value)}); }

  // Typed setters (append an attribute).
  void AddUsername(absl::string_view username);
  void AddSoftware(absl::string_view software);
  void AddXorMappedAddress(const SocketAddress& addr);
  void AddMappedAddress(const SocketAddress& addr);
  void AddErrorCode(uint16_t code, absl::string_view reason);
  void AddUnknownAttributes(const std::vector<uint16_t>& types);
  void AddPriority(uint32_t priority);
  void AddUseCandidate();
  void AddIceControlling(uint64_t tie_breaker);
  void AddIceControlled(uint64_t tie_breaker);
  // RFC 8489 §14.9/§14.10 and TURN (RFC 8656 §18).
  void AddRealm(absl::string_view realm);
  void AddNonce(absl::string_view nonce);
  void AddXorAddress(uint16_t type, const SocketAddress& addr);  // XOR-PEER/RELAYED-ADDRESS
  void AddLifetime(uint32_t seconds);
  void AddRequestedTransport(uint8_t protocol);  // 17 = UDP (RFC 8656 §18.11)
  void AddChannelNumber(uint16_t channel);
  void AddData(ByteView data);

  // Typed getters: nullopt when absent (formats were validated by Parse; getters on hand-built
  // messages with malformed values also return nullopt).
  std::optional<std::string> username() const;
  std::optional<std::string> software() const;
  std::optional<SocketAddress> xor_mapped_address() const;
  std::optional<SocketAddress> mapped_address() const;
  std::optional<ErrorCode> error_code() const;
  std::optional<std::vector<uint16_t>> unknown_attributes() const;
  std::optional<uint32_t> priority() const;
  bool use_candidate() const { return Has(attr::kUseCandidate); }
  std::optional<uint64_t> ice_controlling() const;
  std::optional<uint64_t> ice_controlled() const;
  std::optional<std::string> realm() const;
  std::optional<std::string> nonce() const;
  std::optional<SocketAddress> xor_address(uint16_t type) const;  // first XOR-*-ADDRESS of `type`
  std::optional<uint32_t> lifetime() const;
  std::optional<uint16_t> channel_number() const;
  std::optional<ByteView> data() const;  // DATA attribute value (a view into this message)
  bool has_message_integrity() const { return Has(attr::kMessageIntegrity); }
  bool has_fingerprint() const { return Has(attr::kFingerprint); }

  // Comprehension-required attribute types this implementation does not understand
  // (RFC 8489 §6.3.1: a request carrying any gets a 420 with UNKNOWN-ATTRIBUTES).
  std::vector<uint16_t> UnknownComprehensionRequired() const;

  // FINGERPRINT attributes compare by presence only: their value is a function of the encoding
  // (padding bytes may legally differ), not of the message content.
  friend bool operator==(const StunMessage& a, const StunMessage& b) {
    if (a.cls_ != b.cls_ || a.method_ != b.method_ || a.transaction_id_ != b.transaction_id_ ||
        a.attributes_.size() != b.attributes_.size())
      return false;
    for (size_t i = 0; i < a.attributes_.size(); ++i) {
      const Attribute& x = a.attributes_[i];
      const Attribute& y = b.attributes_[i];
      if (x.type != y.type || (x.type != attr::kFingerprint && x.value != y.value)) return false;
    }
    return true;
  }
  friend bool operator!=(const StunMessage& a, const StunMessage& b) { return !(a == b); }

 private:
  StunClass cls_ = StunClass::kRequest;
  uint16_t method_ = kMethodBinding;
  TransactionId transaction_id_{};
  std::vector<Attribute> attributes_;
};

// Verifies MESSAGE-INTEGRITY of a received message over its raw bytes (RFC 8489 §14.5): the HMAC
// covers the header (with the length field rewritten to end just after MESSAGE-INTEGRITY) and
// every attribute before it. `raw` must be the exact datagram. Returns
//  - InvalidArgument if `raw` is not a well-formed STUN message or has no MESSAGE-INTEGRITY,
//  - Unauthenticated if the HMAC does not match, OK otherwise.
absl::Status VerifyMessageIntegrity(ByteView raw, ByteView key);

// HMAC-SHA1 (mbedTLS); exposed for tests.
std::array<uint8_t, 20> HmacSha1(ByteView key, ByteView header, ByteView body);

// Reads the transaction id of something that passed LooksLikeStun and is at least 20 bytes.
std::optional<TransactionId> PeekTransactionId(ByteView packet);

}  // namespace refrtc::stun
