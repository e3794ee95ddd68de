// A sans-IO ICE agent (RFC 8445) for one data stream with one component (rtcp-mux / BUNDLE),
// with trickle (RFC 8838) and consent freshness (RFC 7675). Full ICE, UDP only, no TURN.
//
// Inputs: local socket addresses, remote credentials/candidates, received STUN datagrams and
// time. Outputs (polled): STUN datagrams to send, events, the next deadline.
//
// Relay candidates (RFC 8445 §5.1.1.2, RFC 8656): one TURN allocation (ice/turn_client.h) per
// configured TURN server, made from the best host socket of the server's family. The relayed
// address becomes a local candidate of type relay (its own base, related address = the mapped
// address) that is paired and checked like a host one; everything the agent — or the owner, via
// SendRelayed() — sends from a relayed address goes through the allocation (Send indication,
// then ChannelData once a channel is bound), and what the TURN server relays back is unwrapped
// by HandleTurnDatagram()/HandleStreamData(): STUN goes to the checks, the rest (DTLS) waits in
// PollRelayedData() with local = the relayed address and remote = the peer. With relay_only
// (W3C iceTransportPolicy "relay") only relay candidates are announced and paired.
//
// Nomination: regular nomination (RFC 8445 §8.1.1) that interoperates with libwebrtc and
// libjuice/libdatachannel: the controlling agent nominates the best valid pair with a
// USE-CANDIDATE check once no higher-priority pair is pending (or after a short delay); the
// controlled agent selects the highest-priority nominated valid pair. Before nomination both
// sides use the best valid pair as selected pair (RFC 8445 §12.1 allows data on valid pairs,
// libwebrtc does the same), and nomination then wins over priority.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "ice/candidate.h"
#include "ice/turn_client.h"
#include "stun/stun_message.h"
#include "util/bytes.h"
#include "util/random.h"
#include "util/socket_address.h"
#include "util/time.h"
#include "util/transmit.h"

