#include "dtls/dtls_transport.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "mbedtls/error.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/ssl_ciphersuites.h"

namespace refrtc::dtls {
namespace {


// Cipher suites in preference order, matching what libwebrtc/BoringSSL offers for DTLS 1.2
// (RFC 8827 §6.5 requires TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256; RSA-certificate peers need
// the ECDHE_RSA ones). mbedTLS skips suites that do not fit our own certificate's key type.
const int kCipherSuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    0,
};

// RFC 5764 §4.1.2 use_srtp profiles offered (the only non-NULL ones mbedTLS 2.28 knows).
const mbedtls_ssl_srtp_profile kSrtpProfiles[] = {
    MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
    MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_32,
    MBEDTLS_TLS_SRTP_UNSET,
};

// RFC 8122 §5: with several fingerprints, use the strongest hash function supported.
int AlgorithmStrength(absl::string_view a) {
  if (a == "sha-512") return 5;
  if (a == "sha-384") return 4;
  if (a == "sha-256") return 3;
  if (a == "sha-224") return 2;
  if (a == "sha-1") return 1;
  return 0;
}

}  // namespace

const char* StateName(State s) {
  switch (s) {
    case State::kNew: return "new";
    case State::kConnecting: return "connecting";
    case State::kConnected: return "connected";
    case State::kClosed: return "closed";
    case State::kFailed: return "failed";
  }
  return "";
}

const char* SrtpProfileName(int profile) {
  switch (profile) {
    case MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80: return "AES_CM_128_HMAC_SHA1_80";
    case MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_32: return "AES_CM_128_HMAC_SHA1_32";
    default: return "";
  }
}

Transport::Transport(std::shared_ptr<Certificate> local, uint64_t rng_seed)
    : local_(std::move(local)), entropy_(rng_seed), read_buf_(MBEDTLS_SSL_IN_CONTENT_LEN) {
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_ssl_config_init(&conf_);
  mbedtls_ssl_init(&ssl_);
  static const unsigned char kPers[] = "refrtc-dtls";
  drbg_ok_ = mbedtls_ctr_drbg_seed(&drbg_, &Transport::Entropy, this, kPers, sizeof(kPers) - 1) == 0;
}

