// webrtc-identity wire forms from the network: the a=identity value (base64 JSON, RFC 8827 §7.4),
// the assertion contents (RFC 8827 §7.1 fingerprint JSON) and the refrtc test IdP's token check.
// The first byte picks the target; nothing may crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/identity_assertion.h"
#include "refrtc/test_identity_provider.h"
#include "util/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto a = refrtc::identity::ParseIdentityAttribute(in);
      if (a.ok()) {
        // Round trip: what we parsed re-encodes to something that parses to the same thing.
        auto b = refrtc::identity::ParseIdentityAttribute(refrtc::identity::EncodeIdentityAttribute(
            {a->idp, a->assertion}));
        if (!b.ok() || b->idp.domain != a->idp.domain || b->assertion != a->assertion) __builtin_trap();
      }
      break;
    }
    case 1: {
      // Raw JSON (not base64) through the attribute parser's JSON path.
      (void)refrtc::identity::ParseIdentityAttribute(refrtc::Base64Encode(refrtc::AsBytes(in)));
      break;
    }
    case 2: {
      auto c = refrtc::identity::ParseFingerprintContents(in);
      if (c.ok()) (void)refrtc::identity::FingerprintsCovered({{"sha-256", "AB:CD"}}, *c);
      (void)refrtc::identity::IdentityDomainMatches(in, "idp.example");
      break;
    }
    case 3: {
      refrtc::TestIdentityProviderOptions o;
      o.key = "k";
      o.unix_ms = [] { return int64_t{1764000000000}; };
      refrtc::TestIdentityProvider idp(o);
      auto req = std::make_shared<refrtc::RTCIdentityValidationRequest>();
      idp.validateAssertion(in, "https://fuzz.invalid", req);
      if (req->state() == refrtc::RTCPromiseState::kPending) __builtin_trap();  // a sync IdP always settles
      break;
    }
  }
  return 0;
}
