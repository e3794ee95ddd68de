#include "srtp/srtp_session.h"

#include <srtp2/srtp.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dtls/dtls_transport.h"

namespace refrtc::srtp {
namespace {

constexpr size_t kRtpFixedHeader = 12;   // RFC 3550 §5.1
constexpr size_t kRtcpFixedHeader = 8;   // RFC 3711 §3.4: header + sender SSRC stay in the clear
constexpr size_t kSrtcpIndexLength = 4;  // RFC 3711 §3.4: E flag ‖ 31-bit SRTCP index

// libsrtp must be initialised once per process before any srtp_create; a function-local static is
// initialised exactly once even with concurrent callers (C++11 §6.7), and is the only global state.
srtp_err_status_t EnsureLibsrtpInitialised() {
  static const srtp_err_status_t status = srtp_init();
  return status;
}

size_t RtpTagLength(Profile p) {
  switch (p) {
    case Profile::kAes128CmHmacSha1_80: return 10;
    case Profile::kAes128CmHmacSha1_32: return 4;
    case Profile::kAeadAes128Gcm: return 16;  // RFC 7714 §14.2: 16-octet tag
  }
  return 0;
}

size_t RtcpTagLength(Profile p) {
  // RFC 5764 §4.1.2: both AES-CM profiles use the 80-bit SRTCP tag.
  return p == Profile::kAeadAes128Gcm ? 16 : 10;
}

absl::Status FromLibsrtp(srtp_err_status_t s, absl::string_view what) {
  switch (s) {
    case srtp_err_status_ok:
      return absl::OkStatus();
    case srtp_err_status_auth_fail:
      return absl::UnauthenticatedError(absl::StrCat(what, ": authentication tag mismatch"));
    case srtp_err_status_replay_fail:
      return absl::AlreadyExistsError(absl::StrCat(what, ": replayed packet (index already seen)"));
    case srtp_err_status_replay_old:
      return absl::OutOfRangeError(absl::StrCat(what, ": packet index older than the replay window"));
    case srtp_err_status_key_expired:
      return absl::FailedPreconditionError(absl::StrCat(what, ": master key usage limit reached"));
    case srtp_err_status_bad_param:
      return absl::InvalidArgumentError(absl::StrCat(what, ": malformed packet"));
    case srtp_err_status_cant_check:  // SRTCP E flag not matching the session's confidentiality
      return absl::InvalidArgumentError(absl::StrCat(what, ": SRTCP encryption flag not acceptable"));
    default:
      return absl::InternalError(absl::StrCat(what, ": libsrtp error ", static_cast<int>(s)));
  }
}

void SetCryptoPolicies(Profile p, srtp_policy_t* policy) {
  switch (p) {
    case Profile::kAes128CmHmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
      break;
    case Profile::kAes128CmHmacSha1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy->rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);  // RFC 5764 §4.1.2
      break;
    case Profile::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtcp);
      break;
  }
}

}  // namespace

std::optional<Profile> ProfileFromDtlsId(int id) {
  switch (id) {
    case 0x0001: return Profile::kAes128CmHmacSha1_80;
    case 0x0002: return Profile::kAes128CmHmacSha1_32;
    case 0x0007: return Profile::kAeadAes128Gcm;
    default: return std::nullopt;
  }
}

int DtlsId(Profile p) {
  switch (p) {
    case Profile::kAes128CmHmacSha1_80: return 0x0001;
    case Profile::kAes128CmHmacSha1_32: return 0x0002;
    case Profile::kAeadAes128Gcm: return 0x0007;
  }
  return 0;
}

const char* ProfileName(Profile p) {
  switch (p) {
    case Profile::kAes128CmHmacSha1_80: return "AES_CM_128_HMAC_SHA1_80";
    case Profile::kAes128CmHmacSha1_32: return "AES_CM_128_HMAC_SHA1_32";
    case Profile::kAeadAes128Gcm: return "AEAD_AES_128_GCM";
  }
  return "";
}

size_t MasterKeyLength(Profile) { return 16; }
size_t MasterSaltLength(Profile p) { return p == Profile::kAeadAes128Gcm ? 12 : 14; }
size_t RtpOverhead(Profile p) { return RtpTagLength(p); }
size_t RtcpOverhead(Profile p) { return kSrtcpIndexLength + RtcpTagLength(p); }

absl::StatusOr<size_t> RtpHeaderLength(ByteView packet) {
  if (packet.size() < kRtpFixedHeader) return absl::InvalidArgumentError("rtp: shorter than the fixed header");
  if (packet[0] >> 6 != 2) return absl::InvalidArgumentError("rtp: version is not 2");
  size_t len = kRtpFixedHeader + 4u * (packet[0] & 0x0f);  // CSRC list (CC)
  if (packet.size() < len) return absl::InvalidArgumentError("rtp: CSRC list past the end");
  if (packet[0] & 0x10) {  // X: RFC 3550 §5.3.1 profile (16) ‖ length in 32-bit words (16) ‖ data
    if (packet.size() < len + 4) return absl::InvalidArgumentError("rtp: header extension past the end");
    const size_t words = static_cast<size_t>(packet[len + 2]) << 8 | packet[len + 3];
    len += 4 + 4 * words;
    if (packet.size() < len) return absl::InvalidArgumentError("rtp: header extension past the end");
  }
  return len;
}

