// RTCCertificate::FromPem (a saved certificate + private key, refrtc extension of W3C §4.9): never
// crashes on arbitrary text; a certificate that loads saves (ToPem) to text that loads back to the
// same certificate (fingerprint, expiry, key algorithm).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "refrtc/rtc_certificate.h"

using namespace refrtc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view pem(reinterpret_cast<const char*>(data), size);
  auto cert = RTCCertificate::FromPem(pem);
  if (!cert.ok()) {
    if (cert.status().message().empty()) abort();  // every rejection says why
    return 0;
  }
  auto fps = (*cert)->getFingerprints();
  if (fps.empty() || fps[0].value.empty()) abort();
  auto again = RTCCertificate::FromPem((*cert)->ToPem());
  if (!again.ok()) abort();
  if ((*again)->getFingerprints()[0].value != fps[0].value) abort();
  if ((*again)->expires() != (*cert)->expires()) abort();
  if ((*again)->algorithm_name() != (*cert)->algorithm_name()) abort();
  return 0;
}
