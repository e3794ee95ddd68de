// webrtc-identity: registry/registrar, RTCError helpers and the RFC 8827 §7 wire forms.
#include "refrtc/rtc_identity.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "api/identity_assertion.h"
#include "util/codec.h"
#include "util/dom_exception.h"

namespace refrtc {

namespace {
constexpr char kDetailPayload[] = "refrtc.rtc_error_detail";
constexpr char kPendingPayload[] = "refrtc.identity_pending";
// Bounds on what we decode from the network: an a=identity line and the JSON inside it.
constexpr size_t kMaxAttributeSize = 64 * 1024;
using json = nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
}  // namespace

const char* ToString(RTCPromiseState s) {
  switch (s) {
    case RTCPromiseState::kPending: return "pending";
    case RTCPromiseState::kFulfilled: return "fulfilled";
    case RTCPromiseState::kRejected: return "rejected";
  }
  return "pending";
}

absl::Status RTCErrorStatus(absl::string_view error_detail, absl::string_view message) {
  absl::Status s = OperationError(message);
  if (!error_detail.empty()) s.SetPayload(kDetailPayload, absl::Cord(error_detail));
  return s;
}

std::string RTCErrorDetail(const absl::Status& s) {
  if (auto p = s.GetPayload(kDetailPayload)) return std::string(*p);
  return "";
}

absl::Status IdentityPendingStatus(absl::string_view what) {
  absl::Status s(absl::StatusCode::kUnavailable, what);
  s.SetPayload(kPendingPayload, absl::Cord("1"));
  return s;
}

bool IsIdentityPending(const absl::Status& s) { return s.GetPayload(kPendingPayload).has_value(); }

absl::Status RTCIdentityProviderRegistrar::registerProvider(std::shared_ptr<RTCIdentityProvider> idp) {
  if (!idp) return TypeError("register: the RTCIdentityProvider is null");
  if (idp_) return InvalidStateError("An RTCIdentityProvider is already registered in this realm");
  idp_ = std::move(idp);
  return absl::OkStatus();
}

RTCIdentityProviderRegistrar& RTCIdentityProviderRegistry::Realm(const std::string& domain,
                                                                 const std::string& protocol) {
  return realms_[{absl::AsciiStrToLower(domain), protocol}];
}

absl::Status RTCIdentityProviderRegistry::Register(const std::string& domain, const std::string& protocol,
                                                   std::shared_ptr<RTCIdentityProvider> idp) {
  if (!identity::ValidIdpDomain(domain)) return SyntaxError("Invalid IdP domain");
  if (!identity::ValidIdpProtocol(protocol)) return SyntaxError("Invalid IdP protocol");
  return Realm(domain, protocol).registerProvider(std::move(idp));
}

std::variant<std::shared_ptr<RTCIdentityProvider>, absl::Status> RTCIdentityProviderRegistry::Load(
    const std::string& domain, const std::string& protocol) const {
  auto it = realms_.find({absl::AsciiStrToLower(domain), protocol});
  // §9.5: "loading of the IdP URI fails" → idp-load-failure.
  if (it == realms_.end())
    return RTCErrorStatus("idp-load-failure", "Failed to load the IdP proxy https://" + domain +
                                                  "/.well-known/idp-proxy/" + protocol);
  // §9.5: the IdP script "does not implement the correct interfaces" → idp-bad-script-failure.
  if (!it->second.provider())
    return RTCErrorStatus("idp-bad-script-failure", "The IdP proxy at " + domain + " registered no RTCIdentityProvider");
  return it->second.provider();
}

namespace identity {

bool ValidIdpDomain(absl::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  for (char c : d) {
    // host [":" port]: letters, digits, '-', '.', ':' (port), '[' ']' (IPv6 literal).
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' || c == '[' ||
          c == ']'))
      return false;
  }
  return true;
}

bool ValidIdpProtocol(absl::string_view p) {
  // RFC 8827 §7.5.1: the protocol is a path segment: no '/', '\', '?', '#', and not "." / "..".
  if (p.empty() || p.size() > 256 || p == "." || p == "..") return false;
  for (char c : p) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || c == '?' || c == '#' || c == '%' || u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

std::string EncodeIdentityAttribute(const RTCIdentityAssertionResult& result) {
  json j = {{"idp", {{"domain", result.idp.domain}, {"protocol", result.idp.protocol}}},
            {"assertion", result.assertion}};
  return Base64Encode(AsBytes(Dump(j)));
}

absl::StatusOr<IdentityAttribute> ParseIdentityAttribute(absl::string_view value) {
  if (value.size() > kMaxAttributeSize) return absl::InvalidArgumentError("a=identity too long");
  // identity-attribute = "identity:" identity-assertion [ SP identity-extension ... ]
  absl::string_view token = absl::StripLeadingAsciiWhitespace(value);
  size_t sp = token.find_first_of(" \t");
  if (sp != absl::string_view::npos) token = token.substr(0, sp);
  if (token.empty()) return absl::InvalidArgumentError("empty a=identity");
  auto raw = Base64Decode(token);
  if (!raw) return absl::InvalidArgumentError("a=identity is not base64");
  json j = json::parse(raw->begin(), raw->end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("a=identity is not a JSON object");
  auto idp = j.find("idp");
  auto assertion = j.find("assertion");
  if (idp == j.end() || !idp->is_object()) return absl::InvalidArgumentError("a=identity: missing idp");
  if (assertion == j.end() || !assertion->is_string())
    return absl::InvalidArgumentError("a=identity: missing assertion");
  IdentityAttribute out;
  auto domain = idp->find("domain");
  if (domain == idp->end() || !domain->is_string()) return absl::InvalidArgumentError("a=identity: missing idp.domain");
  out.idp.domain = domain->get<std::string>();
  auto protocol = idp->find("protocol");
  if (protocol != idp->end()) {
    if (!protocol->is_string()) return absl::InvalidArgumentError("a=identity: idp.protocol is not a string");
    out.idp.protocol = protocol->get<std::string>();
  }
  if (!ValidIdpDomain(out.idp.domain)) return absl::InvalidArgumentError("a=identity: invalid idp.domain");
  if (!ValidIdpProtocol(out.idp.protocol)) return absl::InvalidArgumentError("a=identity: invalid idp.protocol");
  out.assertion = assertion->get<std::string>();
  return out;
}

std::string EncodeFingerprintContents(const std::vector<RTCDtlsFingerprint>& fingerprints) {
  json list = json::array();
  for (const auto& f : fingerprints)
    list.push_back({{"algorithm", absl::AsciiStrToLower(f.algorithm)}, {"digest", absl::AsciiStrToUpper(f.value)}});
  return Dump(json{{"fingerprint", list}});
}

absl::StatusOr<std::vector<RTCDtlsFingerprint>> ParseFingerprintContents(absl::string_view contents) {
  if (contents.size() > kMaxAttributeSize) return absl::InvalidArgumentError("contents too long");
  json j = json::parse(contents.begin(), contents.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("contents is not a JSON object");
  auto list = j.find("fingerprint");
  if (list == j.end() || !list->is_array()) return absl::InvalidArgumentError("contents: missing fingerprint array");
  std::vector<RTCDtlsFingerprint> out;
  for (const auto& f : *list) {
    if (!f.is_object()) return absl::InvalidArgumentError("contents: fingerprint entry is not an object");
    auto alg = f.find("algorithm");
    auto digest = f.find("digest");
    if (alg == f.end() || !alg->is_string() || digest == f.end() || !digest->is_string())
      return absl::InvalidArgumentError("contents: fingerprint entry needs algorithm and digest strings");
    out.push_back({alg->get<std::string>(), digest->get<std::string>()});
  }
  return out;
}

bool FingerprintsCovered(const std::vector<RTCDtlsFingerprint>& in_description,
                         const std::vector<RTCDtlsFingerprint>& in_contents) {
  if (in_description.empty()) return false;
  for (const auto& d : in_description) {
    bool found = false;
    for (const auto& c : in_contents)
      found |= absl::EqualsIgnoreCase(d.algorithm, c.algorithm) && absl::EqualsIgnoreCase(d.value, c.value);
    if (!found) return false;
  }
  return true;
}

bool IdentityDomainMatches(absl::string_view identity, absl::string_view idp_domain) {
  size_t at = identity.rfind('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 >= identity.size()) return false;
  return absl::EqualsIgnoreCase(identity.substr(at + 1), idp_domain);
}

}  // namespace identity
}  // namespace refrtc