absl::StatusOr<SrtpSession> SrtpSession::Create(Profile profile, Direction direction, ByteView master_key,
                                                ByteView master_salt) {
  if (master_key.size() != MasterKeyLength(profile) || master_salt.size() != MasterSaltLength(profile)) {
    return absl::InvalidArgumentError(absl::StrCat("srtp: ", ProfileName(profile), " needs a ",
                                                   MasterKeyLength(profile), "-byte master key and a ",
                                                   MasterSaltLength(profile), "-byte master salt"));
  }
  if (srtp_err_status_t s = EnsureLibsrtpInitialised(); s != srtp_err_status_ok) {
    return absl::InternalError(absl::StrCat("srtp: srtp_init failed (", static_cast<int>(s), ")"));
  }
  // RFC 3711 §8.2 master key ‖ master salt, as libsrtp takes it.
  uint8_t key[SRTP_MAX_KEY_LEN] = {};
  std::memcpy(key, master_key.data(), master_key.size());
  std::memcpy(key + master_key.size(), master_salt.data(), master_salt.size());

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  SetCryptoPolicies(profile, &policy);
  policy.ssrc.type = direction == Direction::kProtect ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = key;
  policy.window_size = kRtpReplayWindow;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;

  srtp_t ctx = nullptr;
  const srtp_err_status_t s = srtp_create(&ctx, &policy);
  std::memset(key, 0, sizeof(key));
  if (s != srtp_err_status_ok) {
    if (ctx) srtp_dealloc(ctx);
    // The internal-crypto build has no AES-GCM: srtp_create cannot allocate the cipher.
    if (profile == Profile::kAeadAes128Gcm && (s == srtp_err_status_bad_param || s == srtp_err_status_alloc_fail ||
                                               s == srtp_err_status_fail)) {
      return absl::UnimplementedError("srtp: AEAD_AES_128_GCM is not supported by the linked libsrtp build");
    }
    return absl::InternalError(absl::StrCat("srtp: srtp_create failed (", static_cast<int>(s), ")"));
  }
  return SrtpSession(profile, direction, ctx);
}

SrtpSession::SrtpSession(SrtpSession&& other) noexcept
    : profile_(other.profile_), direction_(other.direction_), ctx_(std::exchange(other.ctx_, nullptr)) {}

