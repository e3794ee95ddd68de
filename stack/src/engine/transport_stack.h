// The sans-IO transport plumbing under one RTCPeerConnection: ICE agent → DTLS → SCTP, with
// RFC 7983 demux at the input and the gating rules of RFC 8445/8261:
//  * DTLS records are accepted only from addresses ICE has validated: a pair whose check
//    succeeded, or a remote that sent an authenticated Binding request (it knows our ice-pwd).
//    Records from anyone else are held (bounded) and replayed once ICE validates the source,
//    otherwise dropped. Decision: not only the *selected* pair, because the two agents may
//    select different pairs for a moment before nomination settles (RFC 8445 §12.1 lets data
//    flow on any valid pair); dropping the peer's first flight then cost a 1 s DTLS retransmit.
//    DTLS is sent on the selected pair, or, before ICE has selected one, back on the path the
//    peer's last record came from once our own check on it succeeded (RFC 7675 consent).
//  * SCTP starts only after DTLS is connected with the remote fingerprint verified.
//  * Remote `.local` host candidates (browsers hide their addresses behind mDNS names) are
//    resolved here: the agent reports them (ice::EventRemoteMdnsCandidate), the mdns::Resolver
//    queries 224.0.0.251:5353 / [ff02::fb]:5353 (Transmits from mdns::QuerySource(), which hosts
//    route to their shared mDNS socket), and each resolved address goes back to the agent as the
//    same candidate with an IP literal. Unresolved names are dropped silently. mDNS datagrams
//    are recognised before the RFC 7983 demux (engine/demux.h IsMdns).
//  * SRTP (RFC 5764, issue D): once DTLS is connected (peer fingerprint verified) and use_srtp was
//    negotiated, the exported keys make one outbound and one inbound srtp::SrtpSession (our DTLS
//    role picks the key halves, RFC 5764 §4.2). RFC 5764 §5.1.2 / RFC 7983 §7: datagrams whose first
//    byte is 128..191 are SRTP/SRTCP on the same 5-tuple as DTLS; they are accepted under the same
//    rule as DTLS records (an ICE-validated source, ice::Agent::IsValidatedRemote), split RTP vs
//    RTCP by RFC 5761 §4, unprotected and queued as RtpReceived / RtcpReceived (plaintext). Media
//    is sent with SendRtp / SendRtcp on the DTLS send path (the selected pair) while we have
//    consent (RFC 7675). Nothing is held for later: SRTP before the keys exist is dropped (counted).
//  * TURN (RFC 8656, ice/turn_client.h): datagrams/stream bytes from a TURN server go to the
//    agent first (ice::Agent::HandleTurnDatagram / HandleStreamData, before the mDNS and RFC 7983
//    demux: ChannelData's first byte 64..79 is TURN's). Relayed peer data comes back out of the
//    agent (PollRelayedData) as if received on the relayed address and is demuxed as usual; DTLS
//    sent on a pair whose local side is a relayed address goes through the allocation.
// The facade (api/) owns JSEP and the W3C objects; this class owns packets and timers.
#pragma once
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "dtls/dtls_transport.h"
#include "ice/agent.h"
#include "mdns/resolver.h"
#include "sctp/sctp_transport.h"
#include "srtp/srtp_session.h"
#include "util/random.h"
#include "util/time.h"
#include "util/transmit.h"

namespace refrtc::engine {

struct DtlsStateChanged {
  dtls::State state;
  std::string reason;
};
// One SRTP packet unprotected (RFC 3711 §3.3) into its plaintext RTP packet; `at` = receive time.
struct RtpReceived {
  Bytes packet;
  Instant at;
};
// One SRTCP packet unprotected (RFC 3711 §3.4) into its plaintext (compound) RTCP packet.
struct RtcpReceived {
  Bytes packet;
  Instant at;
};
using TransportEvent =
    std::variant<ice::Event, DtlsStateChanged, sctp::Event, RtpReceived, RtcpReceived>;

struct PacketCounters {
  uint64_t received = 0, sent = 0, bytes_received = 0, bytes_sent = 0;
  uint64_t dropped_unknown = 0, dropped_dtls_unvalidated = 0;
  // SRTP/SRTCP path (RFC 5764 §5.1.2). dropped_rtp: first byte 128..191 but no SRTP session
  // (before DTLS connected, or DTLS without use_srtp); dropped_rtp_unvalidated: from a source ICE
  // has not validated; srtp_unprotect_failures: authentication, replay, too old or malformed.
  uint64_t dropped_rtp = 0, dropped_rtp_unvalidated = 0, srtp_unprotect_failures = 0;
  uint64_t rtp_received = 0, rtcp_received = 0;  // unprotected and queued as events
  uint64_t rtp_sent = 0, rtcp_sent = 0;          // protected and queued for sending
  uint64_t mdns_received = 0;      // datagrams routed to the mDNS resolver
  uint64_t mdns_resolved = 0;      // names resolved (each Resolved event)
  uint64_t mdns_failed = 0;        // names unresolved after the retries
  uint64_t mdns_candidates_dropped = 0;  // waiting-list overflow, resolver refusal, stale
};

class TransportStack {
 public:
  TransportStack(ice::AgentConfig ice_config, std::shared_ptr<dtls::Certificate> certificate,
                 uint64_t seed, mdns::ResolverConfig mdns_config = {});
  ~TransportStack();
  TransportStack(const TransportStack&) = delete;
  TransportStack& operator=(const TransportStack&) = delete;

