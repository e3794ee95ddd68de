// W3C webrtc-pc §4.9 RTCCertificate and RTCPeerConnection.generateCertificate().
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refrtc {
namespace dtls {
class Certificate;
}

struct RTCDtlsFingerprint {
  std::string algorithm;  // "sha-256"
  std::string value;      // "ab:cd:..." (RFC 8122 §5 syntax, lowercase per §4.9)
};

// generateCertificate's keygenAlgorithm after WebCrypto normalization (the host parses the
// AlgorithmIdentifier: JSON in the native driver, a JS object or string in the WASM package).
// §4.9 names two algorithms a user agent must support:
//   {name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: Uint8Array [1, 0, 1], hash: "SHA-256"}
//   {name: "ECDSA", namedCurve: "P-256"}
// What refrtc accepts (anything else is NotSupportedError, §4.9 generateCertificate):
//   ECDSA: namedCurve "P-256" (as Chromium and Firefox).
//   RSASSA-PKCS1-v1_5: hash SHA-256; modulusLength 1024..8192 and a multiple of 8 (Chromium's range,
//   rtc::KeyParams kRsaMinModSize/kRsaMaxModSize; generation takes seconds from 4096 bits on);
//   publicExponent 65537 only (Chromium also takes other odd exponents).
struct RTCKeygenAlgorithm {
  enum class Name { kEcdsa, kRsassaPkcs1v15 };
  Name name = Name::kEcdsa;
  std::string namedCurve = "P-256";  // ECDSA (EcKeyGenParams.namedCurve, case-sensitive)
  uint32_t modulusLength = 2048;     // RSASSA-PKCS1-v1_5 (RsaKeyGenParams.modulusLength)
  uint64_t publicExponent = 65537;   // RSASSA-PKCS1-v1_5 (the big-endian BigInteger, as a number)
  std::string hash = "SHA-256";      // RSASSA-PKCS1-v1_5 (RsaHashedKeyGenParams.hash name)

  static RTCKeygenAlgorithm Ecdsa() { return RTCKeygenAlgorithm(); }
  static RTCKeygenAlgorithm Rsa(uint32_t modulus_length = 2048) {
    RTCKeygenAlgorithm a;
    a.name = Name::kRsassaPkcs1v15;
    a.modulusLength = modulus_length;
    return a;
  }
  // OK, or NotSupportedError naming the unsupported parameter (§4.9 generateCertificate).
  absl::Status CheckSupported() const;
};

class RTCCertificate {
 public:
  static constexpr int64_t kDefaultExpiresMs = 30LL * 86400 * 1000;  // §4.9: 2592000000 (30 days)
  static constexpr int64_t kMaxExpiresMs = 365LL * 86400 * 1000;     // §4.9: capped at 31536000000

  // §4.9 generateCertificate(keygenAlgorithm). `expires_ms` is RTCCertificateExpiration.expires,
  // relative to `unix_time_s` (the host's wall clock; the engine reads no clock): negative is a
  // TypeError ([EnforceRange] unsigned long long), larger than kMaxExpiresMs is capped, 0 gives an
  // already-expired certificate (the constructor then throws InvalidAccessError). The key comes from
  // a CTR_DRBG seeded from `seed` only (sans-IO: no global RNG). Errors: NotSupportedError for an
  // unsupported algorithm (see RTCKeygenAlgorithm), TypeError for a negative expires, OperationError
  // if key generation fails.
  static absl::StatusOr<std::shared_ptr<RTCCertificate>> Generate(const RTCKeygenAlgorithm& algorithm, uint64_t seed,
                                                                   int64_t unix_time_s,
                                                                   int64_t expires_ms = kDefaultExpiresMs);
  // ECDSA P-256 (the default algorithm), as Generate(RTCKeygenAlgorithm::Ecdsa(), ...).
  static absl::StatusOr<std::shared_ptr<RTCCertificate>> Generate(uint64_t seed, int64_t unix_time_s,
                                                                   int64_t expires_ms = kDefaultExpiresMs);

  // Saving a certificate across runs (a refrtc extension; browsers persist RTCCertificate through
  // IndexedDB, §4.9 "serializable"): the X.509 certificate and its private key as PEM, in one string
  // ("-----BEGIN CERTIFICATE-----" block then the private key block). The key is NOT encrypted:
  // store the string as the secret it is.
  std::string ToPem() const;
  // The inverse: exactly one CERTIFICATE block and one private key block ("PRIVATE KEY", "EC PRIVATE
  // KEY" or "RSA PRIVATE KEY", unencrypted), in either order, the key matching the certificate, an EC
  // P-256 or RSA 1024..8192-bit key. expires() is the certificate's notAfter (an expired certificate
  // loads; the RTCPeerConnection constructor rejects it). Bad input → InvalidArgumentError (DOM name
  // TypeError) with the reason; never crashes.
  static absl::StatusOr<std::shared_ptr<RTCCertificate>> FromPem(absl::string_view pem);

  explicit RTCCertificate(std::shared_ptr<dtls::Certificate> cert) : cert_(std::move(cert)) {}
  // Milliseconds since the Unix epoch (DOMTimeStamp), per §4.9 expires.
  int64_t expires() const;
  std::vector<RTCDtlsFingerprint> getFingerprints() const;
  // "ECDSA" or "RSASSA-PKCS1-v1_5": the key's algorithm.
  std::string algorithm_name() const;
  const std::shared_ptr<dtls::Certificate>& engine_certificate() const { return cert_; }

 private:
  std::shared_ptr<dtls::Certificate> cert_;
};

}  // namespace refrtc
