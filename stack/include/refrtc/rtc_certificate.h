// W3C webrtc-pc §4.9 RTCCertificate and RTCPeerConnection.generateCertificate().
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace refrtc {
namespace dtls {
class Certificate;
}

struct RTCDtlsFingerprint {
  std::string algorithm;  // "sha-256"
  std::string value;      // "AB:CD:..." (RFC 8122 §5)
};

class RTCCertificate {
 public:
  // ECDSA P-256 ("ECDSA", namedCurve "P-256"); RSA arrives with issue E.
  // `expires_ms` is relative (default 30 days, §4.9); `unix_time_s` is the host's wall clock.
  static absl::StatusOr<std::shared_ptr<RTCCertificate>> Generate(uint64_t seed, int64_t unix_time_s,
                                                                   int64_t expires_ms = 30LL * 86400 * 1000);
  explicit RTCCertificate(std::shared_ptr<dtls::Certificate> cert) : cert_(std::move(cert)) {}
  // Milliseconds since the Unix epoch (DOMTimeStamp), per §4.9 expires.
  int64_t expires() const;
  std::vector<RTCDtlsFingerprint> getFingerprints() const;
  const std::shared_ptr<dtls::Certificate>& engine_certificate() const { return cert_; }

 private:
  std::shared_ptr<dtls::Certificate> cert_;
};

}  // namespace refrtc