namespace refrtc::ice {

struct Credentials {
  std::string ufrag, pwd;
};
enum class Role { kControlling, kControlled };
enum class GatheringState { kNew, kGathering, kComplete };
// W3C RTCIceTransportState.
enum class TransportState { kNew, kChecking, kConnected, kCompleted, kDisconnected, kFailed, kClosed };
const char* TransportStateName(TransportState s);

struct AgentConfig {
  Role role = Role::kControlling;
  Credentials local;
  uint64_t tie_breaker = 0;
  // From iceServers: stun: URLs already resolved to addresses by the host/caller.
  std::vector<SocketAddress> stun_servers;
  // From iceServers: turn: URLs, resolved by the caller (RFC 7065 turn:host:port?transport=).
  std::vector<TurnServer> turn_servers;
  // W3C RTCIceTransportPolicy "relay": only relay candidates are gathered, signalled and used.
  bool relay_only = false;
  // Timers and bounds of each TURN allocation (its `server` field is ignored).
  TurnClientConfig turn;
  // RFC 7675 §5.1: consent checks at a randomized 4-6 s interval, consent lost after 30 s.
  Duration consent_interval_min = seconds(4);
  Duration consent_interval_max = seconds(6);
  Duration consent_timeout = seconds(30);
  // connected -> disconnected when a request on the selected pair stays unanswered this long.
  Duration disconnected_timeout = seconds(5);
  // RFC 8445 §14.2 pacing: one new check per Ta.
  Duration ta = milliseconds(50);
  // Check retransmission (RFC 8445 §14.3, libwebrtc-like): RTO starts at check_rto_initial and
  // doubles up to check_rto_max; a pair fails after max_check_sends unanswered sends.
  Duration check_rto_initial = milliseconds(200);
  Duration check_rto_max = milliseconds(1600);
  int max_check_sends = 7;
  // Server-reflexive gathering: Binding requests to each STUN server, RTO 250 ms doubling,
  // 4 sends, then give up (about 3.75 s).
  Duration gather_rto_initial = milliseconds(250);
  int max_gather_sends = 4;
  // Controlling: nominate at the latest this long after the first pair succeeded, even if
  // higher-priority pairs are still being checked.
  Duration nomination_delay = milliseconds(500);
  // Memory bounds (resource limits, docs/LIMITS.md).
  // Remote candidates kept, signaled and peer-reflexive together; AddRemoteCandidate past it ->
  // ResourceExhausted (the candidate is ignored).
  size_t max_remote_candidates = 100;
  // Of those, learned as peer-reflexive from incoming checks (RFC 8445 §7.3.1.3). Separate so a
  // replayed authenticated check from many spoofed source addresses cannot fill the list and
  // starve the signaled candidates; requests past it are answered but create no candidate/pair.
  size_t max_peer_reflexive_candidates = 32;
  // Checklist size. RFC 8445 §6.1.2.5 recommends a configurable limit, 100 by default; 256
  // leaves room for multi-homed hosts (up to 64 local bases) with relay candidates. Pairs past it
  // are not formed.
  size_t max_pairs = 256;
  size_t max_transactions = 512;
  size_t max_queued_transmits = 512;
};

struct EventLocalCandidate {
  Candidate candidate;
};
struct EventGatheringStateChanged {
  GatheringState state;
};
struct EventStateChanged {
  TransportState state;
};
struct EventSelectedPairChanged {
  SocketAddress local, remote;
};
// A remote candidate whose address is an mDNS name (draft-ietf-mmusic-mdns-ice-candidates
// §3.2.1): the agent cannot pair it; the owner resolves the name and calls AddRemoteCandidate
// again with the IP in `address` (foundation, priority, port kept). `generation` is
// remote_generation() at the time: a resolution finishing after an ICE restart is stale.
// While such an event is unpolled, PollTimeout() returns the current time so the owner wakes.
struct EventRemoteMdnsCandidate {
  Candidate candidate;
  uint64_t generation = 0;
};
// W3C RTCPeerConnectionIceErrorEvent (icecandidateerror): a TURN allocation failed (bad
// credentials: 401; other Allocate errors; 0 = no answer / connection lost). Gathering goes on
// without that relay candidate.
struct EventCandidateError {
  std::string address;  // the local base the allocation was made from
  uint16_t port = 0;
  std::string url;
  uint16_t error_code = 0;
  std::string error_text;
};
using Event = std::variant<EventLocalCandidate, EventGatheringStateChanged, EventStateChanged,
                           EventSelectedPairChanged, EventRemoteMdnsCandidate, EventCandidateError>;

// Relayed peer data unwrapped from a TURN allocation: `local` is the relayed address.
struct RelayedDatagram {
  Bytes data;
  SocketAddress local, remote;
};

class Agent {
 public:
  Agent(AgentConfig config, Random& rng);  // rng reference outlives the agent

  // A host socket; becomes a host candidate once gathering starts (at once if already gathering).
  void AddLocalAddress(const SocketAddress& addr);
  // Host candidates immediately (one event each), srflx via STUN Binding to each server of the
  // same family, then GatheringState kComplete.
  void StartGathering(Instant now);
  // May come before or after remote candidates.
  void SetRemoteCredentials(const Credentials& creds);
  // .local (mDNS) names: OK, an EventRemoteMdnsCandidate for the owner to resolve (after the
  // protocol/component/generation checks below). TCP candidates: OK, ignored. Component != 1: OK, ignored (rtcp-mux).
  // A "ufrag" extension that differs from the known remote ufrag (older generation): OK, ignored.
  // Unparseable address -> InvalidArgument. Over the remote-candidate cap -> ResourceExhausted.
  absl::Status AddRemoteCandidate(const Candidate& candidate, Instant now);
  void SetRemoteEndOfCandidates();
  void SetRole(Role role);
  // ICE restart: new local credentials, clears remote credentials/candidates and the checklist,
  // keeps the selected pair (and consent on it, with the old credentials; requests carrying the
  // old local ufrag still get answered) until a new pair is selected. Gathering restarts at once
  // if it had been started (new host/srflx candidate events follow).
  void Restart(const Credentials& new_local, Instant now);
  // Returns true if the packet was STUN (RFC 7983 first byte 0..3): consumed, even if dropped.
  bool HandleStun(ByteView packet, const SocketAddress& local, const SocketAddress& remote, Instant now);
  void HandleTimeout(Instant now);
  std::optional<Instant> PollTimeout() const;
  std::optional<Transmit> PollTransmit();
  std::optional<Event> PollEvent();

