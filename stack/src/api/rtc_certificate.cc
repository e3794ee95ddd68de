#include "refrtc/rtc_certificate.h"

#include "absl/strings/ascii.h"
#include "dtls/certificate.h"
#include "util/random.h"

namespace refrtc {

absl::StatusOr<std::shared_ptr<RTCCertificate>> RTCCertificate::Generate(uint64_t seed, int64_t unix_time_s,
                                                                         int64_t expires_ms) {
  Random rng(seed);
  // §4.9: expires is relative to now; the X.509 notAfter carries the same instant.
  auto cert = dtls::Certificate::GenerateEcdsaP256(rng, unix_time_s, unix_time_s + expires_ms / 1000);
  if (!cert.ok()) return cert.status();
  return std::make_shared<RTCCertificate>(*cert);
}

int64_t RTCCertificate::expires() const { return cert_->expires_unix_s() * 1000; }

std::vector<RTCDtlsFingerprint> RTCCertificate::getFingerprints() const {
  // §4.9 RTCDtlsFingerprint.value: "in lowercase hex string" (the SDP a=fingerprint line keeps the
  // uppercase of RFC 8122 §5).
  return {RTCDtlsFingerprint{"sha-256", absl::AsciiStrToLower(cert_->Fingerprint("sha-256"))}};
}

}  // namespace refrtc