SrtpSession& SrtpSession::operator=(SrtpSession&& other) noexcept {
  if (this != &other) {
    if (ctx_) srtp_dealloc(ctx_);
    profile_ = other.profile_;
    direction_ = other.direction_;
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

SrtpSession::~SrtpSession() {
  if (ctx_) srtp_dealloc(ctx_);
}

absl::Status SrtpSession::Check(Direction wanted) const {
  if (!ctx_) return absl::FailedPreconditionError("srtp: session was moved from");
  if (direction_ != wanted) {
    return absl::FailedPreconditionError(wanted == Direction::kProtect ? "srtp: this session only unprotects"
                                                                       : "srtp: this session only protects");
  }
  return absl::OkStatus();
}

// RFC 3711 §3.3: encrypt the payload, append the authentication tag (or, RFC 7714 §8, the AEAD tag).
absl::Status SrtpSession::ProtectRtp(Bytes& packet) {
  if (auto st = Check(Direction::kProtect); !st.ok()) return st;
  if (auto hdr = RtpHeaderLength(packet); !hdr.ok()) return hdr.status();
  if (packet.size() + RtpOverhead(profile_) > kMaxPacketSize) return absl::InvalidArgumentError("srtp: packet too large");
  const size_t original = packet.size();
  packet.resize(original + SRTP_MAX_TRAILER_LEN);
  int len = static_cast<int>(original);
  const srtp_err_status_t s = srtp_protect(ctx_, packet.data(), &len);
  if (s != srtp_err_status_ok) {
    packet.resize(original);
    return FromLibsrtp(s, "srtp protect");
  }
  packet.resize(static_cast<size_t>(len));
  return absl::OkStatus();
}

// RFC 3711 §3.3: estimate the index, replay check, verify the tag, decrypt, then update ROC/window.
absl::Status SrtpSession::UnprotectRtp(Bytes& packet) {
  if (auto st = Check(Direction::kUnprotect); !st.ok()) return st;
  auto hdr = RtpHeaderLength(packet);
  if (!hdr.ok()) return hdr.status();
  if (packet.size() < *hdr + RtpTagLength(profile_)) {
    return absl::InvalidArgumentError("srtp: shorter than the RTP header plus the authentication tag");
  }
  if (packet.size() > kMaxPacketSize) return absl::InvalidArgumentError("srtp: packet too large");
  int len = static_cast<int>(packet.size());
  const srtp_err_status_t s = srtp_unprotect(ctx_, packet.data(), &len);
  if (s != srtp_err_status_ok) return FromLibsrtp(s, "srtp unprotect");
  packet.resize(static_cast<size_t>(len));
  return absl::OkStatus();
}

// RFC 3711 §3.4 (RFC 7714 §9 for GCM): encrypt after the first 8 octets, append E=1 ‖ index, tag.
absl::Status SrtpSession::ProtectRtcp(Bytes& packet) {
  if (auto st = Check(Direction::kProtect); !st.ok()) return st;
  if (packet.size() < kRtcpFixedHeader) return absl::InvalidArgumentError("srtcp: shorter than the RTCP header");
  if (packet[0] >> 6 != 2) return absl::InvalidArgumentError("srtcp: version is not 2");
  if (packet.size() + RtcpOverhead(profile_) > kMaxPacketSize) {
    return absl::InvalidArgumentError("srtcp: packet too large");
  }
  const size_t original = packet.size();
  packet.resize(original + kSrtcpIndexLength + SRTP_MAX_TRAILER_LEN);  // 2.5 has no SRTP_MAX_SRTCP_TRAILER_LEN
  int len = static_cast<int>(original);
  const srtp_err_status_t s = srtp_protect_rtcp(ctx_, packet.data(), &len);
  if (s != srtp_err_status_ok) {
    packet.resize(original);
    return FromLibsrtp(s, "srtcp protect");
  }
  packet.resize(static_cast<size_t>(len));
  return absl::OkStatus();
}

// RFC 3711 §3.4 lets a sender leave an SRTCP packet unencrypted (E=0, authenticated only). refrtc
// refuses such packets for every profile (issue F, libsrtp #817/#818 class): WebRTC requires
// confidentiality for all media and RTCP (RFC 8827 §6.5, no NULL cipher), our own sessions always
// encrypt (E=1), and libsrtp 2.5 is inconsistent about it — it refuses E=0 on a confidential AES-CM
// session (srtp_err_status_cant_check) but accepts it for AEAD after authenticating the whole
// packet as associated data only, i.e. unencrypted RTCP from a peer that never negotiated it.
absl::Status SrtpSession::UnprotectRtcp(Bytes& packet) {
  if (auto st = Check(Direction::kUnprotect); !st.ok()) return st;
  if (packet.size() < kRtcpFixedHeader + kSrtcpIndexLength + RtcpTagLength(profile_)) {
    return absl::InvalidArgumentError("srtcp: shorter than the RTCP header plus SRTCP index and tag");
  }
  if (packet[0] >> 6 != 2) return absl::InvalidArgumentError("srtcp: version is not 2");
  // The E flag ‖ SRTCP index word: before the tag for AES-CM (RFC 3711 §3.4), last for AEAD
  // (RFC 7714 §9: the tag belongs to the ciphertext).
  const size_t e_flag = profile_ == Profile::kAeadAes128Gcm
                            ? packet.size() - kSrtcpIndexLength
                            : packet.size() - kSrtcpIndexLength - RtcpTagLength(profile_);
  if ((packet[e_flag] & 0x80) == 0) {
    return absl::InvalidArgumentError("srtcp: unencrypted packet (E flag 0) refused: SRTCP must be encrypted");
  }
  if (packet.size() > kMaxPacketSize) return absl::InvalidArgumentError("srtcp: packet too large");
  int len = static_cast<int>(packet.size());
  const srtp_err_status_t s = srtp_unprotect_rtcp(ctx_, packet.data(), &len);
  if (s != srtp_err_status_ok) return FromLibsrtp(s, "srtcp unprotect");
  packet.resize(static_cast<size_t>(len));
  return absl::OkStatus();
}

absl::StatusOr<SrtpSessions> CreateDtlsSrtpSessions(const dtls::SrtpKeys& keys, dtls::Role local_role) {
  const std::optional<Profile> profile = ProfileFromDtlsId(keys.profile);
  if (!profile) return absl::InvalidArgumentError(absl::StrCat("srtp: unsupported SRTP protection profile ", keys.profile));
  // RFC 5764 §4.2: the client writes with the client_write key/salt, the server with the server's.
  const bool client = local_role == dtls::Role::kClient;
  const Bytes& out_key = client ? keys.client_key : keys.server_key;
  const Bytes& out_salt = client ? keys.client_salt : keys.server_salt;
  const Bytes& in_key = client ? keys.server_key : keys.client_key;
  const Bytes& in_salt = client ? keys.server_salt : keys.client_salt;
  auto outbound = SrtpSession::Create(*profile, Direction::kProtect, out_key, out_salt);
  if (!outbound.ok()) return outbound.status();
  auto inbound = SrtpSession::Create(*profile, Direction::kUnprotect, in_key, in_salt);
  if (!inbound.ok()) return inbound.status();
  return SrtpSessions{std::move(*outbound), std::move(*inbound)};
}

}  // namespace refrtc::srtp
