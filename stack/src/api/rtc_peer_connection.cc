// W3C webrtc-pc §4.4 RTCPeerConnection over the sans-IO transport stack, with JSEP (RFC 8829)
// for data sessions. Step numbers refer to the W3C Recommendation's algorithms.
#include "refrtc/rtc_peer_connection.h"

#include <algorithm>
#include <cassert>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"
#include "api/media_session.h"
#include "dtls/certificate.h"
#include "engine/transport_stack.h"
#include "ice/candidate.h"
#include "sdp/rtp_description.h"
#include "sdp/sdp.h"
#include "sdp/sdp_validate.h"
#include "util/dom_exception.h"

namespace refrtc {

uint64_t RTCPeerConnection::next_channel_handle_ = 1;

namespace {

constexpr uint16_t kSctpPort = 5000;
// What we can receive: usrsctp reassembles up to this (RFC 8841 a=max-message-size).
constexpr uint64_t kLocalMaxMessageSize = 262144;
constexpr size_t kMaxRemoteCandidates = 1000;

bool IsDataProtocol(const std::string& p) {
  return p == "UDP/DTLS/SCTP" || p == "DTLS/SCTP" || p == "TCP/DTLS/SCTP";
}

// RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/".
bool IsIceChars(const std::string& s) {
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) return false;
  return true;
}

absl::Status SdpError(absl::string_view message) {
  // RTCError with errorDetail "sdp-syntax-error" has the name OperationError (§4.7.x).
  return OperationError(absl::StrCat("Failed to parse SessionDescription. ", message));
}

ice::Role ToIceRole(bool controlling) {
  return controlling ? ice::Role::kControlling : ice::Role::kControlled;
}

RTCIceConnectionState ToW3c(ice::TransportState s) {
  switch (s) {
    case ice::TransportState::kNew: return RTCIceConnectionState::kNew;
    case ice::TransportState::kChecking: return RTCIceConnectionState::kChecking;
    case ice::TransportState::kConnected: return RTCIceConnectionState::kConnected;
    case ice::TransportState::kCompleted: return RTCIceConnectionState::kCompleted;
    case ice::TransportState::kDisconnected: return RTCIceConnectionState::kDisconnected;
    case ice::TransportState::kFailed: return RTCIceConnectionState::kFailed;
    case ice::TransportState::kClosed: return RTCIceConnectionState::kClosed;
  }
  return RTCIceConnectionState::kNew;
}

RTCDtlsTransportState ToW3c(dtls::State s) {
  switch (s) {
    case dtls::State::kNew: return RTCDtlsTransportState::kNew;
    case dtls::State::kConnecting: return RTCDtlsTransportState::kConnecting;
    case dtls::State::kConnected: return RTCDtlsTransportState::kConnected;
    case dtls::State::kClosed: return RTCDtlsTransportState::kClosed;
    case dtls::State::kFailed: return RTCDtlsTransportState::kFailed;
  }
  return RTCDtlsTransportState::kNew;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Construction (§4.4.1.1)

absl::StatusOr<std::unique_ptr<RTCPeerConnection>> RTCPeerConnection::Create(
    const RTCConfiguration& config, const RTCEngineOptions& options) {
  // Step 4 (certificates): an expired certificate → InvalidAccessError.
  std::shared_ptr<RTCCertificate> cert;
  for (const auto& c : config.certificates) {
    if (!c) return TypeError("null certificate");
    if (c->expires() <= options.unix_time_s * 1000)
      return InvalidAccessError("The certificate has expired.");
  }
  if (!config.certificates.empty()) {
    cert = config.certificates.front();
  } else {
    auto generated = RTCCertificate::Generate(options.seed * 31 + 7, options.unix_time_s);
    if (!generated.ok()) return OperationError(generated.status().message());
    cert = *generated;
  }
  // ICE servers (§4.4.1.6 "validate the ICE server list"): each URL must be stun:/stuns:/turn:/turns:.
  for (const auto& server : config.iceServers) {
    if (server.urls.empty()) return SyntaxError("RTCIceServer.urls is empty");
    for (const auto& url : server.urls) {
      if (!(absl::StartsWith(url, "stun:") || absl::StartsWith(url, "stuns:") ||
            absl::StartsWith(url, "turn:") || absl::StartsWith(url, "turns:")))
        return SyntaxError(absl::StrCat("Invalid ICE server URL: ", url));
      if ((absl::StartsWith(url, "turn:") || absl::StartsWith(url, "turns:")) &&
          (server.username.empty() || server.credential.empty()))
        return InvalidAccessError("TURN server requires username and credential");
    }
  }
  return std::unique_ptr<RTCPeerConnection>(new RTCPeerConnection(config, options, std::move(cert)));
}

RTCPeerConnection::RTCPeerConnection(const RTCConfiguration& config, const RTCEngineOptions& options,
                                     std::shared_ptr<RTCCertificate> cert)
    : config_(config), options_(options), rng_(options.seed), certificate_(std::move(cert)) {
  local_ufrag_ = rng_.IceString(8);
  local_pwd_ = rng_.IceString(24);
  offered_ufrag_ = local_ufrag_;
  offered_pwd_ = local_pwd_;
  session_id_ = rng_.U64() >> 2;  // RFC 8829 §5.2.1: < 2^63
  ice::AgentConfig ic;
  ic.role = ice::Role::kControlling;
  ic.local = ice::Credentials{local_ufrag_, local_pwd_};
  ic.tie_breaker = rng_.U64();
  // STUN server URLs with IP literals are used directly; host names need the host's resolver
  // (not available to a sans-IO engine) and are skipped here.
  for (const auto& server : config_.iceServers) {
    for (const auto& url : server.urls) {
      if (!absl::StartsWith(url, "stun:")) continue;
      std::string hp = url.substr(5);
      if (hp.find(':') == std::string::npos || (hp.front() == '[' && hp.back() == ']')) hp += ":3478";
      auto addr = SocketAddress::ParseHostPort(hp);
      if (addr.ok()) ic.stun_servers.push_back(*addr);
    }
  }
  // TURN servers (RFC 7065 URLs with IP literals, see ice::ParseTurnUrl); others are skipped
  // like STUN host names. iceTransportPolicy "relay" (§4.1.1): only relay candidates.
  for (const auto& server : config_.iceServers)
    for (const auto& url : server.urls)
      if (absl::StartsWith(url, "turn:"))
        if (auto ts = ice::ParseTurnUrl(url, server.username, server.credential); ts.ok())
          ic.turn_servers.push_back(*ts);
  ic.relay_only = config_.iceTransportPolicy == RTCIceTransportPolicy::kRelay;
  stack_ = std::make_unique<engine::TransportStack>(ic, certificate_->engine_certificate(), rng_.U64());
  if (options.key_log) stack_->dtls().SetKeyLog(options.key_log);  // RTCEngineOptions::key_log
  cname_ = rng_.IceString(16);  // RFC 7022 §4.2: a random CNAME per session
  // RFC 3550 §4 NTP for sender reports: the host's wall clock at construction (RTCEngineOptions)
  // anchored to the engine's first Instant; the engine never reads a clock itself.
  constexpr uint64_t kNtpUnixOffset = 2208988800ull;  // 1900 → 1970
  media_ = std::make_unique<MediaSession>(
      rng_, rtp::NtpClock(Instant{}, rtp::NtpTime(static_cast<uint32_t>(options.unix_time_s + kNtpUnixOffset), 0u)));
}

RTCPeerConnection::~RTCPeerConnection() {
  for (auto& ch : channels_) ch->pc_ = nullptr;
  for (auto& [id, ch] : by_stream_) ch->pc_ = nullptr;
  for (auto& t : transceivers_) {
    t->pc_ = nullptr;
    t->sender_->pc_ = nullptr;
  }
}

// ---------------------------------------------------------------------------------------------
// Offer / answer generation (RFC 8829 §5.2, §5.3)

std::string RTCPeerConnection::BuildOffer(bool ice_restart) {
  if (ice_restart || restart_ice_pending_) {
    // RFC 8829 §5.2.1 / RFC 8445 §9: an ICE restart is new ufrag and pwd.
    offered_ufrag_ = rng_.IceString(8);
    offered_pwd_ = rng_.IceString(24);
  } else if (signaling_state_ == RTCSignalingState::kStable) {
    offered_ufrag_ = local_ufrag_;
    offered_pwd_ = local_pwd_;
  }
  std::vector<Section> sections = sections_;
  // A new mid: the lowest integer not used by a section or a transceiver yet.
  auto new_mid = [&] {
    int mid = 0;
    auto used = [&](const std::string& m) {
      return std::any_of(sections.begin(), sections.end(), [&](const Section& s) { return s.mid == m; }) ||
             std::any_of(transceivers_.begin(), transceivers_.end(),
                         [&](const std::shared_ptr<RTCRtpTransceiver>& t) { return t->mid_ && *t->mid_ == m; });
    };
    while (used(std::to_string(mid))) ++mid;
    return std::to_string(mid);
  };
  // RFC 8829 §5.2.2: existing m-sections keep their place; a stopped transceiver's is rejected.
  for (auto& s : sections) {
    if (s.media != "audio" && s.media != "video") continue;
    RTCRtpTransceiver* t = TransceiverByMid(s.mid);
    if (!t || t->stopping_) s.rejected = true;
  }
  // §5.2.1: one new m-section per transceiver without a mid, in the order they were added.
  offer_mids_.clear();
  for (const auto& t : transceivers_) {
    if (t->mid_ || t->stopping_ || t->stopped_) continue;
    std::string mid = new_mid();
    offer_mids_[mid] = t;
    sections.push_back(Section{mid, t->kind_, "UDP/TLS/RTP/SAVPF", {}, false});
  }
  bool has_data = std::any_of(sections.begin(), sections.end(),
                              [](const Section& s) { return s.media == "application" && !s.rejected; });
  if (!has_data && !channels_.empty()) {
    std::string mid = new_mid();
    for (auto& s : sections) {
      if (s.media == "application") s.rejected = true;
    }
    sections.push_back(Section{mid, "application", "UDP/DTLS/SCTP", {"webrtc-datachannel"}, false});
  }
  sdp::SessionDescription d;
  d.session_id = session_id_;
  d.session_version = session_version_++;
  std::vector<std::string> bundle;
  for (const auto& s : sections)
    if (!s.rejected) bundle.push_back(s.mid);
  if (!bundle.empty()) d.AddAttribute("group", absl::StrCat("BUNDLE ", absl::StrJoin(bundle, " ")));
  d.AddAttribute("extmap-allow-mixed");
  d.AddAttribute("msid-semantic", std::string(" WMS"));
  WriteIdentity(d);  // webrtc-identity §9.3 step 6: a=identity
  const auto fp = certificate_->getFingerprints().front();
  for (const auto& s : sections) {
    sdp::MediaSection m;
    m.media = s.media;
    m.protocol = s.protocol;
    m.formats = s.formats;
    m.connection = "IN IP4 0.0.0.0";
    if (s.rejected) {
      m.port = 0;
      m.AddAttribute("mid", s.mid);
      d.media.push_back(std::move(m));
      continue;
    }
    m.port = 9;
    m.AddAttribute("ice-ufrag", offered_ufrag_);
    m.AddAttribute("ice-pwd", offered_pwd_);
    m.AddAttribute("ice-options", std::string("trickle"));
    m.AddAttribute("fingerprint", absl::StrCat(fp.algorithm, " ", absl::AsciiStrToUpper(fp.value)));  // RFC 8122 §5 UHEX
    // RFC 8842 §5.2: the offerer uses actpass.
    m.AddAttribute("setup", std::string("actpass"));
    m.AddAttribute("mid", s.mid);
    if (s.media == "application") {
      m.AddAttribute("sctp-port", std::to_string(kSctpPort));
      m.AddAttribute("max-message-size", std::to_string(kLocalMaxMessageSize));
    } else {
      RTCRtpTransceiver* t = TransceiverByMid(s.mid);
      if (!t) {
        auto it = offer_mids_.find(s.mid);
        if (it != offer_mids_.end()) t = it->second.lock().get();
      }
      if (t) WriteOfferMedia(*t, m);
    }
    d.media.push_back(std::move(m));
  }
  return d.Serialize();
}

absl::StatusOr<std::string> RTCPeerConnection::BuildAnswer() {
  if (!pending_remote_) return InvalidStateError("no remote offer");
  auto remote = sdp::SessionDescription::Parse(pending_remote_->sdp);
  if (!remote.ok()) return OperationError(remote.status().message());
  sdp::SessionDescription d;
  d.session_id = session_id_;
  d.session_version = session_version_++;
  const auto fp = certificate_->getFingerprints().front();
  bool data_accepted = false;
  std::vector<std::string> bundle;
  auto remote_bundles = remote->bundle_groups();
  // RFC 8842 §5.3: answer actpass with active (we become the DTLS client, like libwebrtc);
  // keep an established role on renegotiation.
  std::string setup = "active";
  for (size_t i = 0; i < remote->media.size(); ++i) {
    const auto& rm = remote->media[i];
    sdp::MediaSection m;
    m.media = rm.media;
    m.protocol = rm.protocol;
    m.formats = rm.formats;
    m.connection = "IN IP4 0.0.0.0";
    std::string mid = rm.mid().value_or(std::to_string(i));
    bool is_data = !data_accepted && rm.media == "application" && rm.port != 0 && IsDataProtocol(rm.protocol);
    RTCRtpTransceiver* t = nullptr;
    if ((rm.media == "audio" || rm.media == "video") && rm.port != 0 && absl::StrContains(rm.protocol, "RTP/"))
      t = TransceiverByMid(mid);
    // One transport only (bundlePolicy max-bundle, RFC 8843): an RTP section outside the offer's
    // BUNDLE group — or, without a group, any but the first accepted section — is rejected.
    if (t) {
      bool in_group = false;
      for (const auto& g : remote_bundles) in_group |= std::find(g.begin(), g.end(), mid) != g.end();
      bool any_accepted = std::any_of(d.media.begin(), d.media.end(), [](const sdp::MediaSection& x) { return x.port != 0; });
      if (remote_bundles.empty() ? any_accepted : !in_group) t = nullptr;
    }
    sdp::MediaSection rtp_part;
    bool accept = is_data || (t && WriteAnswerMedia(rm, *t, rtp_part));
    if (!accept) {
      // RFC 8829 §5.3.1: rejected m= sections keep their place with port 0.
      m.port = 0;
      if (rm.mid()) m.AddAttribute("mid", mid);
      d.media.push_back(std::move(m));
      continue;
    }
    if (is_data) data_accepted = true;
    auto remote_setup = sdp::EffectiveAttribute(*remote, rm, "setup").value_or("actpass");
    if (stack_->dtls_role()) {
      setup = *stack_->dtls_role() == dtls::Role::kClient ? "active" : "passive";
    } else if (remote_setup == "active") {
      setup = "passive";
    } else {
      setup = "active";
    }
    m.port = 9;
    m.AddAttribute("ice-ufrag", offered_ufrag_);
    m.AddAttribute("ice-pwd", offered_pwd_);
    m.AddAttribute("ice-options", std::string("trickle"));
    m.AddAttribute("fingerprint", absl::StrCat(fp.algorithm, " ", absl::AsciiStrToUpper(fp.value)));  // RFC 8122 §5 UHEX
    m.AddAttribute("setup", setup);
    m.AddAttribute("mid", mid);
    if (!is_data) {
      for (const auto& a : rtp_part.attributes) m.attributes.push_back(a);
      m.formats = rtp_part.formats;
      for (const auto& g : remote_bundles)
        if (std::find(g.begin(), g.end(), mid) != g.end()) bundle.push_back(mid);
      d.media.push_back(std::move(m));
      continue;
    }
    if (rm.protocol == "DTLS/SCTP") {
      // Legacy draft-ietf-mmusic-sctp-sdp-05 form: the port is the format, plus a=sctpmap.
      m.formats = {std::to_string(kSctpPort)};
      m.AddAttribute("sctpmap", absl::StrCat(kSctpPort, " webrtc-datachannel 1024"));
    } else {
      m.AddAttribute("sctp-port", std::to_string(kSctpPort));
    }
    m.AddAttribute("max-message-size", std::to_string(kLocalMaxMessageSize));
    for (const auto& g : remote_bundles)
      if (std::find(g.begin(), g.end(), mid) != g.end()) bundle.push_back(mid);
    d.media.push_back(std::move(m));
  }
  if (!bundle.empty()) d.AddAttribute("group", absl::StrCat("BUNDLE ", absl::StrJoin(bundle, " ")));
  d.AddAttribute("extmap-allow-mixed");
  d.AddAttribute("msid-semantic", std::string(" WMS"));
  WriteIdentity(d);  // webrtc-identity §9.3 step 6: a=identity
  return d.Serialize();
}

// §4.4.1.x createOffer
absl::StatusOr<RTCSessionDescriptionInit> RTCPeerConnection::createOffer(const RTCOfferOptions& options) {
  // Step: closed → InvalidStateError.
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  // "create an offer" step 2: signaling state must be stable or have-local-offer.
  if (signaling_state_ != RTCSignalingState::kStable && signaling_state_ != RTCSignalingState::kHaveLocalOffer)
    return InvalidStateError(absl::StrCat("Cannot create an offer in signaling state ", ToString(signaling_state_)));
  // webrtc-identity §9.3: with an IdP set, the offer waits for the identity assertion.
  if (absl::Status idp = PrepareIdentity(); !idp.ok()) return idp;
  std::string sdp = BuildOffer(options.iceRestart);
  last_created_offer_ = sdp;
  CheckInvariants();
  return RTCSessionDescriptionInit{RTCSdpType::kOffer, sdp};
}

// §4.4.1.x createAnswer
absl::StatusOr<RTCSessionDescriptionInit> RTCPeerConnection::createAnswer() {
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  if (signaling_state_ != RTCSignalingState::kHaveRemoteOffer &&
      signaling_state_ != RTCSignalingState::kHaveLocalPranswer)
    return InvalidStateError(absl::StrCat("Cannot create an answer in signaling state ", ToString(signaling_state_)));
  if (absl::Status idp = PrepareIdentity(); !idp.ok()) return idp;  // webrtc-identity §9.3
  auto sdp = BuildAnswer();
  if (!sdp.ok()) return sdp.status();
  last_created_answer_ = *sdp;
  CheckInvariants();
  return RTCSessionDescriptionInit{RTCSdpType::kAnswer, *sdp};
}

// ---------------------------------------------------------------------------------------------
// setLocalDescription / setRemoteDescription (§4.4.1.5 "set a session description")

absl::Status RTCPeerConnection::setLocalDescription(const RTCSessionDescriptionInit& description) {
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  RTCSdpType type;
  std::string sdp = description.sdp;
  if (!description.type) {
    // Implicit setLocalDescription (§4.4.1.6 step 4): offer in stable/have-local-offer/
    // have-remote-pranswer, otherwise an answer.
    if (signaling_state_ == RTCSignalingState::kStable || signaling_state_ == RTCSignalingState::kHaveLocalOffer ||
        signaling_state_ == RTCSignalingState::kHaveRemotePranswer) {
      auto offer = createOffer();
      if (!offer.ok()) return offer.status();
      type = RTCSdpType::kOffer;
      sdp = offer->sdp;
    } else {
      auto answer = createAnswer();
      if (!answer.ok()) return answer.status();
      type = RTCSdpType::kAnswer;
      sdp = answer->sdp;
    }
  } else {
    type = *description.type;
  }
  absl::Status st = type == RTCSdpType::kRollback ? Rollback(/*local=*/true) : ApplyLocal(type, sdp);
  CheckInvariants();
  return st;
}

absl::Status RTCPeerConnection::ApplyLocal(RTCSdpType type, const std::string& sdp_in) {
  std::string sdp = sdp_in;
  // §4.4.1.6 step 4.x: an offer/answer must be the last created one (munging is not allowed).
  if (type == RTCSdpType::kOffer) {
    if (sdp.empty()) sdp = last_created_offer_;
    if (sdp != last_created_offer_)
      return InvalidModificationError("The SDP does not match the previously generated SDP for this type");
    if (signaling_state_ != RTCSignalingState::kStable && signaling_state_ != RTCSignalingState::kHaveLocalOffer)
      return InvalidStateError(absl::StrCat("Failed to set local offer sdp: Called in wrong state: ", ToString(signaling_state_)));
  } else {
    if (sdp.empty()) sdp = last_created_answer_;
    if (sdp != last_created_answer_)
      return InvalidModificationError("The SDP does not match the previously generated SDP for this type");
    if (signaling_state_ != RTCSignalingState::kHaveRemoteOffer &&
        signaling_state_ != RTCSignalingState::kHaveLocalPranswer)
      return InvalidStateError(absl::StrCat("Failed to set local ", ToString(type), " sdp: Called in wrong state: ",
                                            ToString(signaling_state_)));
  }
  auto parsed = sdp::SessionDescription::Parse(sdp);
  if (!parsed.ok()) return SdpError(parsed.status().message());

  // Record our m-sections.
  std::vector<Section> sections;
  for (size_t i = 0; i < parsed->media.size(); ++i) {
    const auto& m = parsed->media[i];
    sections.push_back(Section{m.mid().value_or(std::to_string(i)), m.media, m.protocol, m.formats, m.port == 0});
  }
  sections_ = sections;

  // ICE credentials in this description (a restart if they changed, RFC 8445 §9).
  if (!parsed->media.empty()) {
    auto ufrag = sdp::EffectiveAttribute(*parsed, parsed->media[0], "ice-ufrag");
    auto pwd = sdp::EffectiveAttribute(*parsed, parsed->media[0], "ice-pwd");
    for (const auto& m : parsed->media) {
      if (m.port != 0) {
        ufrag = sdp::EffectiveAttribute(*parsed, m, "ice-ufrag");
        pwd = sdp::EffectiveAttribute(*parsed, m, "ice-pwd");
        break;
      }
    }
    if (ufrag && pwd && *ufrag != local_ufrag_) {
      local_ufrag_ = *ufrag;
      local_pwd_ = *pwd;
      restart_ice_pending_ = false;
      local_candidates_.clear();
      gathering_state_ = RTCIceGatheringState::kNew;
      stack_->ice().Restart(ice::Credentials{local_ufrag_, local_pwd_}, now_);
      if (!remote_ufrag_.empty() && type != RTCSdpType::kOffer)
        stack_->ice().SetRemoteCredentials(ice::Credentials{remote_ufrag_, remote_pwd_});
      gathering_started_ = false;
    }
  }

  // RFC 8445 §6.1.1: the agent that sends the first offer is controlling.
  if (!ice_role_decided_) {
    ice_role_decided_ = true;
    stack_->ice().SetRole(ToIceRole(type == RTCSdpType::kOffer));
  }

  ApplyLocalMedia(*parsed, type);

  RTCSessionDescription desc{type, sdp};
  if (type == RTCSdpType::kOffer) {
    pending_local_ = desc;
    SetSignalingState(RTCSignalingState::kHaveLocalOffer);
  } else if (type == RTCSdpType::kPranswer) {
    pending_local_ = desc;
    SetSignalingState(RTCSignalingState::kHaveLocalPranswer);
  } else {
    // §4.4.1.5 step (answer): current = new local and pending remote; pending cleared.
    current_local_ = desc;
    if (pending_remote_) current_remote_ = pending_remote_;
    pending_local_.reset();
    pending_remote_.reset();
    SetSignalingState(RTCSignalingState::kStable);
  }

  // Gathering starts with the first local description (JSEP §5.8 / W3C §4.4.1.5) that has a
  // transport: one non-rejected m-section. With none there is no RTCIceTransport, so no candidate
  // (it would name an sdpMid the remote does not have) and the gathering state stays "new"
  // (W3C §4.3.2 RTCIceGatheringState "new": ... or there are no transports).
  bool has_transport = false;
  for (const auto& s : sections_) has_transport |= !s.rejected;
  if (!gathering_started_ && has_transport) {
    gathering_started_ = true;
    stack_->ice().StartGathering(now_);
  }
  if (type != RTCSdpType::kOffer) ApplyNegotiatedTransports(type == RTCSdpType::kAnswer);
  if (type == RTCSdpType::kAnswer) NegotiateMedia();
  ProcessTransportEvents();
  if (signaling_state_ == RTCSignalingState::kStable) UpdateNegotiationNeeded();
  return absl::OkStatus();
}

absl::Status RTCPeerConnection::setRemoteDescription(const RTCSessionDescriptionInit& description) {
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  if (!description.type) return TypeError("RTCSessionDescriptionInit.type is required");
  absl::Status st;
  if (*description.type == RTCSdpType::kRollback) {
    st = Rollback(/*local=*/false);
  } else {
    st = ApplyRemote(*description.type, description.sdp);
  }
  CheckInvariants();
  return st;
}

absl::Status RTCPeerConnection::ApplyRemote(RTCSdpType type, const std::string& sdp) {
  // State check first (§4.4.1.5 step: "invalid for the current signaling state" → InvalidStateError).
  if (type == RTCSdpType::kOffer) {
    if (signaling_state_ == RTCSignalingState::kHaveLocalOffer) {
      // §4.4.1.6 setRemoteDescription step: an offer in have-local-offer implicitly rolls back
      // the local offer first (perfect negotiation).
      auto parsed_probe = sdp::SessionDescription::Parse(sdp);
      if (!parsed_probe.ok()) return SdpError(parsed_probe.status().message());
      absl::Status rb = Rollback(/*local=*/true);
      if (!rb.ok()) return rb;
    }
    if (signaling_state_ != RTCSignalingState::kStable && signaling_state_ != RTCSignalingState::kHaveRemoteOffer)
      return InvalidStateError(absl::StrCat("Failed to set remote offer sdp: Called in wrong state: ",
                                            ToString(signaling_state_)));
  } else {
    if (signaling_state_ != RTCSignalingState::kHaveLocalOffer &&
        signaling_state_ != RTCSignalingState::kHaveRemotePranswer)
      return InvalidStateError(absl::StrCat("Failed to set remote ", ToString(type), " sdp: Called in wrong state: ",
                                            ToString(signaling_state_)));
  }
  auto parsed = sdp::SessionDescription::Parse(sdp);
  if (!parsed.ok()) return SdpError(parsed.status().message());
  // RFC 8839/8122/8842 attribute rules (ufrag/pwd, fingerprint, setup, mids).
  auto valid = sdp::ValidateDescription(*parsed, type == RTCSdpType::kOffer     ? sdp::SdpType::kOffer
                                                 : type == RTCSdpType::kAnswer ? sdp::SdpType::kAnswer
                                                                               : sdp::SdpType::kPrAnswer);
  if (!valid.ok()) return SdpError(valid.message());
  if (type != RTCSdpType::kOffer) {
    // RFC 8829 §5.10: an answer has exactly the offer's m-sections, in order.
    if (parsed->media.size() != sections_.size())
      return SdpError("The number of m-sections in the answer does not match the offer");
    for (size_t i = 0; i < sections_.size(); ++i) {
      auto mid = parsed->media[i].mid();
      if (mid && *mid != sections_[i].mid) return SdpError("The order of m-lines in answer doesn't match order in offer");
    }
  }
  // Find the application section to use: the first accepted one with a data protocol.
  const sdp::MediaSection* data = nullptr;
  std::vector<std::string> mids;
  for (const auto& m : parsed->media) {
    auto mid = m.mid();
    if (mid) {
      if (std::find(mids.begin(), mids.end(), *mid) != mids.end()) return SdpError("Duplicate a=mid value");
      mids.push_back(*mid);
    } else if (!parsed->bundle_groups().empty()) {
      return SdpError("A BUNDLE group requires a=mid on every m-section");
    }
    if (!data && m.media == "application" && m.port != 0 && IsDataProtocol(m.protocol)) data = &m;
  }
  std::string ufrag, pwd, fp_alg, fp_val, setup;
  bool any_accepted = false;
  for (const auto& m : parsed->media) any_accepted |= m.port != 0;
  const sdp::MediaSection* ice_section = data;
  if (!ice_section)
    for (const auto& m : parsed->media)
      if (m.port != 0) { ice_section = &m; break; }
  if (ice_section) {
    ufrag = sdp::EffectiveAttribute(*parsed, *ice_section, "ice-ufrag").value_or("");
    pwd = sdp::EffectiveAttribute(*parsed, *ice_section, "ice-pwd").value_or("");
    // RFC 8839 §5.4: ufrag 4..256 and pwd 22..256 ice-chars.
    if (ufrag.empty() || pwd.empty()) return SdpError("Missing ICE ufrag or pwd");
    if (ufrag.size() < 4 || ufrag.size() > 256 || !IsIceChars(ufrag))
      return SdpError("Invalid ICE ufrag");
    if (pwd.size() < 22 || pwd.size() > 256 || !IsIceChars(pwd)) return SdpError("Invalid ICE pwd");
    auto fp = sdp::EffectiveAttribute(*parsed, *ice_section, "fingerprint");
    if (!fp) return SdpError("Missing a=fingerprint (required for DTLS, RFC 8122)");
    std::vector<std::string> parts = absl::StrSplit(*fp, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (parts.size() != 2) return SdpError("Malformed a=fingerprint");
    fp_alg = absl::AsciiStrToLower(parts[0]);
    fp_val = parts[1];
    setup = sdp::EffectiveAttribute(*parsed, *ice_section, "setup").value_or(type == RTCSdpType::kOffer ? "actpass" : "active");
    if (setup != "actpass" && setup != "active" && setup != "passive")
      return SdpError(absl::StrCat("Invalid a=setup value '", setup, "'"));
    if (type != RTCSdpType::kOffer && setup == "actpass")
      return SdpError("a=setup:actpass is not allowed in an answer (RFC 8842 §5.3)");
  }
  (void)any_accepted;

  // webrtc-identity §9.4: validate a=identity (blocks only with a target peer identity).
  if (absl::Status idp = CheckRemoteIdentity(*parsed); !idp.ok()) return idp;

  // Transceivers: association, remote tracks (fired after signalingstatechange, §4.4.1.6).
  std::vector<RTCEvent> track_events;
  ApplyRemoteMedia(*parsed, type, &track_events);

  RTCSessionDescription desc{type, sdp};
  bool remote_restart = !remote_ufrag_.empty() && !ufrag.empty() && ufrag != remote_ufrag_;
  if (type == RTCSdpType::kOffer) {
    if (!ice_role_decided_) {
      ice_role_decided_ = true;
      // The remote sent the first offer: we are controlled, unless it is ice-lite (RFC 8445 §6.1.1).
      bool lite = false;
      for (const auto& a : parsed->attributes) lite |= a.key == "ice-lite";
      stack_->ice().SetRole(ToIceRole(lite));
    }
    if (remote_restart) {
      // A remote ICE restart needs fresh local credentials in our answer (RFC 8445 §9).
      offered_ufrag_ = rng_.IceString(8);
      offered_pwd_ = rng_.IceString(24);
    }
    remote_offer_sections_.clear();
    for (size_t i = 0; i < parsed->media.size(); ++i) {
      const auto& m = parsed->media[i];
      remote_offer_sections_.push_back(Section{m.mid().value_or(std::to_string(i)), m.media, m.protocol, m.formats, m.port == 0});
    }
    pending_remote_ = desc;
  } else if (type == RTCSdpType::kPranswer) {
    pending_remote_ = desc;
  } else {
    current_remote_ = desc;
    if (pending_local_) current_local_ = pending_local_;
    pending_local_.reset();
    pending_remote_.reset();
  }

  // ICE: remote credentials and candidates in the description.
  if (!ufrag.empty()) {
    if (remote_restart && type != RTCSdpType::kOffer) {
      // Our restart offer was answered; the agent was restarted when the offer was applied.
    }
    if (remote_restart && type == RTCSdpType::kOffer) {
      remote_candidates_.clear();
      remote_end_of_candidates_ = false;
    }
    remote_ufrag_ = ufrag;
    remote_pwd_ = pwd;
    if (!(remote_restart && type == RTCSdpType::kOffer)) {
      stack_->ice().SetRemoteCredentials(ice::Credentials{ufrag, pwd});
    }
    for (const auto& cand : ice_section->candidates()) {
      auto c = ice::Candidate::Parse(cand);
      if (!c.ok()) continue;  // RFC 8839 §5.1: an unparsable candidate is ignored
      remote_candidates_.push_back(c->ToString());
      (void)stack_->ice().AddRemoteCandidate(*c, now_);
    }
    if (ice_section->end_of_candidates()) {
      remote_end_of_candidates_ = true;
      stack_->ice().SetRemoteEndOfCandidates();
    }
    // §4.4.1.5: canTrickleIceCandidates from a=ice-options:trickle.
    auto opts = sdp::EffectiveAttribute(*parsed, *ice_section, "ice-options").value_or("");
    can_trickle_ = absl::StrContains(opts, "trickle");
  } else {
    can_trickle_ = false;
  }
  if (data) {
    remote_sctp_port_ = static_cast<uint16_t>(data->sctp_port().value_or(kSctpPort));
    auto mms = data->max_message_size();
    // RFC 8841 §6.1: absent → 64 KiB; 0 → no limit beyond what we can buffer.
    remote_max_message_size_ = !mms ? 65536 : (*mms == 0 ? kLocalMaxMessageSize * 4 : *mms);
  }

  if (type == RTCSdpType::kOffer) {
    SetSignalingState(RTCSignalingState::kHaveRemoteOffer);
    pending_fp_alg_ = fp_alg;
    pending_fp_value_ = fp_val;
    pending_setup_ = setup;
  } else {
    // The answer decides the DTLS role against our actpass offer (RFC 8842 §5.2).
    if (!stack_->dtls_configured() && !setup.empty()) {
      dtls::Role role = setup == "active" ? dtls::Role::kServer : dtls::Role::kClient;
      if (data || ice_section) stack_->ConfigureDtls(role, fp_alg, fp_val, now_);
    } else if (!fp_alg.empty()) {
      stack_->ConfigureDtls(*stack_->dtls_role(), fp_alg, fp_val, now_);
    }
    data_mid_ = data ? data->mid().value_or("") : "";
    if (data) {
      stack_->ConfigureSctp(kSctpPort, remote_sctp_port_, remote_max_message_size_, now_);
      OpenPendingChannels();
    }
    SetSignalingState(type == RTCSdpType::kPranswer ? RTCSignalingState::kHaveRemotePranswer
                                                    : RTCSignalingState::kStable);
    if (type == RTCSdpType::kAnswer) NegotiateMedia();
  }
  for (auto& e : track_events) Emit(std::move(e));
  ProcessTransportEvents();
  if (signaling_state_ == RTCSignalingState::kStable) UpdateNegotiationNeeded();
  return absl::OkStatus();
}

// After our (pr)answer is applied: the DTLS role comes from our a=setup against the remote offer.
void RTCPeerConnection::ApplyNegotiatedTransports(bool final_answer) {
  (void)final_answer;
  const RTCSessionDescription* local = current_local_ ? &*current_local_ : nullptr;
  if (pending_local_) local = &*pending_local_;
  if (!local) return;
  auto parsed = sdp::SessionDescription::Parse(local->sdp);
  if (!parsed.ok()) return;
  const sdp::MediaSection* data = nullptr;
  for (const auto& m : parsed->media)
    if (m.media == "application" && m.port != 0) { data = &m; break; }
  const sdp::MediaSection* any = data;
  if (!any)
    for (const auto& m : parsed->media)
      if (m.port != 0) { any = &m; break; }
  if (!any) return;
  if (remote_restart_pending_answer_) {
    remote_restart_pending_answer_ = false;
  }
  // A remote-initiated ICE restart: our answer carries the new credentials (handled in
  // ApplyLocal by the ufrag change); now hand the agent the remote's new credentials.
  stack_->ice().SetRemoteCredentials(ice::Credentials{remote_ufrag_, remote_pwd_});
  for (const auto& c : remote_candidates_) {
    auto parsed_c = ice::Candidate::Parse(c);
    if (parsed_c.ok()) (void)stack_->ice().AddRemoteCandidate(*parsed_c, now_);
  }
  if (remote_end_of_candidates_) stack_->ice().SetRemoteEndOfCandidates();
  auto setup = sdp::EffectiveAttribute(*parsed, *any, "setup").value_or("active");
  dtls::Role role = setup == "passive" ? dtls::Role::kServer : dtls::Role::kClient;
  if (!pending_fp_alg_.empty())
    stack_->ConfigureDtls(stack_->dtls_role().value_or(role), pending_fp_alg_, pending_fp_value_, now_);
  data_mid_ = data ? data->mid().value_or("") : "";
  if (data) {
    stack_->ConfigureSctp(kSctpPort, remote_sctp_port_, remote_max_message_size_, now_);
    OpenPendingChannels();
  }
}

absl::Status RTCPeerConnection::Rollback(bool local) {
  // §4.4.1.5 "set the session description" step 4.2.x: a rollback (through either
  // setLocalDescription or setRemoteDescription) is invalid in stable, have-local-pranswer and
  // have-remote-pranswer; in have-local-offer or have-remote-offer it reverts the pending offer,
  // whichever side it came from.
  (void)local;
  if (signaling_state_ != RTCSignalingState::kHaveLocalOffer &&
      signaling_state_ != RTCSignalingState::kHaveRemoteOffer)
    return InvalidStateError(absl::StrCat("Called in wrong signalingState: ", ToString(signaling_state_)));
  RollbackMedia(signaling_state_ == RTCSignalingState::kHaveLocalOffer);
  if (signaling_state_ == RTCSignalingState::kHaveLocalOffer) {
    pending_local_.reset();
    // Restore the m-sections of the current local description.
    sections_.clear();
    if (current_local_) {
      auto parsed = sdp::SessionDescription::Parse(current_local_->sdp);
      if (parsed.ok())
        for (size_t i = 0; i < parsed->media.size(); ++i) {
          const auto& m = parsed->media[i];
          sections_.push_back(Section{m.mid().value_or(std::to_string(i)), m.media, m.protocol, m.formats, m.port == 0});
        }
    }
  } else {
    pending_remote_.reset();
    remote_offer_sections_.clear();
  }
  // RFC 8445 §6.1.1: the ICE role follows who sent the first offer of the first
  // completed exchange. A rolled-back first offer (ours or the remote's) never counted: decide the
  // role again with the next offer, e.g. answer as controlled after perfect-negotiation glare.
  if (!current_local_ && !current_remote_) ice_role_decided_ = false;
  SetSignalingState(RTCSignalingState::kStable);
  UpdateNegotiationNeeded();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// addIceCandidate (§4.4.1.x)

absl::Status RTCPeerConnection::addIceCandidate(const std::optional<RTCIceCandidateInit>& candidate) {
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  if (candidate && !candidate->candidate.empty() && !candidate->sdpMid && !candidate->sdpMLineIndex)
    return TypeError("Candidate missing values for both sdpMid and sdpMLineIndex");
  // Step 4.1: no remote description → InvalidStateError.
  if (!remoteDescription()) return InvalidStateError("The remote description was null");
  if (!candidate) {
    remote_end_of_candidates_ = true;
    stack_->ice().SetRemoteEndOfCandidates();
    return absl::OkStatus();
  }
  auto remote = sdp::SessionDescription::Parse(remoteDescription()->sdp);
  if (!remote.ok()) return OperationError("remote description unparsable");
  // Step 4.3/4.4: sdpMid must name a media section; else sdpMLineIndex must be in range.
  const sdp::MediaSection* section = nullptr;
  if (candidate->sdpMid) {
    for (const auto& m : remote->media)
      if (m.mid() == *candidate->sdpMid) section = &m;
    if (!section) return OperationError(absl::StrCat("Unknown sdpMid '", *candidate->sdpMid, "'"));
  } else if (candidate->sdpMLineIndex) {
    if (*candidate->sdpMLineIndex >= remote->media.size()) return OperationError("sdpMLineIndex out of range");
    section = &remote->media[*candidate->sdpMLineIndex];
  }
  // Step 4.5: usernameFragment must match the remote's current ufrag.
  if (candidate->usernameFragment && !candidate->usernameFragment->empty() &&
      *candidate->usernameFragment != remote_ufrag_)
    return OperationError("The usernameFragment does not match the remote description's ice-ufrag");
  if (candidate->candidate.empty()) {
    // Empty candidate = end-of-candidates for that section (RFC 8838 §4.1).
    remote_end_of_candidates_ = true;
    stack_->ice().SetRemoteEndOfCandidates();
    return absl::OkStatus();
  }
  auto c = ice::Candidate::Parse(candidate->candidate);
  if (!c.ok()) return OperationError(absl::StrCat("Error processing ICE candidate: ", c.status().message()));
  if (section && section->port == 0) return absl::OkStatus();  // rejected section: ignored
  // Kept to re-apply after an ICE restart; bounded like the agent's own candidate list.
  if (remote_candidates_.size() >= kMaxRemoteCandidates)
    return OperationError("Too many remote candidates");
  remote_candidates_.push_back(c->ToString());
  auto st = stack_->ice().AddRemoteCandidate(*c, now_);
  if (!st.ok()) return OperationError(st.message());
  ProcessTransportEvents();
  CheckInvariants();
  return absl::OkStatus();
}

void RTCPeerConnection::restartIce() {
  // §4.4.1.x restartIce: the next offer carries new credentials; negotiation is needed.
  if (is_closed_) return;
  restart_ice_pending_ = true;
  UpdateNegotiationNeeded();
}

absl::Status RTCPeerConnection::setConfiguration(const RTCConfiguration& config) {
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  // §4.4.1.x set a configuration: certificates cannot change.
  if (!config.certificates.empty()) {
    if (config.certificates.size() != config_.certificates.size())
      return InvalidModificationError("Attempted to modify the PeerConnection's configuration in an unsupported way.");
    for (size_t i = 0; i < config.certificates.size(); ++i)
      if (config.certificates[i] != config_.certificates[i])
        return InvalidModificationError("Attempted to modify the PeerConnection's certificates.");
  }
  if (config.bundlePolicy != config_.bundlePolicy)
    return InvalidModificationError("Attempted to modify the PeerConnection's bundlePolicy.");
  if (config.rtcpMuxPolicy != config_.rtcpMuxPolicy)
    return InvalidModificationError("Attempted to modify the PeerConnection's rtcpMuxPolicy.");
  // webrtc-identity §6: a peerIdentity other than the target peer identity cannot be set.
  if (config.peerIdentity && config.peerIdentity != config_.peerIdentity)
    return InvalidModificationError("Attempted to modify the PeerConnection's peerIdentity.");
  if (config.iceCandidatePoolSize != config_.iceCandidatePoolSize && localDescription())
    return InvalidModificationError("Attempted to modify iceCandidatePoolSize after setLocalDescription.");
  for (const auto& server : config.iceServers)
    for (const auto& url : server.urls)
      if (!(absl::StartsWith(url, "stun:") || absl::StartsWith(url, "stuns:") ||
            absl::StartsWith(url, "turn:") || absl::StartsWith(url, "turns:")))
        return SyntaxError(absl::StrCat("Invalid ICE server URL: ", url));
  auto certs = config_.certificates;
  auto target_identity = config_.peerIdentity;
  config_ = config;
  config_.certificates = certs;
  config_.peerIdentity = target_identity;
  return absl::OkStatus();
}

void RTCPeerConnection::close() {
  // §4.4.1.x close(): steps 1-11; no events fire for the state changes it makes.
  if (is_closed_) return;
  is_closed_ = true;
  signaling_state_ = RTCSignalingState::kClosed;
  for (auto& ch : std::vector<std::shared_ptr<RTCDataChannel>>(channels_)) CloseChannelLocally(ch, false);
  // Step: every transceiver is stopped (its receiver's track ends).
  for (auto& t : transceivers_) {
    t->stopping_ = t->stopped_ = true;
    t->current_direction_ = RTCRtpTransceiverDirection::kStopped;
    t->direction_ = RTCRtpTransceiverDirection::kStopped;
    t->receiver_->track_->state_ = MediaStreamTrackState::kEnded;
  }
  media_->SetTransportReady(false, now_);
  stack_->Close(now_);
  ice_connection_state_ = RTCIceConnectionState::kClosed;
  connection_state_ = RTCPeerConnectionState::kClosed;
  dtls_state_ = RTCDtlsTransportState::kClosed;
  // Drop transport events that would otherwise surface after close.
  while (stack_->PollEvent()) {
  }
}

// ---------------------------------------------------------------------------------------------
// Descriptions

std::string RTCPeerConnection::DescribeWithCandidates(const std::string& sdp) const {
  // §4.4.1.x localDescription: the SDP plus the candidates gathered so far (and
  // a=end-of-candidates once gathering is complete) in the first bundled m-section.
  auto parsed = sdp::SessionDescription::Parse(sdp);
  if (!parsed.ok() || parsed->media.empty()) return sdp;
  for (auto& m : parsed->media) {
    if (m.port == 0) continue;
    if (m.GetAttributes("candidate").empty()) {
      for (const auto& c : local_candidates_) m.AddAttribute("candidate", c.substr(strlen("candidate:")));
      if (gathering_state_ == RTCIceGatheringState::kComplete && !m.GetAttribute("end-of-candidates"))
        m.AddAttribute("end-of-candidates", std::nullopt);
    }
    break;
  }
  return parsed->Serialize();
}

std::optional<RTCSessionDescription> RTCPeerConnection::localDescription() const {
  auto d = pending_local_ ? pending_local_ : current_local_;
  if (d && d->type != RTCSdpType::kRollback) d->sdp = DescribeWithCandidates(d->sdp);
  return d;
}
std::optional<RTCSessionDescription> RTCPeerConnection::currentLocalDescription() const {
  auto d = current_local_;
  if (d) d->sdp = DescribeWithCandidates(d->sdp);
  return d;
}
std::optional<RTCSessionDescription> RTCPeerConnection::pendingLocalDescription() const {
  auto d = pending_local_;
  if (d) d->sdp = DescribeWithCandidates(d->sdp);
  return d;
}
std::optional<RTCSessionDescription> RTCPeerConnection::remoteDescription() const {
  return pending_remote_ ? pending_remote_ : current_remote_;
}
std::optional<RTCSessionDescription> RTCPeerConnection::currentRemoteDescription() const { return current_remote_; }
std::optional<RTCSessionDescription> RTCPeerConnection::pendingRemoteDescription() const { return pending_remote_; }

std::optional<RTCSctpTransport> RTCPeerConnection::sctp() const {
  const auto* s = stack_->sctp();
  if (!s) return std::nullopt;
  RTCSctpTransport t;
  t.transport = dtlsTransport();
  if (is_closed_) t.state = RTCSctpTransportState::kClosed;
  else if (s->association_up()) t.state = RTCSctpTransportState::kConnected;
  else if (sctp_failed_) t.state = RTCSctpTransportState::kClosed;
  // §6.1.1 update the data max message size: min(remote max-message-size, what we can send).
  t.maxMessageSize = static_cast<double>(s->max_message_size());
  if (s->association_up()) t.maxChannels = s->max_channels();
  return t;
}

RTCDtlsTransport RTCPeerConnection::dtlsTransport() const {
  RTCDtlsTransport t;
  t.state = dtls_state_;
  if (dtls_state_ == RTCDtlsTransportState::kConnected) {
    t.remoteFingerprint = stack_->dtls().remote_fingerprint_sha256();
    t.cipherSuite = stack_->dtls().cipher_suite();
  }
  const auto& ice = stack_->ice();
  t.iceTransport.role = !ice_role_decided_ ? RTCIceRole::kUnknown
                        : ice.role() == ice::Role::kControlling ? RTCIceRole::kControlling
                                                                : RTCIceRole::kControlled;
  t.iceTransport.state = static_cast<RTCIceTransportState>(ToW3c(ice.state()));
  t.iceTransport.gatheringState = gathering_state_;
  if (auto p = ice.selected_pair()) {
    t.iceTransport.selectedLocal = p->first.ToString();
    t.iceTransport.selectedRemote = p->second.ToString();
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Data channels (§6.1, §6.2)

absl::StatusOr<std::shared_ptr<RTCDataChannel>> RTCPeerConnection::createDataChannel(
    const std::string& label, const RTCDataChannelInit& init) {
  // §6.1 createDataChannel steps.
  if (is_closed_) return InvalidStateError("The RTCPeerConnection's signalingState is 'closed'.");
  if (label.size() > 65535) return TypeError("label is longer than 65535 bytes");
  if (init.protocol.size() > 65535) return TypeError("protocol is longer than 65535 bytes");
  if (init.maxPacketLifeTime && init.maxRetransmits)
    return TypeError("maxPacketLifeTime and maxRetransmits are mutually exclusive");
  if (init.negotiated && !init.id) return TypeError("negotiated is true but id is not set");
  if (init.id && *init.id > 65534) return TypeError("id must be in 0..65534");
  if (init.id) {
    for (const auto& ch : channels_)
      if (ch->id_ == init.id) return OperationError(absl::StrCat("RTCDataChannel id ", *init.id, " is already in use"));
    if (auto s = stack_->sctp(); s && s->association_up() && *init.id >= s->max_channels())
      return OperationError("id is not below sctp.maxChannels");
  }
  auto ch = std::shared_ptr<RTCDataChannel>(new RTCDataChannel(this, label, init, next_channel_handle_++));
  bool first = channels_.empty() && data_mid_.empty();
  channels_.push_back(ch);
  if (stack_->sctp()) {
    OpenPendingChannels();
    if (ch->state_ == RTCDataChannelState::kClosed) {
      channels_.erase(std::find(channels_.begin(), channels_.end(), ch));
      return OperationError("No available SCTP stream id for the data channel");
    }
  }
  // §6.1 step 20: the first data channel needs negotiation (an application m-section).
  if (first) UpdateNegotiationNeeded();
  ProcessTransportEvents();
  CheckInvariants();
  return ch;
}

void RTCPeerConnection::OpenPendingChannels() {
  auto* sctp = stack_->sctp();
  if (!sctp) return;
  for (auto& ch : std::vector<std::shared_ptr<RTCDataChannel>>(channels_)) {
    if (ch->opened_in_sctp_ || ch->state_ != RTCDataChannelState::kConnecting) continue;
    sctp::ChannelInit ci;
    ci.ordered = ch->init_.ordered;
    ci.max_retransmits = ch->init_.maxRetransmits;
    ci.max_packet_life_time_ms = ch->init_.maxPacketLifeTime;
    ci.label = ch->label_;
    ci.protocol = ch->init_.protocol;
    ci.negotiated = ch->init_.negotiated;
    auto id = sctp->OpenChannel(ci, ch->id_, now_);
    if (!id.ok()) {
      // §6.1.1 (when the DTLS role is known): no id available → close with an error.
      ch->state_ = RTCDataChannelState::kClosed;
      Emit({RTCEventType::kChannelError, "", std::nullopt, ch, {}, false, "OperationError",
            std::string(id.status().message()), "data-channel-failure"});
      Emit({RTCEventType::kChannelClose, "", std::nullopt, ch});
      channels_.erase(std::find(channels_.begin(), channels_.end(), ch));
      continue;
    }
    ch->id_ = id->value();
    ch->opened_in_sctp_ = true;
    by_stream_[id->value()] = ch;
    if (ch->low_threshold_) sctp->SetBufferedAmountLowThreshold(*id, ch->low_threshold_);
  }
}

absl::Status RTCPeerConnection::ChannelSend(RTCDataChannel* ch, ByteView data, bool binary) {
  auto* sctp = stack_->sctp();
  if (!sctp || !ch->id_) return InvalidStateError("RTCDataChannel.readyState is not 'open'");
  // §6.2 send() step: larger than sctp.maxMessageSize → TypeError.
  if (data.size() > sctp->max_message_size())
    return TypeError(absl::StrCat("Message of ", data.size(), " bytes exceeds maxMessageSize ", sctp->max_message_size()));
  auto st = sctp->Send(StreamId(*ch->id_), data, binary, now_);
  if (!st.ok()) {
    if (DomErrorName(st) == "TypeError") return st;
    return OperationError(st.message());
  }
  ch->buffered_amount_ += data.size();
  ++ch->messages_sent_;
  ch->bytes_sent_ += data.size();
  stack_->Pump(now_);
  ProcessTransportEvents();
  return absl::OkStatus();
}

void RTCPeerConnection::ChannelClose(RTCDataChannel* ch) {
  auto* sctp = stack_->sctp();
  if (sctp && ch->id_ && ch->opened_in_sctp_) {
    sctp->CloseChannel(StreamId(*ch->id_), now_);
    stack_->Pump(now_);
    ProcessTransportEvents();
  } else {
    // Never reached the transport: closed at once (§6.2 close steps, no transport to reset).
    for (auto& c : channels_)
      if (c.get() == ch) {
        auto keep = c;
        CloseChannelLocally(keep, true);
        break;
      }
  }
}

void RTCPeerConnection::ChannelSetLowThreshold(RTCDataChannel* ch, uint64_t v) {
  if (auto* sctp = stack_->sctp(); sctp && ch->id_ && ch->opened_in_sctp_)
    sctp->SetBufferedAmountLowThreshold(StreamId(*ch->id_), v);
}

void RTCPeerConnection::CloseChannelLocally(const std::shared_ptr<RTCDataChannel>& ch, bool fire_events) {
  // webrtc-stats dataChannelsClosed: channels that left the "open" state.
  if (ch->state_ == RTCDataChannelState::kOpen || ch->state_ == RTCDataChannelState::kClosing) ++data_channels_closed_;
  ch->state_ = RTCDataChannelState::kClosed;
  ch->buffered_amount_ = 0;
  if (fire_events) Emit({RTCEventType::kChannelClose, "", std::nullopt, ch});
  auto it = std::find(channels_.begin(), channels_.end(), ch);
  if (it != channels_.end()) channels_.erase(it);
  if (ch->id_) {
    auto s = by_stream_.find(*ch->id_);
    if (s != by_stream_.end() && s->second == ch) by_stream_.erase(s);
  }
  ch->pc_ = nullptr;
}

// ---------------------------------------------------------------------------------------------
// Negotiation-needed (§4.7.3 "update the negotiation-needed flag")

bool RTCPeerConnection::NegotiationNeeded() const {
  if (restart_ice_pending_) return true;
  // Data channels exist but no application m-section in the current local description.
  if (!channels_.empty()) {
    bool has = false;
    if (current_local_)
      for (const auto& s : sections_) has |= s.media == "application" && !s.rejected;
    if (!has) return true;
  }
  return MediaNegotiationNeeded();
}

void RTCPeerConnection::UpdateNegotiationNeeded() {
  if (is_closed_) return;
  if (signaling_state_ != RTCSignalingState::kStable) return;  // re-checked on return to stable
  if (!NegotiationNeeded()) {
    negotiation_needed_ = false;
    return;
  }
  if (negotiation_needed_) return;  // already fired and not yet negotiated
  negotiation_needed_ = true;
  Emit({RTCEventType::kNegotiationNeeded});
}

void RTCPeerConnection::SetSignalingState(RTCSignalingState s) {
  if (s == signaling_state_) return;
  signaling_state_ = s;
  if (s == RTCSignalingState::kStable) negotiation_needed_ = false;
  Emit({RTCEventType::kSignalingStateChange, ToString(s)});
}

// ---------------------------------------------------------------------------------------------
// Transport events → W3C state and events

void RTCPeerConnection::Emit(RTCEvent e) { events_.push_back(std::move(e)); }

void RTCPeerConnection::ProcessTransportEvents() {
  // API calls (StartGathering, AddRemoteCandidate, ...) leave work in the layers; move it up
  // now rather than at the next input, which may never come (e.g. no remote peer yet).
  if (!is_closed_) stack_->Pump(now_);
  while (auto ev = stack_->PollEvent()) {
    if (is_closed_) continue;
    if (auto* ie = std::get_if<ice::Event>(&*ev)) {
      if (auto* lc = std::get_if<ice::EventLocalCandidate>(ie)) {
        std::string c = lc->candidate.ToString();
        local_candidates_.push_back(c);
        RTCIceCandidateInit init;
        init.candidate = c;
        // The candidate belongs to the first (bundled) non-rejected m-section.
        for (size_t i = 0; i < sections_.size(); ++i)
          if (!sections_[i].rejected) {
            init.sdpMid = sections_[i].mid;
            init.sdpMLineIndex = static_cast<uint16_t>(i);
            break;
          }
        if (!init.sdpMid) { init.sdpMid = "0"; init.sdpMLineIndex = 0; }
        init.usernameFragment = local_ufrag_;
        Emit({RTCEventType::kIceCandidate, "", init});
      } else if (auto* gs = std::get_if<ice::EventGatheringStateChanged>(ie)) {
        RTCIceGatheringState s = gs->state == ice::GatheringState::kGathering ? RTCIceGatheringState::kGathering
                                 : gs->state == ice::GatheringState::kComplete ? RTCIceGatheringState::kComplete
                                                                                 : RTCIceGatheringState::kNew;
        if (s == gathering_state_) continue;
        gathering_state_ = s;
        // §5.6 "update the ICE gathering state": fire icegatheringstatechange; when complete,
        // then fire icecandidate with a null candidate.
        Emit({RTCEventType::kIceGatheringStateChange, ToString(s)});
        if (s == RTCIceGatheringState::kComplete) Emit({RTCEventType::kIceCandidate, "", std::nullopt});
      } else if (auto* st = std::get_if<ice::EventStateChanged>(ie)) {
        auto s = ToW3c(st->state);
        if (s != ice_connection_state_) {
          ice_connection_state_ = s;
          Emit({RTCEventType::kIceConnectionStateChange, ToString(s)});
        }
        UpdateConnectionState();
      } else if (auto* ce = std::get_if<ice::EventCandidateError>(ie)) {
        // §5.6 icecandidateerror (RTCPeerConnectionIceErrorEvent): name = errorCode,
        // message = errorText, detail = url.
        Emit({RTCEventType::kIceCandidateError, "", std::nullopt, nullptr, {}, false,
              std::to_string(ce->error_code), ce->error_text, ce->url});
      }
    } else if (auto* rtp = std::get_if<engine::RtpReceived>(&*ev)) {
      media_->OnRtp(rtp->packet, now_);
    } else if (auto* rtcp = std::get_if<engine::RtcpReceived>(&*ev)) {
      media_->OnRtcp(rtcp->packet, now_);
    } else if (auto* ds = std::get_if<engine::DtlsStateChanged>(&*ev)) {
      dtls_state_ = ToW3c(ds->state);
      // Media flows once DTLS is up (the SRTP keys come from its exporter, RFC 5764 §4.2).
      media_->SetTransportReady(ds->state == dtls::State::kConnected, now_);
      UpdateConnectionState();
      if (ds->state == dtls::State::kFailed || ds->state == dtls::State::kClosed) {
        // The data transport is gone: channels close (§6.1.1 "SCTP transport closed").
        for (auto& ch : std::vector<std::shared_ptr<RTCDataChannel>>(channels_)) {
          if (ds->state == dtls::State::kFailed)
            Emit({RTCEventType::kChannelError, "", std::nullopt, ch, {}, false, "OperationError",
                  ds->reason, "dtls-failure"});
          CloseChannelLocally(ch, true);
        }
      }
    } else if (auto* se = std::get_if<sctp::Event>(&*ev)) {
      std::visit(
          [this](auto&& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, sctp::EventAssociationUp>) {
              OpenPendingChannels();
            } else if constexpr (std::is_same_v<T, sctp::EventAssociationDown>) {
              sctp_failed_ = true;
              for (auto& ch : std::vector<std::shared_ptr<RTCDataChannel>>(channels_)) {
                if (ch->state_ != RTCDataChannelState::kClosing)
                  Emit({RTCEventType::kChannelError, "", std::nullopt, ch, {}, false, "OperationError",
                        e.reason, "sctp-failure"});
                CloseChannelLocally(ch, true);
              }
            } else if constexpr (std::is_same_v<T, sctp::EventChannelOpen>) {
              auto it = by_stream_.find(e.id.value());
              if (it != by_stream_.end() && it->second->state_ == RTCDataChannelState::kConnecting) {
                it->second->state_ = RTCDataChannelState::kOpen;
                ++data_channels_opened_;
                Emit({RTCEventType::kChannelOpen, "", std::nullopt, it->second});
              }
            } else if constexpr (std::is_same_v<T, sctp::EventIncomingChannel>) {
              // §6.2 "announce the channel as open" for a remote DCEP OPEN: datachannel, then open.
              if (by_stream_.count(e.id.value())) return;
              RTCDataChannelInit init;
              init.ordered = e.init.ordered;
              init.maxRetransmits = e.init.max_retransmits;
              init.maxPacketLifeTime = e.init.max_packet_life_time_ms;
              init.protocol = e.init.protocol;
              init.negotiated = false;
              init.id = e.id.value();
              auto ch = std::shared_ptr<RTCDataChannel>(new RTCDataChannel(this, e.init.label, init, next_channel_handle_++));
              ch->state_ = RTCDataChannelState::kOpen;
              ch->opened_in_sctp_ = true;
              channels_.push_back(ch);
              by_stream_[e.id.value()] = ch;
              Emit({RTCEventType::kDataChannel, "", std::nullopt, ch});
              ++data_channels_opened_;
              Emit({RTCEventType::kChannelOpen, "", std::nullopt, ch});
            } else if constexpr (std::is_same_v<T, sctp::EventMessage>) {
              auto it = by_stream_.find(e.id.value());
              if (it == by_stream_.end()) return;
              auto& ch = it->second;
              if (ch->state_ != RTCDataChannelState::kOpen) return;  // §6.2: only while open
              ch->messages_received_++;
              ch->bytes_received_ += e.data.size();
              RTCEvent m{RTCEventType::kChannelMessage, "", std::nullopt, ch};
              m.data = std::move(e.data);
              m.binary = e.binary;
              Emit(std::move(m));
            } else if constexpr (std::is_same_v<T, sctp::EventChannelClosing>) {
              auto it = by_stream_.find(e.id.value());
              if (it == by_stream_.end()) return;
              if (it->second->state_ == RTCDataChannelState::kOpen ||
                  it->second->state_ == RTCDataChannelState::kConnecting) {
                it->second->state_ = RTCDataChannelState::kClosing;
                Emit({RTCEventType::kChannelClosing, "", std::nullopt, it->second});
              }
            } else if constexpr (std::is_same_v<T, sctp::EventChannelClosed>) {
              auto it = by_stream_.find(e.id.value());
              if (it == by_stream_.end()) return;
              auto ch = it->second;
              CloseChannelLocally(ch, true);
            } else if constexpr (std::is_same_v<T, sctp::EventBufferedAmountLow>) {
              auto it = by_stream_.find(e.id.value());
              if (it == by_stream_.end()) return;
              it->second->buffered_amount_ = stack_->sctp()->buffered_amount(e.id);
              Emit({RTCEventType::kChannelBufferedAmountLow, "", std::nullopt, it->second});
            }
          },
          *se);
    }
  }
  UpdateBufferedAmounts();
  PumpReceivedDtmf();
  PumpMedia();
}

void RTCPeerConnection::UpdateBufferedAmounts() {
  auto* sctp = stack_->sctp();
  if (!sctp) return;
  for (auto& [id, ch] : by_stream_)
    if (ch->state_ == RTCDataChannelState::kOpen || ch->state_ == RTCDataChannelState::kClosing)
      ch->buffered_amount_ = sctp->buffered_amount(StreamId(id));
}

void RTCPeerConnection::UpdateConnectionState() {
  // §4.4.3 RTCPeerConnectionState, derived from the ICE and DTLS transports.
  RTCPeerConnectionState s;
  auto ice = ice_connection_state_;
  auto dtls = dtls_state_;
  if (is_closed_) {
    s = RTCPeerConnectionState::kClosed;
  } else if (ice == RTCIceConnectionState::kFailed || dtls == RTCDtlsTransportState::kFailed) {
    s = RTCPeerConnectionState::kFailed;
  } else if (ice == RTCIceConnectionState::kDisconnected) {
    s = RTCPeerConnectionState::kDisconnected;
  } else if ((ice == RTCIceConnectionState::kNew || ice == RTCIceConnectionState::kClosed) &&
             (dtls == RTCDtlsTransportState::kNew || dtls == RTCDtlsTransportState::kClosed)) {
    s = RTCPeerConnectionState::kNew;
  } else if (ice == RTCIceConnectionState::kNew || ice == RTCIceConnectionState::kChecking ||
             dtls == RTCDtlsTransportState::kNew || dtls == RTCDtlsTransportState::kConnecting) {
    s = RTCPeerConnectionState::kConnecting;
  } else {
    s = RTCPeerConnectionState::kConnected;
  }
  if (s != connection_state_) {
    connection_state_ = s;
    Emit({RTCEventType::kConnectionStateChange, ToString(s)});
  }
}

std::optional<RTCEvent> RTCPeerConnection::PollEvent() {
  PumpIdentity();
  ProcessTransportEvents();
  if (events_.empty()) return std::nullopt;
  RTCEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

// ---------------------------------------------------------------------------------------------
// Endpoint

void RTCPeerConnection::SetTime(Instant now) {
  if (now > now_) now_ = now;
}

void RTCPeerConnection::AddLocalAddress(const SocketAddress& local) { stack_->ice().AddLocalAddress(local); }

void RTCPeerConnection::HandleReceive(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                                      Instant now) {
  SetTime(now);
  if (is_closed_) return;
  stack_->HandleReceive(packet, local, remote, now_);
  ProcessTransportEvents();
}

void RTCPeerConnection::HandleStreamData(ByteView bytes, const SocketAddress& local,
                                         const SocketAddress& remote, Instant now) {
  SetTime(now);
  if (is_closed_) return;
  stack_->HandleStreamData(bytes, local, remote, now_);
  ProcessTransportEvents();
}

void RTCPeerConnection::HandleStreamClosed(const SocketAddress& local, const SocketAddress& remote,
                                           Instant now) {
  SetTime(now);
  if (is_closed_) return;
  stack_->HandleStreamClosed(local, remote, now_);
  ProcessTransportEvents();
}

void RTCPeerConnection::HandleTimeout(Instant now) {
  SetTime(now);
  if (is_closed_) return;
  stack_->HandleTimeout(now_);
  RunDtmfTasks();
  media_->HandleTimeout(now_);
  PumpIdentity();  // IdP deadlines (webrtc-identity §9.5 idp-timeout)
  ProcessTransportEvents();
}

std::optional<Transmit> RTCPeerConnection::PollTransmit() { return stack_->PollTransmit(); }

std::optional<Instant> RTCPeerConnection::PollTimeout() {
  auto t = stack_->PollTimeout();
  if (is_closed_) return t;
  auto m = media_->PollTimeout();
  if (m && (!t || *m < *t)) t = m;
  auto dtmf = DtmfTimeout();  // the next DTMF Playout task (webrtc-pc §7.2)
  if (dtmf && (!t || *dtmf < *t)) t = dtmf;
  auto idp = IdentityTimeout();
  if (idp && (!t || *idp < *t)) t = idp;
  return t;
}

void RTCPeerConnection::CheckInvariants() const {
#ifndef NDEBUG
  // Signaling state and descriptions agree (§4.4.1.5 table).
  switch (signaling_state_) {
    case RTCSignalingState::kStable: assert(!pending_local_ && !pending_remote_); break;
    case RTCSignalingState::kHaveLocalOffer: assert(pending_local_ && !pending_remote_); break;
    case RTCSignalingState::kHaveRemoteOffer: assert(pending_remote_ && !pending_local_); break;
    default: break;
  }
  for (const auto& [id, ch] : by_stream_) {
    assert(ch->id_ && *ch->id_ == id);
    (void)id;
    (void)ch;
  }
  assert(is_closed_ == (signaling_state_ == RTCSignalingState::kClosed));
#endif
}

}  // namespace refrtc
