// webrtc-identity §6/§9: RTCPeerConnection's identity extensions (second translation unit of
// RTCPeerConnection, like rtc_peer_connection_media.cc). See refrtc/rtc_identity.h for how the
// asynchronous IdP calls map onto this sans-IO API.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/identity_assertion.h"
#include "refrtc/rtc_peer_connection.h"
#include "sdp/sdp.h"
#include "util/dom_exception.h"

namespace refrtc {

namespace {
constexpr Duration kDefaultIdpTimeout = std::chrono::seconds(15);  // §9.5 "SHOULD limit ... to 15 seconds"

const char* const kIdpDetails[] = {"idp-bad-script-failure", "idp-execution-failure", "idp-load-failure",
                                   "idp-need-login",         "idp-timeout",           "idp-tls-failure",
                                   "idp-token-expired",      "idp-token-invalid"};

// §9.5: an IdP rejection that is an RTCError with an idp-* detail passes through; anything else
// is an execution failure of the IdP proxy.
absl::Status FromIdpError(const RTCIdentityProviderError& e, absl::string_view op) {
  bool known = std::any_of(std::begin(kIdpDetails), std::end(kIdpDetails),
                           [&](const char* d) { return e.errorDetail == d; });
  std::string message = e.message.empty() ? absl::StrCat("The IdP rejected ", op) : e.message;
  return RTCErrorStatus(known ? e.errorDetail : "idp-execution-failure", message);
}
}  // namespace

// [[IdpConfig]], the assertion being generated, and the validation state behind peerIdentity.
struct IdentityState {
  std::shared_ptr<RTCIdentityProviderRegistry> registry = std::make_shared<RTCIdentityProviderRegistry>();
  Duration timeout = kDefaultIdpTimeout;

  struct Config {
    std::string domain;
    RTCIdentityProviderOptions options;
  };
  std::optional<Config> config;

  // Generation (§9.3).
  enum class Gen { kNone, kPending, kDone, kFailed } gen = Gen::kNone;
  std::shared_ptr<RTCIdentityAssertionRequest> gen_request;
  Instant gen_deadline{};
  std::string gen_attribute;  // the a=identity value once done
  absl::Status gen_error;     // once failed (reported to the next caller, then kNone)

  // Validation (§9.4).
  RTCPeerIdentity peer;
  std::shared_ptr<RTCIdentityValidationRequest> val_request;
  Instant val_deadline{};
  std::string val_key;  // token + the description's fingerprints
  identity::IdentityAttribute val_attr;
  std::vector<RTCDtlsFingerprint> val_fingerprints;
  // Settled validations by key: OK or the error (so setRemoteDescription retries find them).
  std::string done_key;
  absl::Status done_status;
  std::optional<std::string> established;  // §6: a validated identity becomes the target