  ice::Agent& ice() { return *ice_; }
  const ice::Agent& ice() const { return *ice_; }
  dtls::Transport& dtls() { return *dtls_; }
  const dtls::Transport& dtls() const { return *dtls_; }
  // Null until ConfigureSctp.
  sctp::Transport* sctp() { return sctp_.get(); }
  const sctp::Transport* sctp() const { return sctp_.get(); }

  // RFC 8842 / JSEP: the DTLS role and the remote fingerprint come from the negotiated
  // descriptions. The role is fixed for the life of the transport; a later call with a different
  // fingerprint (renegotiation) updates the expected fingerprint only before the handshake ends.
  void ConfigureDtls(dtls::Role role, const std::string& fp_algorithm, const std::string& fp_value,
                     Instant now);
  bool dtls_configured() const { return dtls_role_.has_value(); }
  std::optional<dtls::Role> dtls_role() const { return dtls_role_; }

  // RFC 8841: SCTP runs once DTLS is up; created when the application m-section is negotiated.
  void ConfigureSctp(uint16_t local_port, uint16_t remote_port, uint64_t remote_max_message_size,
                     Instant now);

  void HandleReceive(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                     Instant now);
  // TCP connections to TURN servers (refrtc/endpoint.h).
  void HandleStreamData(ByteView bytes, const SocketAddress& local, const SocketAddress& remote,
                        Instant now);
  void HandleStreamClosed(const SocketAddress& local, const SocketAddress& remote, Instant now);
  void HandleTimeout(Instant now);
  std::optional<Transmit> PollTransmit();
  std::optional<Instant> PollTimeout() const;
  std::optional<TransportEvent> PollEvent();

  // Moves data between the layers after any input or API call on them (flushes SCTP into DTLS,
  // DTLS onto the selected pair, DTLS app data into SCTP, collects events).
  void Pump(Instant now);

  // Media (RFC 5764 §5.1.2): `packet` is one plaintext RTP packet (RFC 3550 §5.1) / one plaintext
  // (compound) RTCP packet (RFC 3550 §6.1); it is protected with the outbound SRTP session and
  // queued for PollTransmit on the DTLS path (the ICE selected pair). Errors:
  //  FailedPrecondition: closed, DTLS not connected, no SRTP (use_srtp not negotiated), or no
  //    consent to send on the pair (RFC 7675 §5.1);
  //  InvalidArgument: malformed packet (rtp::ParseRtp fails; an RTP packet whose second octet
  //    makes it look like RTCP, RFC 5761 §4; RTCP framing wrong or shorter than 8 octets);
  //  others from srtp::SrtpSession::Protect* (e.g. AlreadyExists: RTP sequence number reused).
  absl::Status SendRtp(Bytes packet, Instant now);
  absl::Status SendRtcp(Bytes packet, Instant now);
  // The negotiated SRTP profile once the sessions exist (DTLS connected with use_srtp).
  std::optional<srtp::Profile> srtp_profile() const;
  bool srtp_active() const { return srtp_.has_value(); }

  void Close(Instant now);
  const PacketCounters& counters() const { return counters_; }
  const mdns::Resolver& mdns() const { return mdns_; }

 private:
  void Demux(ByteView packet, const SocketAddress& local, const SocketAddress& remote, Instant now);
  void SendDtls(const SocketAddress& local, const SocketAddress& remote, Bytes data, Instant now);
  void HandleIceEvent(const ice::Event& ev, Instant now);
  void HandleSrtp(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                  Instant now);
  void UpdateSrtpSessions();
  absl::Status SendMedia(Bytes packet, bool rtcp, Instant now);
  void MaybeStartDtls(Instant now);
  void ReplayHeldDtls(Instant now);
  void HandleMdnsCandidate(const ice::EventRemoteMdnsCandidate& ev, Instant now);
  void HandleResolverEvent(const mdns::ResolverEvent& ev, Instant now);

  std::unique_ptr<ice::Agent> ice_;
  Random rng_;
  std::unique_ptr<dtls::Transport> dtls_;
  std::unique_ptr<sctp::Transport> sctp_;
  std::optional<dtls::Role> dtls_role_;
  bool dtls_started_ = false;
  bool sctp_started_ = false;
  dtls::State last_dtls_state_ = dtls::State::kNew;
  std::optional<std::pair<SocketAddress, SocketAddress>> selected_;
  // (local, remote) of the latest DTLS record accepted from an ICE-validated source.
  std::optional<std::pair<SocketAddress, SocketAddress>> dtls_reply_path_;
  std::deque<Bytes> dtls_out_waiting_;  // DTLS datagrams waiting for a path with consent
  std::optional<std::pair<SocketAddress, SocketAddress>> DtlsSendPath() const;
  struct Held {
    Bytes data;
    SocketAddress local, remote;
  };
  std::deque<Held> held_dtls_;
  // Remote mDNS candidates waiting for their name (bounded by kMaxMdnsWaiting).
  mdns::Resolver mdns_;
  std::vector<ice::EventRemoteMdnsCandidate> mdns_waiting_;
  std::deque<Transmit> transmits_;
  std::deque<TransportEvent> events_;
  PacketCounters counters_;
  // SRTP sessions while DTLS is connected with use_srtp; srtp_status_ says why there are none.
  std::optional<srtp::SrtpSessions> srtp_;
  absl::Status srtp_status_ =
      absl::FailedPreconditionError("DTLS is not connected: no SRTP keys yet (RFC 5764 §4.2)");
  bool srtp_setup_done_ = false;  // keys looked at once DTLS connected (no retry without keys)
  bool closed_ = false;
};

}  // namespace refrtc::engine
