#include "refrtc/rtc_certificate.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dtls/certificate.h"
#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "util/dom_exception.h"
#include "util/random.h"

namespace refrtc {

absl::Status RTCKeygenAlgorithm::CheckSupported() const {
  // §4.9 generateCertificate: "If the normalizedKeygenAlgorithm parameter identifies an algorithm that
  // the user agent cannot or will not use to generate a certificate for RTCPeerConnection, return a
  // promise that is rejected with a DOMException of type NotSupportedError."
  if (name == Name::kEcdsa) {
    // EcKeyGenParams.namedCurve is compared exactly (WebCrypto: case-sensitive).
    if (namedCurve != "P-256") return NotSupportedError(absl::StrCat("Unsupported EC curve: ", namedCurve));
    return absl::OkStatus();
  }
  // WebCrypto normalizes the hash as an algorithm name: ASCII case-insensitive.
  if (!absl::EqualsIgnoreCase(hash, "SHA-256"))
    return NotSupportedError(absl::StrCat("Unsupported RSA hash: ", hash, " (only SHA-256)"));
  if (modulusLength < 1024 || modulusLength > 8192 || modulusLength % 8 != 0)
    return NotSupportedError(
        absl::StrCat("Unsupported RSA modulusLength: ", modulusLength, " (1024..8192, a multiple of 8)"));
  if (publicExponent != 65537)
    return NotSupportedError(absl::StrCat("Unsupported RSA publicExponent: ", publicExponent, " (only 65537)"));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<RTCCertificate>> RTCCertificate::Generate(const RTCKeygenAlgorithm& algorithm,
                                                                         uint64_t seed, int64_t unix_time_s,
                                                                         int64_t expires_ms) {
  // §4.9 generateCertificate steps: RTCCertificateExpiration.expires is an [EnforceRange]
  // DOMTimeStamp (a negative value fails the conversion: TypeError); larger than 31536000000 is
  // capped; then the algorithm must be supported (NotSupportedError).
  if (expires_ms < 0) return TypeError("RTCCertificateExpiration.expires must not be negative");
  expires_ms = std::min(expires_ms, kMaxExpiresMs);
  if (absl::Status s = algorithm.CheckSupported(); !s.ok()) return s;
  Random rng(seed);  // seeds the key generator's CTR_DRBG (dtls::Certificate): no global RNG
  const int64_t not_after = unix_time_s + expires_ms / 1000;
  absl::StatusOr<std::shared_ptr<dtls::Certificate>> cert =
      algorithm.name == RTCKeygenAlgorithm::Name::kEcdsa
          ? dtls::Certificate::GenerateEcdsaP256(rng, unix_time_s, not_after)
          : dtls::Certificate::GenerateRsa(rng, static_cast<int>(algorithm.modulusLength),
                                           static_cast<uint32_t>(algorithm.publicExponent), unix_time_s, not_after);
  if (!cert.ok()) return OperationError(cert.status().message());
  return std::make_shared<RTCCertificate>(*cert);
}

absl::StatusOr<std::shared_ptr<RTCCertificate>> RTCCertificate::Generate(uint64_t seed, int64_t unix_time_s,
                                                                         int64_t expires_ms) {
  return Generate(RTCKeygenAlgorithm::Ecdsa(), seed, unix_time_s, expires_ms);
}

int64_t RTCCertificate::expires() const { return cert_->expires_unix_s() * 1000; }

std::vector<RTCDtlsFingerprint> RTCCertificate::getFingerprints() const {
  // §4.9 RTCDtlsFingerprint.value: "in lowercase hex string" (the SDP a=fingerprint line keeps the
  // uppercase of RFC 8122 §5). The certificates refrtc makes are signed with SHA-256, so sha-256 is
  // also the JSEP §5.2.1 "digest algorithm used in the certificate signature".
  return {RTCDtlsFingerprint{"sha-256", absl::AsciiStrToLower(cert_->Fingerprint("sha-256"))}};
}

std::string RTCCertificate::algorithm_name() const {
  return mbedtls_pk_get_type(cert_->pk()) == MBEDTLS_PK_RSA ? "RSASSA-PKCS1-v1_5" : "ECDSA";
}

std::string RTCCertificate::ToPem() const { return cert_->CertPem() + cert_->KeyPem(); }

namespace {

// One PEM block "-----BEGIN <label>-----" ... "-----END <label>-----" (RFC 7468 §2), with the
// label it carries. Blocks are found by their encapsulation boundaries only; the base64 inside is
// left to mbedTLS.
struct PemBlock {
  std::string label;
  absl::string_view text;  // from "-----BEGIN" through the END line's dashes
};

absl::StatusOr<std::vector<PemBlock>> SplitPem(absl::string_view pem) {
  constexpr absl::string_view kBegin = "-----BEGIN ", kEnd = "-----END ", kDashes = "-----";
  std::vector<PemBlock> blocks;
  size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != absl::string_view::npos) {
    size_t label_start = pos + kBegin.size();
    size_t label_end = pem.find(kDashes, label_start);
    if (label_end == absl::string_view::npos) return absl::InvalidArgumentError("PEM: unterminated BEGIN line");
    absl::string_view label = pem.substr(label_start, label_end - label_start);
    if (label.empty() || label.size() > 64 || label.find('\n') != absl::string_view::npos)
      return absl::InvalidArgumentError("PEM: malformed BEGIN line");
    std::string end = absl::StrCat(kEnd, label, kDashes);
    size_t end_pos = pem.find(end, label_end + kDashes.size());
    if (end_pos == absl::string_view::npos)
      return absl::InvalidArgumentError(absl::StrCat("PEM: no END line for ", label));
    size_t nested = pem.find(kBegin, label_end);
    if (nested < end_pos) return absl::InvalidArgumentError(absl::StrCat("PEM: ", label, " block is not closed"));
    blocks.push_back(PemBlock{std::string(label), pem.substr(pos, end_pos + end.size() - pos)});
    pos = end_pos + end.size();
  }
  return blocks;
}

}  // namespace

absl::StatusOr<std::shared_ptr<RTCCertificate>> RTCCertificate::FromPem(absl::string_view pem) {
  if (pem.size() > 64 * 1024) return absl::InvalidArgumentError("PEM: input larger than 64 KiB");
  auto blocks = SplitPem(pem);
  if (!blocks.ok()) return blocks.status();
  const PemBlock* cert = nullptr;
  const PemBlock* key = nullptr;
  for (const PemBlock& b : *blocks) {
    if (b.label == "CERTIFICATE") {
      if (cert) return absl::InvalidArgumentError("PEM: more than one CERTIFICATE block");
      cert = &b;
    } else if (b.label == "PRIVATE KEY" || b.label == "EC PRIVATE KEY" || b.label == "RSA PRIVATE KEY") {
      if (key) return absl::InvalidArgumentError("PEM: more than one private key block");
      key = &b;
    } else if (b.label == "ENCRYPTED PRIVATE KEY") {
      return absl::InvalidArgumentError("PEM: encrypted private keys are not supported");
    } else {
      return absl::InvalidArgumentError(absl::StrCat("PEM: unexpected block ", b.label));
    }
  }
  if (!cert) return absl::InvalidArgumentError("PEM: no CERTIFICATE block");
  if (!key) return absl::InvalidArgumentError("PEM: no private key block");
  // RFC 1421 encrypted legacy keys carry a Proc-Type header inside the block.
  if (key->text.find("Proc-Type:") != absl::string_view::npos)
    return absl::InvalidArgumentError("PEM: encrypted private keys are not supported");
  // The text handed to mbedTLS ends with a newline after the END line, as mbedTLS writes it.
  auto loaded = dtls::Certificate::FromPem(absl::StrCat(cert->text, "\n"), absl::StrCat(key->text, "\n"));
  if (!loaded.ok()) return absl::InvalidArgumentError(loaded.status().message());
  // Only the key types generateCertificate makes (they are what our DTLS configuration offers
  // cipher suites and signature algorithms for).
  mbedtls_pk_context* pk = (*loaded)->pk();
  switch (mbedtls_pk_get_type(pk)) {
    case MBEDTLS_PK_ECKEY:
    case MBEDTLS_PK_ECDSA:
      if (mbedtls_pk_ec(*pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1)
        return absl::InvalidArgumentError("PEM: EC keys must be on P-256");
      break;
    case MBEDTLS_PK_RSA: {
      size_t bits = mbedtls_pk_get_bitlen(pk);
      if (bits < 1024 || bits > 8192) return absl::InvalidArgumentError("PEM: RSA keys must have 1024..8192 bits");
      break;
    }
    default:
      return absl::InvalidArgumentError("PEM: unsupported key type (EC P-256 or RSA only)");
  }
  return std::make_shared<RTCCertificate>(*loaded);
}

}  // namespace refrtc
