// SRTP/SRTCP (RFC 3711) over libsrtp2: one SrtpSession protects OR unprotects the packets of one
// direction of a DTLS-SRTP transport (RFC 5764), for every SSRC of that direction (libsrtp's
// ssrc_any_outbound / ssrc_any_inbound templates: a stream per SSRC is made on first use; inbound,
// only once a packet of that SSRC has authenticated).
//
// Profiles: AES_CM_128_HMAC_SHA1_80 and _32 (RFC 3711 §4.1.1, §4.2; RFC 5764 §4.1.2) and
// AEAD_AES_128_GCM (RFC 7714 §14.2). Which libsrtp2 build is linked (and whether it has GCM) is
// chosen in cmake/Srtp.cmake.
//
// Replay protection and limits (RFC 3711 §3.3.2, §3.4, §9.2):
//  - SRTP: a sliding window of kRtpReplayWindow packet indices behind the highest authenticated one.
//    A packet more than that far behind fails with OutOfRange ("too old"); one already received in the
//    window with AlreadyExists. The 48-bit index (ROC‖SEQ) is estimated from the 16-bit SEQ as in
//    RFC 3711 §3.3.1 / Appendix A, so the sequence may wrap freely as long as consecutive packets of
//    an SSRC are less than 2^15 apart; a jump of ≥ 2^15 is mis-estimated and then fails
//    authentication. The window/ROC only advance after a packet authenticates.
//  - SRTCP: the 31-bit SRTCP index travels in the packet (E-flag ‖ index), replay window 128
//    (fixed in libsrtp). Unencrypted SRTCP (E flag 0, RFC 3711 §3.4) is refused with
//    InvalidArgument for every profile: WebRTC requires confidentiality (RFC 8827 §6.5).
//  - Protecting the same SEQ (RTP) twice for one SSRC is refused (AlreadyExists): it would reuse
//    keystream. Retransmissions go out with a new SEQ (RTX, RFC 4588).
//  - Master key lifetime: libsrtp refuses to protect past 2^48 SRTP / 2^31 SRTCP packets per key
//    (FailedPrecondition); DTLS-SRTP rekeys with a new handshake.
//  - The packet length limit is kMaxPacketSize.
//
// Errors (absl::Status codes): InvalidArgument malformed packet (not RTP/RTCP version 2, header or
// header extension longer than the packet, shorter than header + tag, too large); Unauthenticated
// authentication tag mismatch; AlreadyExists replayed packet; OutOfRange packet older than the replay
// window; FailedPrecondition key usage limit reached / moved-from session / wrong direction;
// Unimplemented profile not supported by the linked libsrtp build; Internal anything else from libsrtp.
// On any error the packet's contents are unspecified and it must be dropped.
//
// Not thread-safe: one session belongs to one engine (single-threaded). Sessions of different engines
// are independent; libsrtp's process-wide initialisation (srtp_init) runs once, lazily and
// thread-safely, on the first Create.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/bytes.h"

struct srtp_ctx_t_;  // libsrtp's session (srtp_t)

namespace refrtc::dtls {
enum class Role;  // dtls/dtls_transport.h
struct SrtpKeys;
}  // namespace refrtc::dtls

namespace refrtc::srtp {

enum class Profile {
  kAes128CmHmacSha1_80,  // RFC 5764 SRTP_AES128_CM_HMAC_SHA1_80 (0x0001)
  kAes128CmHmacSha1_32,  // RFC 5764 SRTP_AES128_CM_HMAC_SHA1_32 (0x0002); SRTCP tag stays 80 bits
  kAeadAes128Gcm,        // RFC 7714 SRTP_AEAD_AES_128_GCM (0x0007)
};

// RFC 5764 §4.1.2 / RFC 7714 §14.2 SRTPProtectionProfile value <-> Profile.
std::optional<Profile> ProfileFromDtlsId(int id);
int DtlsId(Profile p);
const char* ProfileName(Profile p);  // "AES_CM_128_HMAC_SHA1_80", ... "AEAD_AES_128_GCM"
size_t MasterKeyLength(Profile p);   // 16 for all three
size_t MasterSaltLength(Profile p);  // 14 (AES-CM), 12 (GCM, RFC 7714 §12)
size_t RtpOverhead(Profile p);       // bytes ProtectRtp adds: auth tag 10 / 4 / 16
size_t RtcpOverhead(Profile p);      // bytes ProtectRtcp adds: E‖index (4) + tag 10 / 10 / 16

enum class Direction { kProtect, kUnprotect };

class SrtpSession {
 public:
  static constexpr size_t kRtpReplayWindow = 1024;  // as libwebrtc: tolerates video reordering
  static constexpr size_t kRtcpReplayWindow = 128;
  static constexpr size_t kMaxPacketSize = 65535;  // protected size, IPv4/IPv6 UDP payload bound

  // master_key/master_salt: RFC 3711 §8.2 master key and salt (MasterKeyLength/MasterSaltLength).
  static absl::StatusOr<SrtpSession> Create(Profile profile, Direction direction, ByteView master_key,
                                            ByteView master_salt);

  SrtpSession(SrtpSession&& other) noexcept;
  SrtpSession& operator=(SrtpSession&& other) noexcept;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;
  ~SrtpSession();

  // In place: RTP packet → SRTP packet (grows by RtpOverhead), SRTP → RTP (shrinks), likewise for
  // (compound) RTCP. Protect* need a kProtect session, Unprotect* a kUnprotect one.
  absl::Status ProtectRtp(Bytes& packet);
  absl::Status UnprotectRtp(Bytes& packet);
  absl::Status ProtectRtcp(Bytes& packet);
  absl::Status UnprotectRtcp(Bytes& packet);

  Profile profile() const { return profile_; }
  Direction direction() const { return direction_; }

 private:
  SrtpSession(Profile profile, Direction direction, srtp_ctx_t_* ctx)
      : profile_(profile), direction_(direction), ctx_(ctx) {}
  absl::Status Check(Direction wanted) const;

  Profile profile_;
  Direction direction_;
  srtp_ctx_t_* ctx_ = nullptr;
};

// The two sessions of a DTLS-SRTP transport.
struct SrtpSessions {
  SrtpSession outbound;  // kProtect
  SrtpSession inbound;   // kUnprotect
};

// RFC 5764 §4.2: the DTLS client protects with client_write_SRTP_master_key/salt and unprotects with
// the server's; the server the other way round. keys.profile is the negotiated SRTPProtectionProfile.
absl::StatusOr<SrtpSessions> CreateDtlsSrtpSessions(const dtls::SrtpKeys& keys, dtls::Role local_role);

// Minimal RTP header check (RFC 3550 §5.1, §5.3.1): version 2 and the fixed header, CSRC list and
// header extension all inside `packet`. Returns the header length (the payload offset).
absl::StatusOr<size_t> RtpHeaderLength(ByteView packet);

}  // namespace refrtc::srtp
