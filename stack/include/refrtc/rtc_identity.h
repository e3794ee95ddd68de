// W3C Identity for WebRTC 1.0 (webrtc-identity): the IdP interfaces, sans-IO.
//
//   §5   RTCIdentityProviderGlobalScope / RTCIdentityProviderRegistrar  → RTCIdentityProviderRegistrar
//   §5.1 RTCIdentityProvider {generateAssertion, validateAssertion}       → RTCIdentityProvider
//   §5.x RTCIdentityAssertionResult / RTCIdentityProviderDetails / RTCIdentityValidationResult
//   §6   RTCPeerConnection extensions (setIdentityProvider, getIdentityAssertion, peerIdentity,
//        idpLoginUrl, idpErrorInfo; RTCConfiguration.peerIdentity) → rtc_peer_connection.h
//   §6.x RTCIdentityProviderOptions, RTCIdentityAssertion
//
// Asynchrony. generateAssertion/validateAssertion return promises in the spec. Here the peer
// connection hands the IdP a completion object (RTCIdentityAssertionRequest /
// RTCIdentityValidationRequest); the IdP calls resolve() or reject() on it — at once (a
// synchronous IdP) or any time later, from the host's thread. The peer connection never blocks:
// it notices a settled request on its next call (PollEvent, HandleTimeout, or any API call), and
// an IdP that never settles fails with errorDetail "idp-timeout" at a deadline the peer connection
// reports through PollTimeout (15 s by default, §9.5 "SHOULD limit ... to 15 seconds").
//
// IdP loading (§9.1 "Identity Provider Selection"). A browser loads the IdP proxy from
// https://<domain>/.well-known/idp-proxy/<protocol> into a fresh realm whose global
// `rtcIdentityProvider` is the registrar the script calls register() on. refrtc has no script
// loader: the host creates the realm for (domain, protocol) in an RTCIdentityProviderRegistry
// and registers a C++ provider in it. Choice: the registry is PER PEER CONNECTION by default
// (RTCPeerConnection::identityProviders()), and hosts that want one per process share a registry
// between peer connections with setIdentityProviderRegistry(). Loading maps as:
//   no realm for (domain, protocol)           → RTCError "idp-load-failure" (the fetch failed)
//   realm but nothing registered in it        → RTCError "idp-bad-script-failure"
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace refrtc {

// webrtc-identity RTCIdentityProviderOptions (the dictionary passed to setIdentityProvider and,
// on to the IdP, to generateAssertion).
struct RTCIdentityProviderOptions {
  std::string protocol = "default";
  std::optional<std::string> usernameHint;
  std::optional<std::string> peerIdentity;
};

// RTCIdentityProviderDetails {domain, protocol = "default"}.
struct RTCIdentityProviderDetails {
  std::string domain;
  std::string protocol = "default";
};

// RTCIdentityAssertionResult: what generateAssertion resolves with.
struct RTCIdentityAssertionResult {
  RTCIdentityProviderDetails idp;
  std::string assertion;  // opaque to the UA
};

// RTCIdentityValidationResult: what validateAssertion resolves with.
struct RTCIdentityValidationResult {
  std::string identity;  // "user@domain"
  std::string contents;  // the contents generateAssertion was given
};

// RTCIdentityAssertion {idp, name}: what peerIdentity resolves with.
struct RTCIdentityAssertion {
  std::string idp;
  std::string name;
  friend bool operator==(const RTCIdentityAssertion& a, const RTCIdentityAssertion& b) {
    return a.idp == b.idp && a.name == b.name;
  }
};

// What an IdP rejects with. An RTCError (errorDetail one of the "idp-*" values of
// RTCErrorDetailType) is passed through; any other rejection (errorDetail "") reaches the
// application as RTCError "idp-execution-failure".
struct RTCIdentityProviderError {
  std::string errorDetail;                 // "idp-need-login", "idp-token-expired", ... or ""
  std::string message;
  std::optional<std::string> idpLoginUrl;  // with "idp-need-login" (§9.3.1): → pc.idpLoginUrl
  std::optional<std::string> idpErrorInfo; // → pc.idpErrorInfo
};

enum class RTCPromiseState { kPending, kFulfilled, kRejected };
const char* ToString(RTCPromiseState s);  // "pending", "fulfilled", "rejected"

// The promise an IdP callback returns, as a completion object. Only the first resolve/reject
// counts; later calls, and calls after the peer connection gave up (timeout, close), are ignored.
template <typename T>
class RTCIdentityPromise {
 public:
  void resolve(T value) {
    if (state_ != RTCPromiseState::kPending) return;
    value_ = std::move(value);
    state_ = RTCPromiseState::kFulfilled;
  }
  void reject(RTCIdentityProviderError error) {
    if (state_ != RTCPromiseState::kPending) return;
    error_ = std::move(error);
    state_ = RTCPromiseState::kRejected;
  }
  RTCPromiseState state() const { return state_; }
  const T& value() const { return value_; }
  const RTCIdentityProviderError& error() const { return error_; }
  // Not for IdPs: the peer connection abandons a request it timed out.
  void Abandon() {
    if (state_ == RTCPromiseState::kPending) state_ = RTCPromiseState::kRejected;
  }

 private:
  RTCPromiseState state_ = RTCPromiseState::kPending;
  T value_{};
  RTCIdentityProviderError error_;
};
using RTCIdentityAssertionRequest = RTCIdentityPromise<RTCIdentityAssertionResult>;
using RTCIdentityValidationRequest = RTCIdentityPromise<RTCIdentityValidationResult>;

// webrtc-identity §5.1 dictionary RTCIdentityProvider: the two callbacks an IdP registers.
class RTCIdentityProvider {
 public:
  virtual ~RTCIdentityProvider() = default;
  // GenerateAssertionCallback(contents, origin, options): `contents` is the JSON the UA wants
  // bound (RFC 8827 §7.1: {"fingerprint":[{"algorithm":"sha-256","digest":"AB:..."}]}).
  virtual void generateAssertion(const std::string& contents, const std::string& origin,
                                 const RTCIdentityProviderOptions& options,
                                 std::shared_ptr<RTCIdentityAssertionRequest> request) = 0;
  // ValidateAssertionCallback(assertion, origin).
  virtual void validateAssertion(const std::string& assertion, const std::string& origin,
                                 std::shared_ptr<RTCIdentityValidationRequest> request) = 0;
};

// webrtc-identity §5 RTCIdentityProviderRegistrar: the `rtcIdentityProvider` global of one IdP
// realm. register() is `registerProvider` here (`register` is a C++ keyword).
class RTCIdentityProviderRegistrar {
 public:
  // §5 register(idp): InvalidStateError if an IdP is already registered in this realm
  // (refrtc's reading: a realm hosts one IdP proxy).
  absl::Status registerProvider(std::shared_ptr<RTCIdentityProvider> idp);
  const std::shared_ptr<RTCIdentityProvider>& provider() const { return idp_; }

 private:
  std::shared_ptr<RTCIdentityProvider> idp_;
};

// Not W3C: the UA's IdP loader (see the file comment) — realms keyed by (domain, protocol), and
// the origin the UA passes to the IdP callbacks (the calling document's origin).
class RTCIdentityProviderRegistry {
 public:
  // Creates (or returns) the realm of the IdP proxy at https://<domain>/.well-known/idp-proxy/<protocol>.
  RTCIdentityProviderRegistrar& Realm(const std::string& domain, const std::string& protocol = "default");
  // Convenience: Realm(domain, protocol).registerProvider(idp).
  absl::Status Register(const std::string& domain, const std::string& protocol,
                        std::shared_ptr<RTCIdentityProvider> idp);
  // "Loads" the IdP: the registered provider, or the RTCError the load fails with
  // ("idp-load-failure" / "idp-bad-script-failure").
  std::variant<std::shared_ptr<RTCIdentityProvider>, absl::Status> Load(const std::string& domain,
                                                                         const std::string& protocol) const;
  const std::string& origin() const { return origin_; }
  void set_origin(std::string origin) { origin_ = std::move(origin); }

 private:
  std::map<std::pair<std::string, std::string>, RTCIdentityProviderRegistrar> realms_;
  std::string origin_ = "https://refrtc.invalid";
};

// The state of the peerIdentity promise (§6: "readonly attribute Promise<RTCIdentityAssertion>
// peerIdentity"): pending until a validated identity, rejected on a failed validation (a later
// validation makes it pending again unless there is a target peer identity).
struct RTCPeerIdentity {
  RTCPromiseState state = RTCPromiseState::kPending;
  RTCIdentityAssertion assertion;  // when fulfilled
  absl::Status error;              // when rejected (OperationError, maybe an RTCError detail)
};

// --- errors ---
// webrtc-pc §11.1 RTCError (name "OperationError") with an errorDetail, as an absl::Status:
// DomErrorName() reads "OperationError", RTCErrorDetail() the detail ("" for none).
absl::Status RTCErrorStatus(absl::string_view error_detail, absl::string_view message);
std::string RTCErrorDetail(const absl::Status& s);
// Not a rejection: an IdP request this result depends on has not settled yet. createOffer,
// createAnswer and getIdentityAssertion return it while the assertion is being generated, and
// setRemoteDescription while a target peer identity waits for validation (§9.4: "the promise
// returned by setRemoteDescription cannot resolve until ... validated"). The call had no
// effect; the host retries the same call after the peer connection fires kIdentityResult /
// kPeerIdentityResult (or after its next PollEvent/HandleTimeout). Settles within the IdP
// timeout at the latest.
absl::Status IdentityPendingStatus(absl::string_view what);
bool IsIdentityPending(const absl::Status& s);

}  // namespace refrtc
