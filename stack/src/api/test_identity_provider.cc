// The refrtc test IdP (see refrtc/test_identity_provider.h for the token format).
#include "refrtc/test_identity_provider.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "mbedtls/md.h"
#include "util/codec.h"

namespace refrtc {

namespace {
using json = nlohmann::json;
constexpr size_t kMaxToken = 64 * 1024;

// Constant-time comparison of two MACs (the attacker sees only pass/fail).
bool SameMac(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}
}  // namespace

absl::StatusOr<TestIdpFailure> ParseTestIdpFailure(absl::string_view s) {
  if (s.empty() || s == "none") return TestIdpFailure::kNone;
  if (s == "badSignature") return TestIdpFailure::kBadSignature;
  if (s == "error") return TestIdpFailure::kError;
  if (s == "timeout") return TestIdpFailure::kTimeout;
  if (s == "needLogin") return TestIdpFailure::kNeedLogin;
  return absl::InvalidArgumentError(absl::StrCat("unknown test IdP failure '", s, "'"));
}

std::string TestIdentityProvider::Sign(absl::string_view key, absl::string_view identity,
                                       absl::string_view contents, int64_t expires_ms) {
  std::string msg = absl::StrCat("refrtc-test-idp\n", identity, "\n", expires_ms, "\n", contents);
  Bytes mac(32);
  mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), reinterpret_cast<const unsigned char*>(key.data()),
                  key.size(), reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac.data());
  return HexEncode(mac);
}

std::string TestIdentityProvider::MakeToken(absl::string_view key, absl::string_view identity,
                                            absl::string_view contents, int64_t expires_ms) {
  json j = {{"identity", std::string(identity)},
            {"contents", std::string(contents)},
            {"expires", expires_ms},
            {"signature", Sign(key, identity, contents, expires_ms)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void TestIdentityProvider::generateAssertion(const std::string& contents, const std::string& origin,
                                             const RTCIdentityProviderOptions& options,
                                             std::shared_ptr<RTCIdentityAssertionRequest> request) {
  switch (options_.fail) {
    case TestIdpFailure::kError:
      request->reject({"", "refrtc-test-idp: injected error"});
      return;
    case TestIdpFailure::kTimeout:
      held_generate_.push_back(std::move(request));
      return;
    case TestIdpFailure::kNeedLogin:
      // §9.3.1: a login error is an RTCError "idp-need-login" carrying the login URL.
      request->reject({"idp-need-login", "refrtc-test-idp: the user is not logged in", options_.login_url,
                       std::string("login-required")});
      return;
    default:
      break;
  }
  std::string name = options_.name;
  if (name.empty()) name = options.usernameHint.value_or(absl::StrCat("user@", options_.domain));
  int64_t expires = 0;
  if (options_.lifetime_ms > 0 && options_.unix_ms) expires = options_.unix_ms() + options_.lifetime_ms;
  std::string token = MakeToken(options_.key, name, contents, expires);
  if (options_.fail == TestIdpFailure::kBadSignature) {
    json j = json::parse(token, nullptr, false);
    std::string sig = j["signature"].get<std::string>();
    sig[0] = sig[0] == '0' ? '1' : '0';
    j["signature"] = sig;
    token = j.dump();
  }
  request->resolve({{options_.domain, options.protocol}, token});
}

void TestIdentityProvider::validateAssertion(const std::string& assertion, const std::string& origin,
                                             std::shared_ptr<RTCIdentityValidationRequest> request) {
  if (options_.fail == TestIdpFailure::kError) {
    request->reject({"", "refrtc-test-idp: injected error"});
    return;
  }
  if (options_.fail == TestIdpFailure::kTimeout) {
    held_validate_.push_back(std::move(request));
    return;
  }
  auto invalid = [&](const std::string& why) {
    request->reject({"idp-token-invalid", absl::StrCat("refrtc-test-idp: ", why)});
  };
  if (assertion.size() > kMaxToken) return invalid("token too long");
  json j = json::parse(assertion, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalid("token is not a JSON object");
  auto identity = j.find("identity");
  auto contents = j.find("contents");
  auto expires = j.find("expires");
  auto signature = j.find("signature");
  if (identity == j.end() || !identity->is_string() || contents == j.end() || !contents->is_string() ||
      signature == j.end() || !signature->is_string() || expires == j.end() || !expires->is_number_integer())
    return invalid("token lacks identity/contents/expires/signature");
  const std::string id = identity->get<std::string>();
  const std::string body = contents->get<std::string>();
  const int64_t exp = expires->get<int64_t>();
  if (!SameMac(signature->get<std::string>(), Sign(options_.key, id, body, exp))) return invalid("bad signature");
  if (exp != 0 && options_.unix_ms && options_.unix_ms() > exp) {
    request->reject({"idp-token-expired", "refrtc-test-idp: the token expired"});
    return;
  }
  request->resolve({id, body});
}

}  // namespace refrtc