  std::optional<std::string> login_url, error_info;
};

IdentityState& RTCPeerConnection::Identity() {
  if (!identity_) identity_ = std::make_shared<IdentityState>();
  return *identity_;
}

RTCIdentityProviderRegistry& RTCPeerConnection::identityProviders() { return *Identity().registry; }

void RTCPeerConnection::setIdentityProviderRegistry(std::shared_ptr<RTCIdentityProviderRegistry> registry) {
  if (registry) Identity().registry = std::move(registry);
}

void RTCPeerConnection::setIdpTimeout(Duration timeout) { Identity().timeout = timeout; }

// §6 setIdentityProvider(provider, options): records [[IdpConfig]]; the IdP is loaded only
// when an assertion is needed.
absl::Status RTCPeerConnection::setIdentityProvider(const std::string& provider,
                                                    const RTCIdentityProviderOptions& options) {
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  if (!identity::ValidIdpDomain(provider)) return SyntaxError(absl::StrCat("Invalid IdP domain '", provider, "'"));
  if (!identity::ValidIdpProtocol(options.protocol))
    return SyntaxError(absl::StrCat("Invalid IdP protocol '", options.protocol, "'"));
  IdentityState& s = Identity();
  s.config = IdentityState::Config{provider, options};
  // A new IdP: a stored assertion no longer applies; a pending request is abandoned.
  if (s.gen_request) s.gen_request->Abandon();
  s.gen_request.reset();
  s.gen = IdentityState::Gen::kNone;
  s.gen_attribute.clear();
  return absl::OkStatus();
}

std::optional<std::string> RTCPeerConnection::idpLoginUrl() const {
  return identity_ ? identity_->login_url : std::nullopt;
}
std::optional<std::string> RTCPeerConnection::idpErrorInfo() const {
  return identity_ ? identity_->error_info : std::nullopt;
}
RTCPeerIdentity RTCPeerConnection::peerIdentity() const { return identity_ ? identity_->peer : RTCPeerIdentity{}; }

// §9.3 "Requesting Identity Assertions" (triggered by createOffer, createAnswer,
// getIdentityAssertion): OK when the assertion is ready (or no IdP is set), the pending status
// while the IdP works, else the failure (reported once: the next call tries again).
absl::Status RTCPeerConnection::PrepareIdentity() {
  if (!identity_ || !identity_->config) return absl::OkStatus();
  IdentityState& s = *identity_;
  PumpIdentity();
  if (s.gen == IdentityState::Gen::kNone) {
    // Step 1: instantiate the IdP.
    auto loaded = s.registry->Load(s.config->domain, s.config->options.protocol);
    if (auto* err = std::get_if<absl::Status>(&loaded)) return *err;
    auto idp = std::get<std::shared_ptr<RTCIdentityProvider>>(loaded);
    // Step 2: generateAssertion(contents = our certificate's fingerprints, RFC 8827 §7.1).
    std::string contents = identity::EncodeFingerprintContents(certificate_->getFingerprints());
    s.gen = IdentityState::Gen::kPending;
    s.gen_request = std::make_shared<RTCIdentityAssertionRequest>();
    s.gen_deadline = now_ + s.timeout;
    auto request = s.gen_request;
    idp->generateAssertion(contents, s.registry->origin(), s.config->options, request);
    PumpIdentity();  // a synchronous IdP has settled already
  }
  switch (s.gen) {
    case IdentityState::Gen::kDone: return absl::OkStatus();
    case IdentityState::Gen::kPending: return IdentityPendingStatus("The identity assertion is being generated");
    case IdentityState::Gen::kFailed: {
      absl::Status err = s.gen_error;
      s.gen = IdentityState::Gen::kNone;
      return err;
    }
    case IdentityState::Gen::kNone: break;
  }
  return OperationError("identity assertion generation failed");
}

absl::StatusOr<std::string> RTCPeerConnection::getIdentityAssertion() {
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  if (!identity_ || !identity_->config) return InvalidStateError("No identity provider is set (setIdentityProvider)");
  absl::Status st = PrepareIdentity();
  if (!st.ok()) return st;
  return identity_->gen_attribute;
}

void RTCPeerConnection::WriteIdentity(sdp::SessionDescription& d) const {
  if (identity_ && identity_->config && identity_->gen == IdentityState::Gen::kDone)
    d.AddAttribute("identity", identity_->gen_attribute);
}

// §9.4 "Verifying Identity Assertions", from setRemoteDescription (after the description was
// checked, before it is applied). Without a target peer identity the description is applied at
// once and peerIdentity settles later; with one, setRemoteDescription waits (pending status,
// retried by the host) and is rejected with the validation's error.
absl::Status RTCPeerConnection::CheckRemoteIdentity(const sdp::SessionDescription& remote) {
  IdentityState& s = Identity();
  PumpIdentity();
  std::optional<std::string> target = config_.peerIdentity ? config_.peerIdentity : s.established;
  auto attr_value = remote.GetAttribute("identity");
  if (!attr_value) {
    // RFC 8827 §5.6 / webrtc-identity §6: with a target peer identity the peer must be
    // authenticated; a description without an assertion cannot be.
    if (target)
      return OperationError(absl::StrCat("The remote description carries no a=identity but the target peer identity is ",
                                         *target));
    return absl::OkStatus();
  }
  // Every a=fingerprint of the description (§9.4 step 8), session and media level.
  std::vector<RTCDtlsFingerprint> fps;
  auto add = [&](const std::vector<std::string>& values) {
    for (const auto& v : values)
      if (auto f = sdp::ParseFingerprint(v)) fps.push_back({f->algorithm, f->value});
  };
  add(remote.GetAttributes("fingerprint"));
  for (const auto& m : remote.media)
    if (!m.rejected()) add(m.GetAttributes("fingerprint"));
  std::string key = std::string(absl::StripAsciiWhitespace(*attr_value));
  for (const auto& f : fps) absl::StrAppend(&key, "|", absl::AsciiStrToLower(f.algorithm), " ", absl::AsciiStrToUpper(f.value));

  auto outcome = [&]() -> absl::Status {
    if (s.done_key == key) return target ? s.done_status : absl::OkStatus();
    if (s.val_request && s.val_key == key)
      return target ? IdentityPendingStatus("The remote identity assertion is being validated") : absl::OkStatus();
    return absl::OkStatus();
  };
  if (s.done_key == key || (s.val_request && s.val_key == key)) return outcome();

  // A new assertion. Step 1 (await a prior validation) is simplified: a newer one replaces it.
  if (s.val_request) s.val_request->Abandon();
  s.val_request.reset();
  if (s.peer.state == RTCPromiseState::kRejected) s.peer = RTCPeerIdentity{};  // a new promise
  auto fail_now = [&](absl::Status err) {
    s.done_key = key;
    s.done_status = err;
    if (s.peer.state != RTCPromiseState::kFulfilled) {
      s.peer.state = RTCPromiseState::kRejected;
      s.peer.error = err;
      RTCEvent e{RTCEventType::kPeerIdentityResult, "rejected"};
      e.error_name = DomErrorName(err);
      e.error_message = std::string(err.message());
      e.error_detail = RTCErrorDetail(err);
      Emit(std::move(e));
    }
    return target ? err : absl::OkStatus();
  };
  // Step 2: decode the base64 JSON.
  auto parsed = identity::ParseIdentityAttribute(*attr_value);
  if (!parsed.ok()) return fail_now(OperationError(absl::StrCat("Malformed a=identity: ", parsed.status().message())));
  // Step 3: instantiate the IdP named by the assertion.
  auto loaded = s.registry->Load(parsed->idp.domain, parsed->idp.protocol);
  if (auto* err = std::get_if<absl::Status>(&loaded)) return fail_now(*err);
  auto idp = std::get<std::shared_ptr<RTCIdentityProvider>>(loaded);
  // Step 4: validateAssertion(assertion, origin).
  s.val_key = key;
  s.val_attr = *parsed;
  s.val_fingerprints = fps;
  s.val_request = std::make_shared<RTCIdentityValidationRequest>();
  s.val_deadline = now_ + s.timeout;
  auto request = s.val_request;
  idp->validateAssertion(parsed->assertion, s.registry->origin(), request);
  PumpIdentity();
  return outcome();
}

// Settles IdP requests that completed (or timed out) since the last call.
void RTCPeerConnection::PumpIdentity() {
  if (!identity_) return;
  IdentityState& s = *identity_;
  if (is_closed_) {
    if (s.gen_request) s.gen_request->Abandon();
    if (s.val_request) s.val_request->Abandon();
    s.gen_request.reset();
    s.val_request.reset();
    return;
  }
  // --- generation ---
  if (s.gen_request) {
    auto req = s.gen_request;
    std::optional<absl::Status> failure;
    if (req->state() == RTCPromiseState::kFulfilled) {
      const auto& r = req->value();
      // §9.3 step 4: the result must be a valid RTCIdentityAssertionResult.
      if (!identity::ValidIdpDomain(r.idp.domain) || !identity::ValidIdpProtocol(r.idp.protocol)) {
        failure = RTCErrorStatus("idp-bad-script-failure", "The IdP returned an invalid RTCIdentityAssertionResult");
      } else {
        s.gen = IdentityState::Gen::kDone;
        s.gen_attribute = identity::EncodeIdentityAttribute(r);
        s.gen_request.reset();
        RTCEvent e{RTCEventType::kIdentityResult, "fulfilled"};
        e.data = Bytes(s.gen_attribute.begin(), s.gen_attribute.end());
        Emit(std::move(e));
      }
    } else if (req->state() == RTCPromiseState::kRejected) {
      const auto& err = req->error();
      failure = FromIdpError(err, "generateAssertion");
      // §9.3.1: a login error carries the URL to log in at.
      if (RTCErrorDetail(*failure) == "idp-need-login") s.login_url = err.idpLoginUrl;
      if (err.idpErrorInfo) s.error_info = err.idpErrorInfo;
    } else if (now_ >= s.gen_deadline) {
      req->Abandon();
      failure = RTCErrorStatus("idp-timeout", "The IdP did not generate an assertion in time");
    }
    if (failure) {
      s.gen = IdentityState::Gen::kFailed;
      s.gen_error = *failure;
      s.gen_request.reset();
      RTCEvent e{RTCEventType::kIdentityResult, "rejected"};
      e.error_name = DomErrorName(*failure);
      e.error_message = std::string(failure->message());
      e.error_detail = RTCErrorDetail(*failure);
      Emit(std::move(e));
    }
  }
  // --- validation ---
  if (s.val_request) {
    auto req = s.val_request;
    std::optional<absl::Status> result;
    if (req->state() == RTCPromiseState::kFulfilled) {
      const auto& v = req->value();
      const std::string& domain = s.val_attr.idp.domain;
      std::optional<std::string> target = config_.peerIdentity ? config_.peerIdentity : s.established;
      auto contents = identity::ParseFingerprintContents(v.contents);
      if (!contents.ok()) {
        result = OperationError(absl::StrCat("The validated assertion's contents are malformed: ", contents.status().message()));
      } else if (!identity::FingerprintsCovered(s.val_fingerprints, *contents)) {
        // Step 8: the certificate the peer uses must be covered by the assertion.
        result = OperationError("The identity assertion does not cover the remote description's a=fingerprint");
      } else if (!identity::IdentityDomainMatches(v.identity, domain)) {
        // Step 9 (RFC 8827 §7.5): the identity's domain is the IdP's.
        result = OperationError(absl::StrCat("The identity '", v.identity, "' is not in the IdP domain '", domain, "'"));
      } else if (target && *target != v.identity) {
        result = OperationError(absl::StrCat("The peer identity '", v.identity, "' is not the target peer identity '",
                                             *target, "'"));
      } else {
        result = absl::OkStatus();
        if (s.peer.state != RTCPromiseState::kFulfilled) {
          // Step 10: resolve peerIdentity; the identity becomes the target peer identity.
          s.peer.state = RTCPromiseState::kFulfilled;
          s.peer.assertion = RTCIdentityAssertion{domain, v.identity};
          s.peer.error = absl::OkStatus();
          s.established = v.identity;
          Emit(RTCEvent{RTCEventType::kPeerIdentityResult, "fulfilled"});
        }
      }
    } else if (req->state() == RTCPromiseState::kRejected) {
      result = FromIdpError(req->error(), "validateAssertion");
      if (req->error().idpErrorInfo) s.error_info = req->error().idpErrorInfo;
    } else if (now_ >= s.val_deadline) {
      req->Abandon();
      result = RTCErrorStatus("idp-timeout", "The IdP did not validate the assertion in time");
    }
    if (result) {
      s.done_key = s.val_key;
      s.done_status = *result;
      s.val_request.reset();
      if (!result->ok() && s.peer.state != RTCPromiseState::kFulfilled) {
        // "If identity validation fails, the peerIdentity promise is rejected."
        s.peer.state = RTCPromiseState::kRejected;
        s.peer.error = *result;
        RTCEvent e{RTCEventType::kPeerIdentityResult, "rejected"};
        e.error_name = DomErrorName(*result);
        e.error_message = std::string(result->message());
        e.error_detail = RTCErrorDetail(*result);
        Emit(std::move(e));
      }
    }
  }
}

std::optional<Instant> RTCPeerConnection::IdentityTimeout() const {
  if (!identity_ || is_closed_) return std::nullopt;
  std::optional<Instant> t;
  if (identity_->gen_request) t = identity_->gen_deadline;
  if (identity_->val_request && (!t || identity_->val_deadline < *t)) t = identity_->val_deadline;
  return t;
}

}  // namespace refrtc