Transport::~Transport() {
  mbedtls_ssl_free(&ssl_);
  mbedtls_ssl_config_free(&conf_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_platform_zeroize(master_, sizeof(master_));
}

// ---------------------------------------------------------------------------------------------
// mbedTLS callbacks

int Transport::Entropy(void* ctx, unsigned char* out, size_t len) {
  static_cast<Transport*>(ctx)->entropy_.Fill(out, len);
  return 0;
}

// Memory BIO, send side: every call is one datagram (mbedTLS packs records up to the MTU).
int Transport::BioSend(void* ctx, const unsigned char* buf, size_t len) {
  auto* t = static_cast<Transport*>(ctx);
  if (t->outgoing_.size() < kMaxOutgoing) t->outgoing_.emplace_back(buf, buf + len);
  return static_cast<int>(len);  // a full queue behaves as a lossy network
}

// Memory BIO, receive side: one datagram per call (RFC 6347 §4.1.1: records never span datagrams).
int Transport::BioRecv(void* ctx, unsigned char* buf, size_t len) {
  auto* t = static_cast<Transport*>(ctx);
  if (t->incoming_.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
  Bytes d = std::move(t->incoming_.front());
  t->incoming_.pop_front();
  size_t n = std::min(len, d.size());  // an oversize datagram is truncated; its tail record is then dropped
  std::memcpy(buf, d.data(), n);
  return static_cast<int>(n);
}

// RFC 6347 §4.2.4 retransmission timer, driven by the host's time: the "current time" is the
// `now` of the latest input.
void Transport::SetTimer(void* ctx, uint32_t int_ms, uint32_t fin_ms) {
  auto* t = static_cast<Transport*>(ctx);
  t->timer_active_ = fin_ms != 0;
  t->timer_start_ = t->now_;
  t->timer_int_ms_ = int_ms;
  t->timer_fin_ms_ = fin_ms;
}

int Transport::GetTimer(void* ctx) {
  auto* t = static_cast<Transport*>(ctx);
  if (!t->timer_active_) return -1;
  int64_t elapsed = ToMillis(t->now_ - t->timer_start_);
  if (elapsed >= t->timer_fin_ms_) return 2;
  if (elapsed >= t->timer_int_ms_) return 1;
  return 0;
}

// mbedTLS 2.28 has no RFC 5705 exporter: keep the master secret and randoms to run the
// exporter PRF ourselves once the handshake is done.
int Transport::ExportKeys(void* ctx, const unsigned char* ms, const unsigned char*, size_t, size_t, size_t,
                          const unsigned char client_random[32], const unsigned char server_random[32],
                          mbedtls_tls_prf_types prf_type) {
  auto* t = static_cast<Transport*>(ctx);
  std::memcpy(t->master_, ms, 48);
  std::memcpy(t->randoms_, client_random, 32);
  std::memcpy(t->randoms_ + 32, server_random, 32);
  t->prf_type_ = prf_type;
  t->have_master_ = true;
  if (t->key_log_) {
    // NSS key log format ("SSLKEYLOGFILE"): CLIENT_RANDOM <32-byte client random> <48-byte master
    // secret>, both hex. Wireshark derives the RFC 5246 §6.3 key block from these for DTLS 1.2.
    static const char kHex[] = "0123456789abcdef";
    std::string line = "CLIENT_RANDOM ";
    for (int i = 0; i < 32; ++i) {
      line.push_back(kHex[client_random[i] >> 4]);
      line.push_back(kHex[client_random[i] & 15]);
    }
    line.push_back(' ');
    for (int i = 0; i < 48; ++i) {
      line.push_back(kHex[ms[i] >> 4]);
      line.push_back(kHex[ms[i] & 15]);
    }
    t->key_log_(line);
  }
  return 0;
}

// Certificate check during the handshake (depth 0 = the peer's own certificate): chain trust is
// irrelevant for WebRTC's self-signed certificates (VERIFY_OPTIONAL); the fingerprint decides
// (RFC 8827 §6.5). Failing here aborts the handshake with an alert before Finished.
int Transport::VerifyCert(void* ctx, mbedtls_x509_crt* crt, int depth, uint32_t* flags) {
  auto* t = static_cast<Transport*>(ctx);
  if (depth != 0 || t->remote_fps_.empty()) return 0;  // unknown yet: checked after the handshake
  std::string reason = t->CheckFingerprint(ByteView(crt->raw.p, crt->raw.len));
  if (reason.empty()) return 0;
  t->verify_failure_ = reason;
  *flags |= MBEDTLS_X509_BADCERT_OTHER;
  return MBEDTLS_ERR_X509_FATAL_ERROR;
}

// ---------------------------------------------------------------------------------------------

void Transport::SetRemoteFingerprint(absl::string_view algorithm, absl::string_view value) {
  remote_fps_.clear();
  AddRemoteFingerprint(algorithm, value);
}

void Transport::AddRemoteFingerprint(absl::string_view algorithm, absl::string_view value) {
  remote_fps_.push_back(
      RemoteFp{absl::AsciiStrToLower(absl::StripAsciiWhitespace(algorithm)), ParseFingerprint(value)});
  // A handshake that completed before the fingerprint was known is verified now.
  if (state_ == State::kConnecting && handshake_done_) VerifyAndConnect();
  // A remote description changing the fingerprint while connected (e.g. with an ICE restart):
  // the association's certificate is fixed, so it must still match (RFC 8842 §5: the
  // fingerprint binds the DTLS association; a different certificate would need a new
  // association, which this transport never starts). A mismatch tears the transport down.
  if (state_ == State::kConnected) {
    std::string reason = CheckFingerprint(remote_cert_der_);
    if (!reason.empty()) Fail("remote fingerprint changed: " + reason, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
  }
}

std::string Transport::CheckFingerprint(ByteView der) const {
  if (remote_fps_.empty()) return "no remote fingerprint";
  int best = 0;
  for (const auto& fp : remote_fps_) best = std::max(best, AlgorithmStrength(fp.algorithm));
  if (best == 0) return "unsupported fingerprint algorithm";
  for (const auto& fp : remote_fps_) {
    if (AlgorithmStrength(fp.algorithm) != best || !fp.digest) continue;
    auto d = CertificateDigest(fp.algorithm, der);
    if (d && *d == *fp.digest) return "";
  }
  return "fingerprint mismatch";
}

absl::Status Transport::Setup() {
  if (!drbg_ok_) return absl::InternalError("DTLS random generator could not be seeded");
  if (!local_) return absl::InvalidArgumentError("no local certificate");
  int endpoint = role_ == Role::kClient ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER;
  int ret = mbedtls_ssl_config_defaults(&conf_, endpoint, MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (ret != 0) return absl::InternalError("ssl_config_defaults: " + MbedError(ret));
  mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, &drbg_);
  // DTLS 1.2 only (RFC 8827 §6.5; DTLS 1.0 is deprecated by RFC 8996).
  mbedtls_ssl_conf_min_version(&conf_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&conf_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  // RFC 8842 §5.1 / RFC 8827 §6.5: both sides present certificates, checked by fingerprint.
  // The server sends CertificateRequest because authmode != NONE.
  mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_OPTIONAL);
  mbedtls_ssl_conf_verify(&conf_, &Transport::VerifyCert, this);
  ret = mbedtls_ssl_conf_own_cert(&conf_, local_->crt(), local_->pk());
  if (ret != 0) return absl::InternalError("ssl_conf_own_cert: " + MbedError(ret));
  mbedtls_ssl_conf_ciphersuites(&conf_, kCipherSuites);
  mbedtls_ssl_conf_renegotiation(&conf_, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
  mbedtls_ssl_conf_session_tickets(&conf_, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
#if defined(MBEDTLS_SSL_DTLS_HELLO_VERIFY) && defined(MBEDTLS_SSL_SRV_C)
  // No HelloVerifyRequest: ICE connectivity checks already proved the address (RFC 8842 §5).
  if (role_ == Role::kServer) mbedtls_ssl_conf_dtls_cookies(&conf_, nullptr, nullptr, nullptr);
#endif
  ret = mbedtls_ssl_conf_dtls_srtp_protection_profiles(&conf_, kSrtpProfiles);
  if (ret != 0) return absl::InternalError("dtls_srtp_protection_profiles: " + MbedError(ret));
  mbedtls_ssl_conf_export_keys_ext_cb(&conf_, &Transport::ExportKeys, this);
  // RFC 6347 §4.2.4.1 recommends a 1 s initial timer and lets implementations choose. The first
  // flight is often lost for a good reason here — the peer's DTLS is not running yet because its
  // answer is still in signalling (seen with libdatachannel and werift) — so a 1 s timer cost a
  // whole second of setup. 250 ms, doubling to 60 s, keeps flights rare on real paths.
  mbedtls_ssl_conf_handshake_timeout(&conf_, kInitialRetransmitMs, 60000);
  ret = mbedtls_ssl_setup(&ssl_, &conf_);
  if (ret != 0) return absl::InternalError("ssl_setup: " + MbedError(ret));
  mbedtls_ssl_set_bio(&ssl_, this, &Transport::BioSend, &Transport::BioRecv, nullptr);
  mbedtls_ssl_set_timer_cb(&ssl_, this, &Transport::SetTimer, &Transport::GetTimer);
  mbedtls_ssl_set_mtu(&ssl_, kHandshakeMtu);
  ssl_ready_ = true;
  return absl::OkStatus();
}

absl::Status Transport::Start(Role role, Instant now) {
  if (state_ != State::kNew) return absl::FailedPreconditionError("DTLS transport already started");
  now_ = now;
  role_ = role;
  absl::Status s = Setup();
  if (!s.ok()) {
    Fail(std::string(s.message()));
    return s;
  }
  state_ = State::kConnecting;
  handshake_deadline_ = now + kHandshakeTimeout;
  // The client's first call writes ClientHello (RFC 6347 §4.2.1 flight 1); the server's reads.
  if (role_ == Role::kClient) DriveHandshake();
  Pump();
  return absl::OkStatus();
}

void Transport::HandleRecord(ByteView datagram, Instant now) {
  now_ = now;
  if (state_ == State::kClosed || state_ == State::kFailed) return;
  // RFC 7983 §7: DTLS datagrams start with a content type byte in 20..63.
  if (datagram.empty() || datagram[0] < 20 || datagram[0] > 63) return;
  if (incoming_.size() >= kMaxPendingIncoming) return;
  if (!handshake_done_) {
    // A fragmented ClientHello is reassembled here (mbedTLS 2.28 cannot, see the header).
    auto whole = client_hello_.Process(datagram);
    if (!whole) return;  // a fragment was buffered
    incoming_.push_back(std::move(*whole));
  } else {
    incoming_.emplace_back(datagram.begin(), datagram.end());
  }
  if (state_ == State::kNew) return;  // kept for Start
  Pump();
}

void Transport::Pump() {
  if (state_ != State::kConnecting && state_ != State::kConnected) return;
  if (!handshake_done_) {
    // Each round consumes at least one queued datagram (a reset server continues with the rest).
    size_t rounds = incoming_.size() + 1;
    while (state_ == State::kConnecting && !handshake_done_ && rounds-- > 0) {
      DriveHandshake();
      if (incoming_.empty()) break;
    }
    return;
  }
  if (state_ == State::kConnecting) {
    VerifyAndConnect();
  } else if (state_ == State::kConnected) {
    ReadAppData();
  }
}

bool Transport::PeerSentCertificate() const {
  if (ssl_.session_negotiate == nullptr) return false;
#if defined(MBEDTLS_SSL_KEEP_PEER_CERTIFICATE)
  return ssl_.session_negotiate->peer_cert != nullptr;
#else
  return ssl_.session_negotiate->peer_cert_digest != nullptr;
#endif
}

void Transport::DriveHandshake() {
  // mbedtls_ssl_handshake() step by step, so that a peer without a certificate is rejected as
  // soon as its Certificate message has been processed, before our Finished (RFC 8827 §6.5;
  // VERIFY_OPTIONAL alone would let the handshake complete).
  const int cert_state = role_ == Role::kServer ? MBEDTLS_SSL_CLIENT_CERTIFICATE : MBEDTLS_SSL_SERVER_CERTIFICATE;
  int ret = 0;
  while (ssl_.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
    ret = mbedtls_ssl_handshake_step(&ssl_);
    if (ret != 0) break;
    if (!peer_cert_checked_ && ssl_.state > cert_state) {
      peer_cert_checked_ = true;
      if (!PeerSentCertificate()) {
        Fail("peer presented no certificate", MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
        return;
      }
    }
  }
  if (ret == 0) {
    OnHandshakeDone();
  } else if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
    HandleMbedError(ret, "DTLS handshake");
  }
}

void Transport::OnHandshakeDone() {
  handshake_done_ = true;
  const char* suite = mbedtls_ssl_get_ciphersuite(&ssl_);
  if (suite != nullptr) {
    cipher_suite_id_ = static_cast<uint16_t>(mbedtls_ssl_get_ciphersuite_id(suite));
    cipher_suite_ = suite;  // mbedTLS spells the IANA name with '-'
    std::replace(cipher_suite_.begin(), cipher_suite_.end(), '-', '_');
  }
  const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&ssl_);
  if (peer != nullptr) {
    remote_cert_der_.assign(peer->raw.p, peer->raw.p + peer->raw.len);
    auto d = CertificateDigest("sha-256", remote_cert_der_);
    if (d) remote_fingerprint_sha256_ = FormatFingerprint(*d);
  }
  // RFC 5764 §4.2: keying material = PRF(master_secret, "EXTRACTOR-dtls_srtp",
  // client_random + server_random) (RFC 5705 §4, no context), 2 * (16 + 14) bytes for AES_CM_128.
  mbedtls_dtls_srtp_info srtp;
  mbedtls_ssl_get_dtls_srtp_negotiation_result(&ssl_, &srtp);
  if (srtp.chosen_dtls_srtp_profile != MBEDTLS_TLS_SRTP_UNSET && have_master_) {
    unsigned char km[60];
    int ret = mbedtls_ssl_tls_prf(prf_type_, master_, sizeof(master_), "EXTRACTOR-dtls_srtp", randoms_,
                                  sizeof(randoms_), km, sizeof(km));
    if (ret == 0) {
      SrtpKeys k;
      k.profile = srtp.chosen_dtls_srtp_profile;
      k.client_key.assign(km, km + 16);
      k.server_key.assign(km + 16, km + 32);
      k.client_salt.assign(km + 32, km + 46);
      k.server_salt.assign(km + 46, km + 60);
      srtp_keys_ = std::move(k);
    }
    mbedtls_platform_zeroize(km, sizeof(km));
  }
  mbedtls_platform_zeroize(master_, sizeof(master_));
  have_master_ = false;
  // The handshake MTU bounded flights; application records are bounded by SCTP's own MTU and the
  // 2^14 record limit only.
  mbedtls_ssl_set_mtu(&ssl_, 0);
  if (peer == nullptr) {
    // RFC 8827 §6.5: the peer must present a certificate matching its fingerprint.
    Fail("peer presented no certificate", MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
    return;
  }
  VerifyAndConnect();
}

void Transport::VerifyAndConnect() {
  if (remote_fps_.empty()) return;  // wait for SetRemoteFingerprint
  std::string reason = CheckFingerprint(remote_cert_der_);
  if (!reason.empty()) {
    Fail(reason, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
    return;
  }
  state_ = State::kConnected;
  ReadAppData();
}

void Transport::ReadAppData() {
  for (int i = 0; i < 4096 && state_ == State::kConnected; ++i) {
    int ret = mbedtls_ssl_read(&ssl_, read_buf_.data(), read_buf_.size());
    if (ret > 0) {
      if (app_data_.size() < kMaxAppData) app_data_.emplace_back(read_buf_.data(), read_buf_.data() + ret);
      continue;
    }
    if (ret == 0) {  // empty record
      if (incoming_.empty()) break;
      continue;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_TIMEOUT)
      break;
#if defined(MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE)
    if (ret == MBEDTLS_ERR_SSL_CLIENT_RECONNECT) break;  // cannot happen without cookies; drop
#endif
    HandleMbedError(ret, "DTLS read");
    break;
  }
}

void Transport::HandleMbedError(int ret, absl::string_view where) {
  if (!verify_failure_.empty()) {
    Fail(verify_failure_, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
    return;
  }
  if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
    // RFC 5246 §7.2.1: answer close_notify with our own; W3C: state "closed".
    remote_closed_ = true;
    if (ssl_ready_) mbedtls_ssl_close_notify(&ssl_);
    state_ = State::kClosed;
    timer_active_ = false;
    incoming_.clear();
    return;
  }
  if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
    Fail(absl::StrCat("received fatal alert ", static_cast<int>(ssl_.in_msg ? ssl_.in_msg[1] : 0)));
    return;
  }
  if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
    Fail("handshake timeout");
    return;
  }
  // Garbage that reached the server before any valid ClientHello: drop it and start over,
  // nothing has been sent yet (the address is unauthenticated, RFC 6347 §4.1.2.7 spirit).
  if (role_ == Role::kServer && !handshake_done_ && ssl_.state <= MBEDTLS_SSL_CLIENT_HELLO) {
    if (mbedtls_ssl_session_reset(&ssl_) == 0) {
      mbedtls_ssl_set_mtu(&ssl_, kHandshakeMtu);
      timer_active_ = false;
      have_master_ = false;
      peer_cert_checked_ = false;
      return;
    }
  }
  Fail(absl::StrCat(where, ": ", MbedError(ret)));
}

void Transport::Fail(std::string reason, int alert) {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  state_ = State::kFailed;
  failure_reason_ = std::move(reason);
  if (alert >= 0 && ssl_ready_) {
    mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL, static_cast<unsigned char>(alert));
  }
  timer_active_ = false;
  incoming_.clear();
  app_data_.clear();  // nothing from a failed (possibly unauthenticated) session is delivered
}

absl::Status Transport::Send(ByteView app_data, Instant now) {
  now_ = now;
  if (state_ != State::kConnected) return absl::FailedPreconditionError("DTLS transport is not connected");
  if (app_data.empty()) return absl::InvalidArgumentError("empty DTLS application data");
  if (app_data.size() > max_app_data_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("DTLS record payload ", app_data.size(), " exceeds maximum ", max_app_data_size()));
  }
  if (outgoing_.size() >= kMaxOutgoing) return absl::ResourceExhaustedError("DTLS outgoing queue full");
  int ret = mbedtls_ssl_write(&ssl_, app_data.data(), app_data.size());
  if (ret < 0) return absl::InternalError("DTLS write: " + MbedError(ret));
  if (static_cast<size_t>(ret) != app_data.size()) return absl::InternalError("DTLS write was partial");
  return absl::OkStatus();
}

size_t Transport::max_app_data_size() const {
  if (!ssl_ready_) return 0;
  int n = mbedtls_ssl_get_max_out_record_payload(&ssl_);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

std::optional<Bytes> Transport::PollOutgoing() {
  if (outgoing_.empty()) return std::nullopt;
  Bytes b = std::move(outgoing_.front());
  outgoing_.pop_front();
  return b;
}

std::optional<Bytes> Transport::PollAppData() {
  if (app_data_.empty()) return std::nullopt;
  Bytes b = std::move(app_data_.front());
  app_data_.pop_front();
  return b;
}

void Transport::HandleTimeout(Instant now) {
  now_ = now;
  if (state_ != State::kConnecting) return;
  if (now >= handshake_deadline_) {
    Fail(handshake_done_ && remote_fps_.empty() ? "handshake timeout: no remote fingerprint was given"
                                                : "handshake timeout");
    return;
  }
  // RFC 6347 §4.2.4: on timer expiry mbedTLS retransmits the last flight and doubles the timer.
  if (!handshake_done_ && GetTimer(this) == 2) {
    DriveHandshake();
    Pump();
  }
}

std::optional<Instant> Transport::PollTimeout() const {
  if (state_ != State::kConnecting) return std::nullopt;
  Instant t = handshake_deadline_;
  if (timer_active_ && !handshake_done_) t = std::min(t, timer_start_ + milliseconds(timer_fin_ms_));
  return t;
}

void Transport::Close(Instant now) {
  now_ = now;
  if (state_ == State::kClosed || state_ == State::kFailed) return;
  // RFC 5246 §7.2.1 close_notify (mbedTLS sends it once the handshake is over).
  if (state_ != State::kNew && ssl_ready_ && handshake_done_) mbedtls_ssl_close_notify(&ssl_);
  state_ = State::kClosed;
  timer_active_ = false;
  incoming_.clear();
}

}  // namespace refrtc::dtls