  // TURN (see the top comment). A UDP datagram from a TURN server on the socket its allocation
  // uses: returns true when it was that (consumed), false when it is not TURN traffic at all.
  bool HandleTurnDatagram(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                          Instant now);
  // TCP stream bytes / closure for a kTcp connection (local, remote) to a TURN server; false when
  // no allocation uses that connection.
  bool HandleStreamData(ByteView bytes, const SocketAddress& local, const SocketAddress& remote,
                        Instant now);
  void HandleStreamClosed(const SocketAddress& local, const SocketAddress& remote, Instant now);
  std::optional<RelayedDatagram> PollRelayedData();
  // Sends `t` through the allocation owning t.from; false (nothing done) when t.from is not a
  // relayed address, so the owner sends it as a plain datagram.
  bool SendRelayed(const Transmit& t, Instant now);
  bool IsRelayedAddress(const SocketAddress& a) const;
  // Allocation state for tests/stats: nullptr if there is no allocation for that server index.
  const TurnClient* turn_client(size_t index) const {
    return index < turns_.size() ? turns_[index].client.get() : nullptr;
  }

  std::optional<std::pair<SocketAddress, SocketAddress>> selected_pair() const;  // (local, remote)
  // webrtc-stats RTCIceCandidatePairStats counters of one pair (checks and consent requests).
  struct PairStats {
    uint64_t requests_sent = 0;       // connectivity checks + consent requests (retransmissions too)
    uint64_t responses_received = 0;  // authenticated success responses
    std::optional<Duration> current_rtt;  // of the last response to a request sent once (Karn)
    Duration total_rtt{};
    uint64_t rtt_measurements = 0;
  };
  std::optional<PairStats> pair_stats(const SocketAddress& local, const SocketAddress& remote) const;
  // True for a pair that succeeded a check, or from which an authenticated Binding request came
  // (the peer proved it knows our password), or the selected pair. DTLS/SCTP only from these.
  bool IsValidatedRemote(const SocketAddress& local, const SocketAddress& remote) const;
  // RFC 7675 §5.1: we have consent to send to `remote` from `local` — our own check on that pair
  // succeeded (an authenticated request from the peer is not consent).
  bool HasConsent(const SocketAddress& local, const SocketAddress& remote) const;
  TransportState state() const { return state_; }
  GatheringState gathering_state() const { return gathering_state_; }
  const Credentials& local_credentials() const { return local_; }
  Role role() const { return role_; }
  bool selected_pair_nominated() const { return selected_ && selected_->nominated; }
  // Incremented by Restart(): remote candidates of an older generation are not wanted anymore.
  uint64_t remote_generation() const { return remote_generation_; }
  void Close();  // state kClosed, stops all sending

 private:
  enum class PairState { kFrozen, kWaiting, kInProgress, kSucceeded, kFailed };
  struct LocalHost {
    SocketAddress addr;
    CandidateType type = CandidateType::kHost;  // kHost or kRelay (addr = relayed address)
    int turn = -1;                              // index in turns_ for kRelay
    SocketAddress related;                      // kRelay: the mapped address
    uint16_t local_preference = 0;
    uint32_t priority = 0;
    std::string foundation;
    bool announced = false;
  };
  struct RemoteCandidate {
    Candidate candidate;
    SocketAddress addr;
  };
  struct Pair {
    SocketAddress local, remote;
    uint32_t local_priority = 0, remote_priority = 0;
    std::string foundation;
    PairState state = PairState::kFrozen;
    bool nominated = false;
    bool nominate_on_success = false;  // controlled: USE-CANDIDATE came before our check succeeded
    bool nominating = false;           // controlling: a USE-CANDIDATE check is wanted / in flight
    bool remote_authenticated = false;
    bool triggered = false;            // in triggered_
  };
  enum class TxKind { kCheck, kConsent, kGather };
  struct Transaction {
    stun::TransactionId id;
    TxKind kind;
    SocketAddress local, remote;
    Bytes packet;
    std::string remote_pwd;  // responses are authenticated with it (empty for kGather)
    bool use_candidate = false;
    bool controlling = false;  // role attribute we sent (RFC 8445 §7.2.5.1)
    int sends = 0;
    int max_sends = 0;
    Duration rto{};
    Duration rto_max{};
    Instant next{};  // next retransmit, or the final timeout once sends == max_sends
    Instant last_sent{};
  };
  struct Selected {
    SocketAddress local, remote;
    Credentials local_creds, remote_creds;  // kept across an ICE restart
    bool nominated = false;
    uint64_t priority = 0;
    Instant last_response{};
    Instant next_consent{};
    std::optional<Instant> unanswered_since;
  };

