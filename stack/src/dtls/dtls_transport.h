// DTLS 1.2 transport (RFC 6347) for WebRTC (RFC 8827 §6.5, RFC 8842), built on mbedTLS 2.28 with
// memory "BIOs": datagrams go in through HandleRecord and come out through PollOutgoing; mbedTLS's
// retransmission timer reads the `now` passed with the latest input (sans-IO, no clock).
//
// Peer authentication is by certificate fingerprint only (RFC 8122 §5, RFC 8827 §6.5): both
// sides send self-signed certificates (the server requests one), mbedTLS runs with
// VERIFY_OPTIONAL, and the digest of the peer's certificate must equal the remote
// a=fingerprint. Until that check has passed no application data is delivered.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "dtls/certificate.h"
#include "dtls/client_hello_reassembler.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ssl.h"
#include "util/bytes.h"
#include "util/random.h"
#include "util/time.h"

namespace refrtc::dtls {

enum class Role { kClient, kServer };
// W3C RTCDtlsTransportState.
enum class State { kNew, kConnecting, kConnected, kClosed, kFailed };
const char* StateName(State s);  // "new", "connecting", ... as in the W3C enum

// RFC 5764 §4.2: the keying material exported with label "EXTRACTOR-dtls_srtp", split into
// client_write_SRTP_master_key | server_write_SRTP_master_key | client salt | server salt.
struct SrtpKeys {
  int profile = 0;  // RFC 5764 §4.1.2 SRTPProtectionProfile value: 1 = AES128_CM_HMAC_SHA1_80, 2 = _32
  Bytes client_key, server_key, client_salt, server_salt;
};
const char* SrtpProfileName(int profile);  // "AES_CM_128_HMAC_SHA1_80" (W3C stats srtpCipher) or ""

class Transport {
 public:
  // Flight MTU used while handshaking (RFC 6347 §4.1.1.1: flights are fragmented to fit).
  static constexpr size_t kHandshakeMtu = 1200;
  // Give up on a handshake this long after Start (RFC 6347 §4.2.4.1 leaves the limit to the
  // implementation; mbedTLS's own doubling retransmit timer runs from 1 s up to 60 s).
  static constexpr Duration kHandshakeTimeout = std::chrono::seconds(30);
  // Initial DTLS retransmission timer (doubles per retransmission up to 60 s).
  static constexpr uint32_t kInitialRetransmitMs = 250;
  // Queue bounds: beyond these datagrams/records are dropped as a lossy network would.
  static constexpr size_t kMaxOutgoing = 1024;
  static constexpr size_t kMaxAppData = 1024;
  static constexpr size_t kMaxPendingIncoming = 64;

  Transport(std::shared_ptr<Certificate> local, uint64_t rng_seed);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // The remote a=fingerprint (RFC 8122 §5): algorithm e.g. "sha-256", value "AB:CD:...",
  // both case-insensitive. Replaces earlier ones. May come after Start: a handshake that
  // finishes first waits (state kConnecting, no app data) until the fingerprint is known.
  void SetRemoteFingerprint(absl::string_view algorithm, absl::string_view value);
  // An additional a=fingerprint line; RFC 8122 §5: the set using the strongest hash function
  // we support is checked, and the certificate must match one of them.
  void AddRemoteFingerprint(absl::string_view algorithm, absl::string_view value);

  // Client sends its ClientHello at once; server waits for one. Datagrams received before
  // Start are kept (bounded) and processed here.
  absl::Status Start(Role role, Instant now);
  // One UDP datagram demultiplexed as DTLS (RFC 7983: first byte 20..63); may carry several
  // records. Malformed input is dropped.
  void HandleRecord(ByteView datagram, Instant now);
  // Encrypts one application-data record. Errors: not connected (FailedPrecondition), larger
  // than max_app_data_size() (InvalidArgument), outgoing queue full (ResourceExhausted).
  absl::Status Send(ByteView app_data, Instant now);
  std::optional<Bytes> PollOutgoing();
  std::optional<Bytes> PollAppData();
  void HandleTimeout(Instant now);
  std::optional<Instant> PollTimeout() const;
  // Sends close_notify (RFC 5246 §7.2.1) when a session exists; state becomes kClosed.
  void Close(Instant now);

