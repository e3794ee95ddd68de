// "refrtc-test-idp": an identity provider for tests and examples (not for production: a shared
// HMAC key stands in for the IdP's server). Interoperates with the JS one in
// wasm/lib/test_idp.js: same token format, same key → a native peer validates a WASM peer's
// assertion and back.
//
// Token (the RTCIdentityAssertionResult.assertion string), JSON:
//   {"identity":"alice@idp.example","contents":"<contents>","expires":<unix ms, 0 = never>,
//    "signature":"<lowercase hex HMAC-SHA256(key, "refrtc-test-idp\n" identity "\n" expires "\n" contents)>"}
// where `expires` is written in decimal in the signed string. validateAssertion rejects a bad
// signature with RTCError "idp-token-invalid", an expired token with "idp-token-expired".
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "refrtc/rtc_identity.h"

namespace refrtc {

// Failure injection.
enum class TestIdpFailure {
  kNone,
  kBadSignature,  // generateAssertion signs with a corrupted MAC (the validator rejects it)
  kError,         // both callbacks reject with a plain error (→ "idp-execution-failure")
  kTimeout,       // both callbacks never settle (→ "idp-timeout" at the UA's deadline)
  kNeedLogin,     // generateAssertion rejects with "idp-need-login" and loginUrl
};
// "none", "badSignature", "error", "timeout", "needLogin"; InvalidArgument for anything else.
absl::StatusOr<TestIdpFailure> ParseTestIdpFailure(absl::string_view s);

struct TestIdentityProviderOptions {
  std::string domain = "idp.example";  // the IdP's domain: identities are user@domain
  std::string key;                     // the HMAC key (UTF-8 bytes)
  // The identity generateAssertion asserts; "" = the usernameHint if given, else "user@<domain>".
  std::string name;
  TestIdpFailure fail = TestIdpFailure::kNone;
  std::string login_url = "https://idp.example/login";  // with kNeedLogin
  // Token lifetime: expires = now + lifetime_ms (0 = tokens never expire). `unix_ms` is the
  // host's wall clock (the engine reads no clock); without it tokens never expire and expiry
  // is not checked.
  int64_t lifetime_ms = 0;
  std::function<int64_t()> unix_ms;
};

class TestIdentityProvider : public RTCIdentityProvider {
 public:
  explicit TestIdentityProvider(TestIdentityProviderOptions options) : options_(std::move(options)) {}
  void generateAssertion(const std::string& contents, const std::string& origin,
                         const RTCIdentityProviderOptions& options,
                         std::shared_ptr<RTCIdentityAssertionRequest> request) override;
  void validateAssertion(const std::string& assertion, const std::string& origin,
                         std::shared_ptr<RTCIdentityValidationRequest> request) override;
  const TestIdentityProviderOptions& options() const { return options_; }
  // Requests a kTimeout IdP is holding (never settled), for tests.
  size_t held_requests() const { return held_generate_.size() + held_validate_.size(); }

  // The token for (identity, contents, expires) under `key` (exposed for tests and fuzzers).
  static std::string MakeToken(absl::string_view key, absl::string_view identity, absl::string_view contents,
                               int64_t expires_ms);
  // The signature of a token's fields: lowercase hex HMAC-SHA256.
  static std::string Sign(absl::string_view key, absl::string_view identity, absl::string_view contents,
                          int64_t expires_ms);

 private:
  TestIdentityProviderOptions options_;
  std::vector<std::shared_ptr<RTCIdentityAssertionRequest>> held_generate_;
  std::vector<std::shared_ptr<RTCIdentityValidationRequest>> held_validate_;
};

}  // namespace refrtc