  struct Turn {
    std::unique_ptr<TurnClient> client;
    bool done = false;  // relay candidate added or error reported
  };
  bool Usable(const LocalHost& h) const { return !config_.relay_only || h.type == CandidateType::kRelay; }
  void StartTurn(Instant now);
  void PumpTurn(size_t index, Instant now);
  int FindTurn(TransportProtocol transport, const SocketAddress& local, const SocketAddress& remote) const;
  void OnTurnInput(int index, Instant now, const std::function<void(TurnClient&)>& input);
  Turn* TurnForRelayed(const SocketAddress& relayed);
  void Announce(LocalHost& host, Instant now);
  void AddSrflx(const SocketAddress& base, const SocketAddress& mapped, const SocketAddress& server);
  void MaybeCompleteGathering();
  void SetGatheringState(GatheringState s);
  LocalHost* FindHost(const SocketAddress& addr);
  RemoteCandidate* FindRemote(const SocketAddress& addr);
  int FindPair(const SocketAddress& local, const SocketAddress& remote) const;
  void AddPair(const LocalHost& host, const RemoteCandidate& remote);
  uint64_t PairPrio(const Pair& p) const;
  void Trigger(int index);

  void HandleRequest(ByteView raw, const stun::StunMessage& msg, const SocketAddress& local,
                     const SocketAddress& remote, Instant now);
  void HandleResponse(ByteView raw, const stun::StunMessage& msg, const SocketAddress& local,
                      const SocketAddress& remote, Instant now);
  void SendError(const stun::StunMessage& req, const SocketAddress& local, const SocketAddress& remote,
                 uint16_t code, absl::string_view reason, const std::string* pwd,
                 const std::vector<uint16_t>* unknown = nullptr);
  void SwitchRole(Role r);

  bool HasCheckWork() const;
  int NextCheck();  // RFC 8445 §6.1.4.2 (+ triggered queue first)
  void SendCheck(int index, Instant now);
  void SendConsent(Instant now);
  Transaction* NewTransaction(TxKind kind, const SocketAddress& local, const SocketAddress& remote,
                              Instant now);
  void Emit(Transaction& tx);
  void OnTransactionTimeout(const Transaction& tx, Instant now);
  void MaybeNominate(Instant now);
  std::optional<Instant> NominationDeadline() const;
  void UpdateSelection(Instant now);
  void RefreshConsent(const SocketAddress& local, const SocketAddress& remote, Instant now);
  void UpdateState(Instant now);
  void Queue(Transmit t);
  void PushEvent(Event e);
  Duration ConsentInterval();

  AgentConfig config_;
  Random& rng_;
  Role role_;
  Credentials local_;
  std::optional<Credentials> previous_local_;  // answered until a new pair is selected
  std::optional<Credentials> remote_;
  std::vector<LocalHost> hosts_;
  std::vector<std::pair<SocketAddress, SocketAddress>> srflx_;  // (base, mapped)
  std::vector<RemoteCandidate> remotes_;
  std::vector<Pair> pairs_;
  std::deque<int> triggered_;
  std::vector<Transaction> transactions_;
  std::optional<Selected> selected_;
  std::map<std::pair<SocketAddress, SocketAddress>, PairStats> pair_stats_;  // bounded like pairs_
  void CountResponse(const Transaction& tx, Instant now);
  std::optional<Instant> first_success_;
  std::optional<Instant> last_check_sent_;
  bool gathering_started_ = false;
  bool remote_end_of_candidates_ = false;
  bool checks_started_ = false;
  bool consent_failed_ = false;
  bool closed_ = false;
  TransportState state_ = TransportState::kNew;
  GatheringState gathering_state_ = GatheringState::kNew;
  Instant last_now_{};
  std::deque<Transmit> transmits_;
  std::deque<Event> events_;
  size_t unpolled_mdns_events_ = 0;
  uint64_t remote_generation_ = 0;
  std::vector<Turn> turns_;
  std::deque<RelayedDatagram> relayed_in_;
  size_t announced_candidates_ = 0;  // usable local candidates signalled this generation
};

}  // namespace refrtc::ice