  State state() const { return state_; }
  Role role() const { return role_; }
  std::string failure_reason() const { return failure_reason_; }
  bool remote_closed() const { return remote_closed_; }
  std::optional<SrtpKeys> srtp_keys() const { return srtp_keys_; }
  std::string remote_fingerprint_sha256() const { return remote_fingerprint_sha256_; }
  // DER of the certificate the peer presented (empty before it did).
  Bytes remote_certificate_der() const { return remote_cert_der_; }
  // IANA name, e.g. "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" (W3C stats dtlsCipher); "" before.
  std::string cipher_suite() const { return cipher_suite_; }
  uint16_t cipher_suite_id() const { return cipher_suite_id_; }
  // Largest payload Send accepts (after connect: the 2^14 plaintext limit, RFC 5246 §6.2.1).
  size_t max_app_data_size() const;
  const std::shared_ptr<Certificate>& local_certificate() const { return local_; }
  // Debugging aid (not part of any RFC): once the master secret exists, `key_log` receives one
  // line "CLIENT_RANDOM <hex client random> <hex master secret>" (NSS key log format, what
  // SSLKEYLOGFILE files hold) so captures can be decrypted. Unset = nothing is exported.
  void SetKeyLog(std::function<void(const std::string& line)> key_log) { key_log_ = std::move(key_log); }

 private:
  struct RemoteFp {
    std::string algorithm;  // lowercased
    std::optional<Bytes> digest;  // nullopt when the value did not parse
  };

  // mbedTLS callbacks (ctx = Transport*).
  static int BioSend(void* ctx, const unsigned char* buf, size_t len);
  static int BioRecv(void* ctx, unsigned char* buf, size_t len);
  static void SetTimer(void* ctx, uint32_t int_ms, uint32_t fin_ms);
  static int GetTimer(void* ctx);
  static int Entropy(void* ctx, unsigned char* out, size_t len);
  static int ExportKeys(void* ctx, const unsigned char* ms, const unsigned char* kb, size_t maclen,
                        size_t keylen, size_t ivlen, const unsigned char client_random[32],
                        const unsigned char server_random[32], mbedtls_tls_prf_types prf_type);
  static int VerifyCert(void* ctx, mbedtls_x509_crt* crt, int depth, uint32_t* flags);

  absl::Status Setup();
  void Pump();
  void DriveHandshake();
  bool PeerSentCertificate() const;
  void OnHandshakeDone();
  void VerifyAndConnect();
  void ReadAppData();
  // Checks `der` against the remote fingerprints: "" if it matches, else the reason.
  std::string CheckFingerprint(ByteView der) const;
  void Fail(std::string reason, int alert = -1);
  void HandleMbedError(int ret, absl::string_view where);

  std::shared_ptr<Certificate> local_;
  Random entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_ssl_config conf_;
  mbedtls_ssl_context ssl_;
  bool drbg_ok_ = false;
  bool ssl_ready_ = false;

  Role role_ = Role::kClient;
  State state_ = State::kNew;
  std::string failure_reason_;
  bool remote_closed_ = false;
  bool handshake_done_ = false;
  bool peer_cert_checked_ = false;  // mbedTLS finished; fingerprint may still be pending
  Instant now_{};
  Instant handshake_deadline_{};

  // mbedTLS timer (mbedtls_ssl_set_timer_cb): cancelled when fin_ms == 0.
  bool timer_active_ = false;
  Instant timer_start_{};
  uint32_t timer_int_ms_ = 0, timer_fin_ms_ = 0;

  std::vector<RemoteFp> remote_fps_;
  std::string verify_failure_;  // set by VerifyCert
  std::string remote_fingerprint_sha256_;
  Bytes remote_cert_der_;
  std::string cipher_suite_;
  uint16_t cipher_suite_id_ = 0;

  // Captured by ExportKeys (RFC 5705 exporter inputs); wiped after use.
  bool have_master_ = false;
  unsigned char master_[48];
  unsigned char randoms_[64];
  mbedtls_tls_prf_types prf_type_ = MBEDTLS_SSL_TLS_PRF_NONE;
  std::optional<SrtpKeys> srtp_keys_;
  std::function<void(const std::string&)> key_log_;

  std::deque<Bytes> incoming_;
  ClientHelloReassembler client_hello_;  // until the handshake is done (see its header)
  std::deque<Bytes> outgoing_;
  std::deque<Bytes> app_data_;
  std::vector<unsigned char> read_buf_;
};

}  // namespace refrtc::dtls
