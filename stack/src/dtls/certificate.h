// RTCCertificate's engine side: a key pair plus a self-signed X.509 certificate, and the
// certificate fingerprints that SDP carries in a=fingerprint (RFC 8122 §5).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"
#include "util/bytes.h"
#include "util/random.h"

namespace refrtc::dtls {

// mbedTLS error text with its code, e.g. "X509 - ... (-0x2700)".
std::string MbedError(int ret);

// Hash functions usable in a=fingerprint (RFC 8122 §5 hash-func, names as in the IANA
// "Hash Function Textual Names" registry). Lookup is case-insensitive.
// Returns the digest of `der` or nullopt for an unsupported algorithm.
std::optional<Bytes> CertificateDigest(absl::string_view algorithm, ByteView der);
// "AB:CD:..." — uppercase hex pairs joined by colons (RFC 8122 §5 fingerprint).
std::string FormatFingerprint(ByteView digest);
// Inverse of FormatFingerprint, case-insensitive; nullopt on malformed input.
std::optional<Bytes> ParseFingerprint(absl::string_view value);

class Certificate {
 public:
  // ECDSA P-256 key (the W3C generateCertificate default, {name: "ECDSA", namedCurve: "P-256"})
  // and a self-signed X.509 v3 certificate: subject = issuer = CN=refrtc, random positive
  // serial, notBefore = now - 1 day (clock skew), notAfter = expires_unix_s, SHA-256 signature.
  static absl::StatusOr<std::shared_ptr<Certificate>> GenerateEcdsaP256(Random& rng, int64_t unix_now_s,
                                                                        int64_t expires_unix_s);
  // RSASSA-PKCS1-v1_5 (W3C generateCertificate with {name: "RSASSA-PKCS1-v1_5", modulusLength,
  // publicExponent, hash: "SHA-256"}); same certificate fields as above.
  static absl::StatusOr<std::shared_ptr<Certificate>> GenerateRsa(Random& rng, int modulus_bits,
                                                                  uint32_t public_exponent, int64_t unix_now_s,
                                                                  int64_t expires_unix_s);
  // Loads a certificate and its private key (any key type mbedTLS parses: EC or RSA).
  // Fails when the key does not belong to the certificate.
  static absl::StatusOr<std::shared_ptr<Certificate>> FromPem(absl::string_view cert_pem,
                                                              absl::string_view key_pem);

  ~Certificate();
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  std::string CertPem() const { return cert_pem_; }
  std::string KeyPem() const { return key_pem_; }
  ByteView Der() const { return ByteView(crt_.raw.p, crt_.raw.len); }
  // Empty string for an unsupported algorithm. Supports sha-1, sha-224, sha-256, sha-384, sha-512.
  std::string Fingerprint(absl::string_view algorithm = "sha-256") const;
  int64_t expires_unix_s() const { return expires_unix_s_; }

  // For dtls::Transport (mbedtls_ssl_conf_own_cert takes non-const pointers but only reads).
  mbedtls_x509_crt* crt() const { return &crt_; }
  mbedtls_pk_context* pk() const { return &pk_; }

 private:
  Certificate();
  static absl::StatusOr<std::shared_ptr<Certificate>> Generate(
      Random& rng, int64_t unix_now_s, int64_t expires_unix_s,
      const std::function<int(mbedtls_pk_context*, mbedtls_ctr_drbg_context*)>& make_key);
  absl::Status Load(absl::string_view cert_pem, absl::string_view key_pem);

  mutable mbedtls_x509_crt crt_;
  mutable mbedtls_pk_context pk_;
  std::string cert_pem_;
  std::string key_pem_;
  int64_t expires_unix_s_ = 0;
};

// Calendar helpers (proleptic Gregorian, UTC) shared with tests.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d);

}  // namespace refrtc::dtls
