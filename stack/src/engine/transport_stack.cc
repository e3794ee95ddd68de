#include "engine/transport_stack.h"

#include "absl/strings/str_cat.h"
#include "engine/demux.h"
#include "mdns/dns_message.h"
#include "rtp/rtcp_packet.h"
#include "rtp/rtp_packet.h"

namespace refrtc::engine {
namespace {
// Records from a remote that ICE has not validated (yet) are held, not processed: a peer whose
// checks complete before ours sends its ClientHello early (RFC 8445 §7.3.1.5).
constexpr size_t kMaxHeldDtls = 32;
// Remote .local candidates waiting for resolution (the agent caps remote candidates at 100 too).
constexpr size_t kMaxMdnsWaiting = 64;
}  // namespace

TransportStack::TransportStack(ice::AgentConfig ice_config,
                               std::shared_ptr<dtls::Certificate> certificate, uint64_t seed,
                               mdns::ResolverConfig mdns_config)
    : rng_(seed ^ 0x9e3779b97f4a7c15ull), mdns_(std::move(mdns_config)) {
  ice_ = std::make_unique<ice::Agent>(std::move(ice_config), rng_);
  dtls_ = std::make_unique<dtls::Transport>(std::move(certificate), rng_.U64());
}

TransportStack::~TransportStack() = default;

void TransportStack::ConfigureDtls(dtls::Role role, const std::string& fp_algorithm,
                                   const std::string& fp_value, Instant now) {
  if (closed_) return;
  dtls_->SetRemoteFingerprint(fp_algorithm, fp_value);
  if (!dtls_role_) dtls_role_ = role;
  MaybeStartDtls(now);
  ReplayHeldDtls(now);
  Pump(now);
}

void TransportStack::ConfigureSctp(uint16_t local_port, uint16_t remote_port,
                                   uint64_t remote_max_message_size, Instant now) {
  if (closed_ || !dtls_role_) return;
  if (!sctp_) {
    sctp_ = std::make_unique<sctp::Transport>(*dtls_role_ == dtls::Role::kClient, local_port,
                                              remote_port);
  }
  sctp_->SetRemoteMaxMessageSize(remote_max_message_size);
  Pump(now);
}

void TransportStack::MaybeStartDtls(Instant now) {
  if (dtls_started_ || !dtls_role_ || closed_) return;
  // RFC 5763 §5: the server waits for the ClientHello; the client sends it once ICE has a
  // selected pair to send it on.
  if (*dtls_role_ == dtls::Role::kClient && !selected_) return;
  dtls_started_ = true;
  (void)dtls_->Start(*dtls_role_, now);
}

void TransportStack::ReplayHeldDtls(Instant now) {
  if (!dtls_started_ || held_dtls_.empty()) return;
  std::deque<Held> held;
  held.swap(held_dtls_);
  for (auto& h : held) {
    if (ice_->IsValidatedRemote(h.local, h.remote)) {
      dtls_reply_path_ = std::make_pair(h.local, h.remote);
      dtls_->HandleRecord(h.data, now);
    } else {
      held_dtls_.push_back(std::move(h));  // still unvalidated: keep (bounded on entry)
    }
  }
}

void TransportStack::HandleReceive(ByteView packet, const SocketAddress& local,
                                   const SocketAddress& remote, Instant now) {
  if (closed_) return;
  ++counters_.received;
  counters_.bytes_received += packet.size();
  // TURN server traffic first: relayed peer data is demuxed from Pump (PollRelayedData).
  if (ice_->HandleTurnDatagram(packet, local, remote, now)) {
    Pump(now);
    return;
  }
  // mDNS first: its first byte (query id, 0) would look like STUN to RFC 7983 (see demux.h).
  if (IsMdns(packet, local, remote)) {
    ++counters_.mdns_received;
    mdns_.HandlePacket(packet, remote, now);
    Pump(now);
    return;
  }
  Demux(packet, local, remote, now);
  Pump(now);
}

void TransportStack::HandleStreamData(ByteView bytes, const SocketAddress& local,
                                      const SocketAddress& remote, Instant now) {
  if (closed_) return;
  counters_.bytes_received += bytes.size();
  ice_->HandleStreamData(bytes, local, remote, now);
  Pump(now);
}

void TransportStack::HandleStreamClosed(const SocketAddress& local, const SocketAddress& remote,
                                        Instant now) {
  if (closed_) return;
  ice_->HandleStreamClosed(local, remote, now);
  Pump(now);
}

void TransportStack::SendDtls(const SocketAddress& local, const SocketAddress& remote, Bytes data,
                              Instant now) {
  Transmit t{local, remote, std::move(data)};
  // A relay pair: through the TURN allocation (its output comes out of ice_->PollTransmit).
  if (ice_->SendRelayed(t, now)) return;
  transmits_.push_back(std::move(t));
}

// RFC 7983 demux of one datagram (from a socket, or unwrapped from a TURN allocation).
void TransportStack::Demux(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                           Instant now) {
  switch (Classify(packet)) {
    case PacketKind::kStun:
      ice_->HandleStun(packet, local, remote, now);
      break;
    case PacketKind::kDtls:
      if (dtls_started_ && ice_->IsValidatedRemote(local, remote)) {
        dtls_reply_path_ = std::make_pair(local, remote);
        dtls_->HandleRecord(packet, now);
      } else if (held_dtls_.size() < kMaxHeldDtls) {
        held_dtls_.push_back({Bytes(packet.begin(), packet.end()), local, remote});
      } else {
        ++counters_.dropped_dtls_unvalidated;
      }
      break;
    case PacketKind::kRtp:
      HandleSrtp(packet, local, remote, now);
      break;
    case PacketKind::kUnknown:
      ++counters_.dropped_unknown;
      break;
  }
}

// RFC 5764 §5.1.2 / RFC 7983 §7: a datagram with first byte 128..191 on the DTLS 5-tuple is
// SRTP or SRTCP. Accepted only from a source ICE has validated — the rule DTLS records follow
// (ice::Agent::IsValidatedRemote: a succeeded pair, an authenticated requester, or the selected
// pair) — so an off-path sender cannot even make us spend a MAC check. Unlike DTLS nothing is
// held: media is worthless later, and before the keys exist it cannot be unprotected anyway.
void TransportStack::HandleSrtp(ByteView packet, const SocketAddress& local,
                                const SocketAddress& remote, Instant now) {
  if (!ice_->IsValidatedRemote(local, remote)) {
    ++counters_.dropped_rtp_unvalidated;
    return;
  }
  UpdateSrtpSessions();
  if (!srtp_) {
    ++counters_.dropped_rtp;  // before DTLS connected, or DTLS without use_srtp
    return;
  }
  // RFC 5761 §4: the second octet (M + PT) in 192..223 is an RTCP packet type (SR 200 ...).
  const bool rtcp = rtp::IsRtcpPacket(packet);
  Bytes buf(packet.begin(), packet.end());
  absl::Status st = rtcp ? srtp_->inbound.UnprotectRtcp(buf) : srtp_->inbound.UnprotectRtp(buf);
  if (!st.ok()) {
    // RFC 3711 §3.3 / §3.4: a packet failing authentication or the replay check is discarded.
    ++counters_.srtp_unprotect_failures;
    return;
  }
  if (rtcp) {
    ++counters_.rtcp_received;
    events_.push_back(RtcpReceived{std::move(buf), now});
  } else {
    ++counters_.rtp_received;
    events_.push_back(RtpReceived{std::move(buf), now});
  }
}

// RFC 5764 §4.2: the SRTP keys exist once the handshake is done; they are used only after the
// peer's certificate matched its a=fingerprint (dtls::State::kConnected). When the association
// closes or fails the sessions (and the keys inside libsrtp) go away with it.
void TransportStack::UpdateSrtpSessions() {
  if (!dtls_started_) return;
  const dtls::State st = dtls_->state();
  if (st == dtls::State::kConnected) {
    if (srtp_setup_done_) return;
    srtp_setup_done_ = true;
    std::optional<dtls::SrtpKeys> keys = dtls_->srtp_keys();
    if (!keys) {
      // RFC 5764 §4.1.1: the peer did not negotiate use_srtp (a data-only endpoint).
      srtp_status_ = absl::FailedPreconditionError(
          "DTLS connected without use_srtp (RFC 5764 §4.1.1): no SRTP keys");
      return;
    }
    auto sessions = srtp::CreateDtlsSrtpSessions(*keys, dtls_->role());
    if (!sessions.ok()) {
      srtp_status_ = absl::FailedPreconditionError(
          absl::StrCat("SRTP sessions could not be created: ", sessions.status().ToString()));
      return;
    }
    srtp_.emplace(std::move(*sessions));
    srtp_status_ = absl::OkStatus();
  } else if (st == dtls::State::kClosed || st == dtls::State::kFailed) {
    srtp_.reset();
    srtp_status_ = absl::FailedPreconditionError(
        absl::StrCat("DTLS transport is ", dtls::StateName(st), ": no SRTP"));
  }
}

std::optional<srtp::Profile> TransportStack::srtp_profile() const {
  if (!srtp_) return std::nullopt;
  return srtp_->outbound.profile();
}

absl::Status TransportStack::SendRtp(Bytes packet, Instant now) {
  return SendMedia(std::move(packet), /*rtcp=*/false, now);
}

absl::Status TransportStack::SendRtcp(Bytes packet, Instant now) {
  return SendMedia(std::move(packet), /*rtcp=*/true, now);
}

absl::Status TransportStack::SendMedia(Bytes packet, bool rtcp, Instant now) {
  if (closed_) return absl::FailedPreconditionError("transport is closed");
  UpdateSrtpSessions();
  if (!srtp_) return srtp_status_;
  if (rtcp) {
    // RFC 3550 §6.1 compound framing (libwebrtc pads inner transport-cc packets: tolerated);
    // RFC 3711 §3.4 keeps the first 8 octets (header + sender SSRC) in the clear, so they must exist.
    if (packet.size() < 8 || !rtp::IsRtcpPacket(packet))
      return absl::InvalidArgumentError("not an RTCP packet (RFC 3550 §6.4.1 header + SSRC)");
    auto blocks = rtp::SplitRtcpCompound(packet, /*allow_inner_padding=*/true);
    if (!blocks.ok())
      return absl::InvalidArgumentError(absl::StrCat("malformed RTCP: ", blocks.status().message()));
  } else {
    auto parsed = rtp::ParseRtp(packet);
    if (!parsed.ok())
      return absl::InvalidArgumentError(absl::StrCat("malformed RTP: ", parsed.status().message()));
    // RFC 5761 §4: with rtcp-mux a payload type whose M+PT octet is 192..223 (M set, PT 64..95)
    // would be taken for RTCP by the receiver.
    if (rtp::IsRtcpPacket(packet))
      return absl::InvalidArgumentError("RTP payload type conflicts with RTCP (RFC 5761 §4)");
  }
  // RFC 5764 §5.1.2: SRTP goes on the same 5-tuple as DTLS (the selected pair), only while we
  // have consent to send there (RFC 7675 §5.1).
  auto path = DtlsSendPath();
  if (!path || !ice_->HasConsent(path->first, path->second))
    return absl::FailedPreconditionError("no ICE candidate pair with consent to send (RFC 7675 §5.1)");
  absl::Status st = rtcp ? srtp_->outbound.ProtectRtcp(packet) : srtp_->outbound.ProtectRtp(packet);
  if (!st.ok()) return st;
  if (rtcp) ++counters_.rtcp_sent;
  else ++counters_.rtp_sent;
  const bool relayed = ice_->IsRelayedAddress(path->first);
  SendDtls(path->first, path->second, std::move(packet), now);
  // Through a TURN allocation the datagram comes out of ice_->PollTransmit: move it up now.
  if (relayed) Pump(now);
  return absl::OkStatus();
}

void TransportStack::HandleTimeout(Instant now) {
  if (closed_) return;
  ice_->HandleTimeout(now);
  mdns_.HandleTimeout(now);
  if (dtls_started_) dtls_->HandleTimeout(now);
  if (sctp_) sctp_->HandleTimeout(now);
  Pump(now);
}

void TransportStack::HandleIceEvent(const ice::Event& ev, Instant now) {
  if (auto* sel = std::get_if<ice::EventSelectedPairChanged>(&ev)) {
    selected_ = std::make_pair(sel->local, sel->remote);
    MaybeStartDtls(now);
    ReplayHeldDtls(now);
  }
}

void TransportStack::HandleMdnsCandidate(const ice::EventRemoteMdnsCandidate& ev, Instant now) {
  if (mdns_waiting_.size() >= kMaxMdnsWaiting) {
    ++counters_.mdns_candidates_dropped;
    return;
  }
  // A cached name yields a Resolved event at once (handled in the same Pump).
  if (!mdns_.Resolve(ev.candidate.address, now).ok()) {
    ++counters_.mdns_candidates_dropped;
    return;
  }
  mdns_waiting_.push_back(ev);
}

void TransportStack::HandleResolverEvent(const mdns::ResolverEvent& ev, Instant now) {
  const std::string& name =
      std::visit([](const auto& e) -> const std::string& { return e.name; }, ev);
  const auto* resolved = std::get_if<mdns::Resolved>(&ev);
  if (resolved) ++counters_.mdns_resolved;
  else ++counters_.mdns_failed;  // draft-ietf-mmusic-mdns-ice-candidates §3.2.1: drop silently
  std::vector<ice::EventRemoteMdnsCandidate> waiting;
  waiting.swap(mdns_waiting_);
  for (auto& w : waiting) {
    if (!mdns::NameEquals(w.candidate.address, name)) {
      mdns_waiting_.push_back(std::move(w));
      continue;
    }
    if (!resolved) continue;
    if (w.generation != ice_->remote_generation()) {  // an ICE restart happened meanwhile
      ++counters_.mdns_candidates_dropped;
      continue;
    }
    // Same foundation, priority, port and type: only the address becomes the resolved IP, so the
    // pair (and its checks) use the real address.
    for (const SocketAddress& a : resolved->addresses) {
      ice::Candidate c = w.candidate;
      c.address = a.IpString();
      (void)ice_->AddRemoteCandidate(c, now);
    }
  }
}

std::optional<std::pair<SocketAddress, SocketAddress>> TransportStack::DtlsSendPath() const {
  // RFC 7675 §5.1: also on the selected pair only while we have consent. Once consent expired
  // (30 s without an authenticated response) the agent drops its selected pair but selected_
  // keeps the last one: without this check DTLS/SCTP (e.g. SCTP retransmissions) went on
  // being sent to a peer that no longer consents.
  if (selected_) {
    if (ice_->HasConsent(selected_->first, selected_->second)) return selected_;
    return std::nullopt;
  }
  if (dtls_reply_path_ && ice_->HasConsent(dtls_reply_path_->first, dtls_reply_path_->second))
    return dtls_reply_path_;
  return std::nullopt;
}

void TransportStack::Pump(Instant now) {
  // Each pass moves everything one layer; loop until quiescent (bounded to avoid livelock).
  for (int pass = 0; pass < 64; ++pass) {
    bool progress = false;
    while (auto d = ice_->PollRelayedData()) {
      progress = true;
      Demux(d->data, d->local, d->remote, now);
    }
    while (auto ev = ice_->PollEvent()) {
      progress = true;
      if (auto* m = std::get_if<ice::EventRemoteMdnsCandidate>(&*ev)) {
        HandleMdnsCandidate(*m, now);  // consumed here: the facade never sees .local names
        continue;
      }
      HandleIceEvent(*ev, now);
      events_.push_back(std::move(*ev));
    }
    while (auto ev = mdns_.PollEvent()) {
      progress = true;
      HandleResolverEvent(*ev, now);
    }
    while (auto t = mdns_.PollTransmit()) {
      progress = true;
      if (!closed_) transmits_.push_back(std::move(*t));
    }
    // A STUN exchange may have validated the source of held records.
    if (!held_dtls_.empty() && dtls_started_) ReplayHeldDtls(now);
    while (auto t = ice_->PollTransmit()) {
      progress = true;
      transmits_.push_back(std::move(*t));
    }
    if (dtls_started_) {
      // DTLS output waiting for a path with consent (see below).
      if (!dtls_out_waiting_.empty()) {
        if (auto path = DtlsSendPath()) {
          for (auto& d : dtls_out_waiting_) SendDtls(path->first, path->second, std::move(d), now);
          dtls_out_waiting_.clear();
          progress = true;
        }
      }
      while (auto out = dtls_->PollOutgoing()) {
        progress = true;
        // On the selected pair; before ICE has selected one (the peer's checks finished first and
        // its ClientHello is here), back on the path the peer's records came from.
        // Only where we have consent to send (RFC 7675): our own check on that pair succeeded.
        // Until then the flight waits (bounded) instead of being lost to a retransmit timer.
        if (closed_) continue;
        if (auto path = DtlsSendPath()) {
          SendDtls(path->first, path->second, std::move(*out), now);
        } else if (dtls_out_waiting_.size() < kMaxHeldDtls) {
          dtls_out_waiting_.push_back(std::move(*out));
        }
      }
      dtls::State st = dtls_->state();
      if (st != last_dtls_state_) {
        progress = true;
        last_dtls_state_ = st;
        UpdateSrtpSessions();  // before the event: a consumer seeing "connected" can send media
        events_.push_back(DtlsStateChanged{st, dtls_->failure_reason()});
      }
      while (auto app = dtls_->PollAppData()) {
        progress = true;
        // RFC 8261: application data on a verified DTLS association is SCTP.
        if (sctp_ && sctp_started_) sctp_->HandlePacket(*app, now);
      }
    }
    if (sctp_) {
      if (!sctp_started_ && dtls_->state() == dtls::State::kConnected) {
        sctp_started_ = true;
        progress = true;
        (void)sctp_->Start(now);
      }
      while (auto pkt = sctp_->PollOutgoing()) {
        progress = true;
        if (dtls_->state() == dtls::State::kConnected) (void)dtls_->Send(*pkt, now);
      }
      while (auto ev = sctp_->PollEvent()) {
        progress = true;
        events_.push_back(std::move(*ev));
      }
    }
    if (!progress) break;
  }
}

std::optional<Transmit> TransportStack::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  ++counters_.sent;
  counters_.bytes_sent += t.data.size();
  return t;
}

std::optional<Instant> TransportStack::PollTimeout() const {
  if (closed_) return std::nullopt;
  std::optional<Instant> t = ice_->PollTimeout();
  auto take = [&t](std::optional<Instant> o) {
    if (o && (!t || *o < *t)) t = o;
  };
  take(mdns_.PollTimeout());
  if (dtls_started_) take(dtls_->PollTimeout());
  if (sctp_ && sctp_started_) take(sctp_->PollTimeout());
  return t;
}

std::optional<TransportEvent> TransportStack::PollEvent() {
  if (events_.empty()) return std::nullopt;
  TransportEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void TransportStack::Close(Instant now) {
  if (closed_) return;
  // RFC 8831 §6.7 / W3C close(): shut SCTP down, send close_notify, stop ICE.
  if (sctp_ && sctp_started_) sctp_->Close(now);
  Pump(now);
  if (dtls_started_) {
    dtls_->Close(now);
    Pump(now);
  }
  ice_->Close();
  Pump(now);
  closed_ = true;
  srtp_.reset();
  srtp_status_ = absl::FailedPreconditionError("transport is closed");
}

}  // namespace refrtc::engine
