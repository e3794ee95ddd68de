#include "ice/agent.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "util/codec.h"

namespace refrtc::ice {

using stun::StunClass;
using stun::StunMessage;

namespace {

// RFC 8445 §5.1.2.1 local preference: high byte ranks the address kind (RFC 8421: IPv6 above
// IPv4; link-local and loopback last), low byte the interface order, so every host socket gets a
// distinct priority.
uint16_t LocalPreference(const SocketAddress& a, size_t index) {
  uint16_t kind;
  if (a.is_loopback()) kind = 0x40;
  else if (a.is_v6() && a.is_link_local()) kind = 0x80;
  else if (a.is_v6()) kind = 0xF0;
  else kind = 0xE0;
  uint16_t order = static_cast<uint16_t>(255 - std::min<size_t>(index, 255));
  return static_cast<uint16_t>(kind << 8 | order);
}

// RFC 8445 §5.1.1.3: same type, base IP, STUN server and transport -> same foundation.
std::string Foundation(CandidateType type, const SocketAddress& base, const SocketAddress* server) {
  std::string key = absl::StrCat(CandidateTypeName(type), "|", base.IpString(), "|",
                                 server ? server->IpString() : "", "|udp");
  return absl::StrCat(Crc32(AsBytes(key)));
}

}  // namespace

const char* TransportStateName(TransportState s) {
  switch (s) {
    case TransportState::kNew: return "new";
    case TransportState::kChecking: return "checking";
    case TransportState::kConnected: return "connected";
    case TransportState::kCompleted: return "completed";
    case TransportState::kDisconnected: return "disconnected";
    case TransportState::kFailed: return "failed";
    case TransportState::kClosed: return "closed";
  }
  return "new";
}

Agent::Agent(AgentConfig config, Random& rng)
    : config_(std::move(config)), rng_(rng), role_(config_.role), local_(config_.local) {
  if (config_.consent_interval_max < config_.consent_interval_min)
    config_.consent_interval_max = config_.consent_interval_min;
  if (config_.max_check_sends < 1) config_.max_check_sends = 1;
  if (config_.max_gather_sends < 1) config_.max_gather_sends = 1;
  turns_.resize(config_.turn_servers.size());
}

// ---------------------------------------------------------------------------------------------
// Output queues

void Agent::Queue(Transmit t) {
  if (closed_) return;
  // From a relayed address: through its TURN allocation (RFC 8656 §11 / §12).
  if (Turn* turn = TurnForRelayed(t.from)) {
    turn->client->Send(t.to, t.data, last_now_);
    return;
  }
  if (transmits_.size() >= config_.max_queued_transmits) return;
  transmits_.push_back(std::move(t));
}

void Agent::PushEvent(Event e) {
  if (events_.size() >= 4096) {
    if (std::holds_alternative<EventRemoteMdnsCandidate>(events_.front())) --unpolled_mdns_events_;
    events_.pop_front();
  }
  if (std::holds_alternative<EventRemoteMdnsCandidate>(e)) ++unpolled_mdns_events_;
  events_.push_back(std::move(e));
}

std::optional<Transmit> Agent::PollTransmit() {
  if (transmits_.empty()) {
    // TURN traffic to the servers (also after Close(): the deallocation).
    for (auto& t : turns_)
      if (t.client)
        if (auto out = t.client->PollTransmit()) return out;
    return std::nullopt;
  }
  Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<Event> Agent::PollEvent() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  if (std::holds_alternative<EventRemoteMdnsCandidate>(e)) --unpolled_mdns_events_;
  return e;
}

// ---------------------------------------------------------------------------------------------
// Gathering (RFC 8445 §5.1.1)

Agent::LocalHost* Agent::FindHost(const SocketAddress& addr) {
  for (auto& h : hosts_)
    if (h.addr == addr) return &h;
  return nullptr;
}

void Agent::AddLocalAddress(const SocketAddress& addr) {
  if (closed_ || !addr.valid() || FindHost(addr) || hosts_.size() >= 64) return;
  LocalHost h;
  h.addr = addr;
  h.local_preference = LocalPreference(addr, hosts_.size());
  h.priority = ComputePriority(CandidateType::kHost, h.local_preference, 1);
  h.foundation = Foundation(CandidateType::kHost, addr, nullptr);
  hosts_.push_back(h);
  LocalHost& host = hosts_.back();
  // §6.1.2.2: pair the new local candidate with every remote candidate of the same family.
  for (const auto& r : remotes_) AddPair(host, r);
  if (gathering_started_) {
    Announce(host, last_now_);
    StartTurn(last_now_);
    MaybeCompleteGathering();
  }
}

void Agent::StartGathering(Instant now) {
  last_now_ = now;
  if (closed_ || gathering_started_) return;
  gathering_started_ = true;
  SetGatheringState(GatheringState::kGathering);
  for (auto& h : hosts_) Announce(h, now);
  StartTurn(now);
  MaybeCompleteGathering();
}

void Agent::Announce(LocalHost& host, Instant now) {
  if (host.announced) return;
  host.announced = true;
  // W3C iceTransportPolicy "relay": host (and server-reflexive) candidates are not gathered;
  // the host socket only serves as the base of TURN allocations.
  if (!Usable(host)) return;
  if (gathering_state_ != GatheringState::kGathering) SetGatheringState(GatheringState::kGathering);
  Candidate c;
  c.foundation = host.foundation;
  c.component = 1;
  c.protocol = "udp";  // a relayed address is UDP whatever the transport to the TURN server
  c.priority = host.priority;
  c.address = host.addr.IpString();
  c.port = host.addr.port();
  c.type = host.type;
  if (host.type == CandidateType::kRelay) {
    // RFC 8839 §5.1: raddr/rport of a relay candidate = the mapped address of the allocation.
    c.related_address = host.related.IpString();
    c.related_port = host.related.port();
  }
  c.extensions["generation"] = "0";
  c.extensions["ufrag"] = local_.ufrag;
  ++announced_candidates_;
  PushEvent(EventLocalCandidate{c});
  if (host.type == CandidateType::kRelay) return;
  // §5.1.1.2: a Binding request to each STUN server of the same address family.
  for (const auto& server : config_.stun_servers) {
    if (server.family() != host.addr.family()) continue;
    Transaction* tx = NewTransaction(TxKind::kGather, host.addr, server, now);
    if (!tx) continue;
    StunMessage req(StunClass::kRequest, stun::kMethodBinding, tx->id);
    tx->packet = req.Serialize({}, true);
    tx->max_sends = config_.max_gather_sends;
    tx->rto = config_.gather_rto_initial;
    tx->rto_max = config_.gather_rto_initial * 8;
    Emit(*tx);
  }
}

void Agent::AddSrflx(const SocketAddress& base, const SocketAddress& mapped, const SocketAddress& server) {
  // §5.1.3: a server-reflexive candidate equal to its base is redundant.
  if (mapped == base || !mapped.valid()) return;
  for (const auto& s : srflx_)
    if (s.first == base && s.second == mapped) return;
  if (srflx_.size() >= 64) return;
  srflx_.emplace_back(base, mapped);
  LocalHost* host = FindHost(base);
  if (!host) return;
  Candidate c;
  c.foundation = Foundation(CandidateType::kServerReflexive, base, &server);
  c.priority = ComputePriority(CandidateType::kServerReflexive, host->local_preference, 1);
  c.address = mapped.IpString();
  c.port = mapped.port();
  c.type = CandidateType::kServerReflexive;
  c.related_address = base.IpString();
  c.related_port = base.port();
  c.extensions["generation"] = "0";
  c.extensions["ufrag"] = local_.ufrag;
  ++announced_candidates_;
  PushEvent(EventLocalCandidate{c});
  // §6.1.2.4: pairs of a srflx local candidate are replaced by its base, so no new pairs here.
}

void Agent::MaybeCompleteGathering() {
  if (!gathering_started_ || gathering_state_ == GatheringState::kComplete) return;
  for (const auto& tx : transactions_)
    if (tx.kind == TxKind::kGather) return;
  for (const auto& t : turns_)
    if (t.client && !t.done) return;  // an allocation is still in progress
  SetGatheringState(GatheringState::kComplete);
}

// ---------------------------------------------------------------------------------------------
// Relay candidates (RFC 8445 §5.1.1.2, RFC 8656)

void Agent::StartTurn(Instant now) {
  if (closed_) return;
  for (size_t i = 0; i < turns_.size(); ++i) {
    if (turns_[i].client) continue;
    const TurnServer& server = config_.turn_servers[i];
    // The base: a host socket of the server's family; a loopback server is reached from the
    // loopback socket when there is one (and a routable server from a routable socket).
    const LocalHost* base = nullptr;
    for (const auto& h : hosts_) {
      if (h.type != CandidateType::kHost || h.addr.family() != server.server.family()) continue;
      if (!base || (h.addr.is_loopback() == server.server.is_loopback() &&
                    base->addr.is_loopback() != server.server.is_loopback()))
        base = &h;
    }
    if (!base) continue;  // no socket of that family (yet)
    TurnClientConfig tc = config_.turn;
    tc.server = server;
    turns_[i].client = std::make_unique<TurnClient>(tc, base->addr, rng_);
    turns_[i].client->Start(now);
  }
}

Agent::Turn* Agent::TurnForRelayed(const SocketAddress& relayed) {
  for (auto& t : turns_)
    if (t.client && t.client->relayed().valid() && t.client->relayed() == relayed) return &t;
  return nullptr;
}

bool Agent::IsRelayedAddress(const SocketAddress& a) const {
  for (const auto& t : turns_)
    if (t.client && t.client->relayed().valid() && t.client->relayed() == a) return true;
  return false;
}

void Agent::PumpTurn(size_t index, Instant now) {
  Turn& t = turns_[index];
  TurnClient& c = *t.client;
  while (auto d = c.PollPeerData()) {
    // Relayed STUN (checks from/answers to the relay candidate) is ours; the rest belongs to the
    // owner's demux (DTLS), seen as arriving on the relayed address from the peer.
    if (stun::LooksLikeStun(d->data)) HandleStun(d->data, c.relayed(), d->peer, now);
    else if (relayed_in_.size() < 512) relayed_in_.push_back({std::move(d->data), c.relayed(), d->peer});
  }
  if (!t.done && c.state() == TurnClient::State::kAllocated) {
    t.done = true;
    LocalHost h;
    h.addr = c.relayed();
    h.type = CandidateType::kRelay;
    h.turn = static_cast<int>(index);
    h.related = c.mapped();
    // RFC 8445 §5.1.2.1: type preference 0 for relay; the local preference ranks UDP servers
    // above TCP ones and keeps every relay candidate distinct.
    bool tcp = c.server().transport == TransportProtocol::kTcp;
    h.local_preference = static_cast<uint16_t>((tcp ? 0x7F00 : 0xFF00) - std::min<size_t>(index, 255));
    h.priority = ComputePriority(CandidateType::kRelay, h.local_preference, 1);
    h.foundation = absl::StrCat(
        Foundation(CandidateType::kRelay, c.base(), &c.server().server), tcp ? "t" : "");
    if (FindHost(h.addr) || hosts_.size() >= 64) return;
    hosts_.push_back(h);
    for (const auto& r : remotes_) AddPair(hosts_.back(), r);
    if (gathering_started_) Announce(hosts_.back(), now);
    MaybeCompleteGathering();
  } else if (c.state() == TurnClient::State::kFailed) {
    if (!t.done) {
      t.done = true;
      // W3C icecandidateerror: gathering goes on (and completes) without this candidate.
      PushEvent(EventCandidateError{c.base().IpString(), c.base().port(), c.server().url, c.error_code(),
                                    c.error_text()});
      MaybeCompleteGathering();
    } else if (c.relayed().valid()) {
      // The allocation was lost (refresh failed, TCP connection gone): its pairs fail.
      for (auto& p : pairs_)
        if (p.local == c.relayed() && p.state != PairState::kFailed) p.state = PairState::kFailed;
    }
  }
}

// The TURN allocation whose server connection is (`local` → `remote` over `transport`), or -1.
int Agent::FindTurn(TransportProtocol transport, const SocketAddress& local, const SocketAddress& remote) const {
  for (size_t i = 0; i < turns_.size(); ++i) {
    const TurnClient* c = turns_[i].client.get();
    if (c && c->server().transport == transport && c->base() == local && c->server().server == remote) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Feeds one input to allocation `i` and lets its output and the agent's state follow.
void Agent::OnTurnInput(int i, Instant now, const std::function<void(TurnClient&)>& input) {
  last_now_ = now;
  if (closed_) return;
  input(*turns_[static_cast<size_t>(i)].client);
  PumpTurn(static_cast<size_t>(i), now);
  UpdateState(now);
}

bool Agent::HandleTurnDatagram(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                               Instant now) {
  int i = FindTurn(TransportProtocol::kUdp, local, remote);
  if (i < 0) return false;
  OnTurnInput(i, now, [&](TurnClient& c) { c.HandleDatagram(packet, now); });
  return true;
}

bool Agent::HandleStreamData(ByteView bytes, const SocketAddress& local, const SocketAddress& remote,
                             Instant now) {
  int i = FindTurn(TransportProtocol::kTcp, local, remote);
  if (i < 0) return false;
  OnTurnInput(i, now, [&](TurnClient& c) { c.HandleStreamData(bytes, now); });
  return true;
}

void Agent::HandleStreamClosed(const SocketAddress& local, const SocketAddress& remote, Instant now) {
  int i = FindTurn(TransportProtocol::kTcp, local, remote);
  if (i >= 0) OnTurnInput(i, now, [&](TurnClient& c) { c.HandleStreamClosed(now); });
}

std::optional<RelayedDatagram> Agent::PollRelayedData() {
  if (relayed_in_.empty()) return std::nullopt;
  RelayedDatagram d = std::move(relayed_in_.front());
  relayed_in_.pop_front();
  return d;
}

bool Agent::SendRelayed(const Transmit& t, Instant now) {
  Turn* turn = TurnForRelayed(t.from);
  if (!turn) return false;
  last_now_ = now;
  if (!closed_) turn->client->Send(t.to, t.data, now);
  return true;
}

void Agent::SetGatheringState(GatheringState s) {
  if (gathering_state_ == s) return;
  gathering_state_ = s;
  PushEvent(EventGatheringStateChanged{s});
}

// ---------------------------------------------------------------------------------------------
// Remote side, pairs (RFC 8445 §6.1.2)

void Agent::SetRemoteCredentials(const Credentials& creds) {
  if (closed_) return;
  remote_ = creds;
  UpdateState(last_now_);
}

Agent::RemoteCandidate* Agent::FindRemote(const SocketAddress& addr) {
  for (auto& r : remotes_)
    if (r.addr == addr) return &r;
  return nullptr;
}

int Agent::FindPair(const SocketAddress& local, const SocketAddress& remote) const {
  for (size_t i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].local == local && pairs_[i].remote == remote) return static_cast<int>(i);
  return -1;
}

void Agent::AddPair(const LocalHost& host, const RemoteCandidate& remote) {
  if (!Usable(host)) return;  // relay-only policy: host bases are not paired
  // §6.1.2.2: only candidates of the same address family are paired.
  if (host.addr.family() != remote.addr.family()) return;
  // A link-local IPv6 host only reaches link-local peers (and vice versa).
  if (host.addr.is_v6() && host.addr.is_link_local() != remote.addr.is_link_local()) return;
  if (FindPair(host.addr, remote.addr) >= 0 || pairs_.size() >= config_.max_pairs) return;
  Pair p;
  p.local = host.addr;
  p.remote = remote.addr;
  p.local_priority = host.priority;
  p.remote_priority = remote.candidate.priority;
  p.foundation = absl::StrCat(host.foundation, ":", remote.candidate.foundation);
  pairs_.push_back(p);
}

uint64_t Agent::PairPrio(const Pair& p) const {
  // §6.1.2.3: G is the controlling agent's candidate priority.
  return role_ == Role::kControlling ? PairPriority(p.local_priority, p.remote_priority)
                                     : PairPriority(p.remote_priority, p.local_priority);
}

absl::Status Agent::AddRemoteCandidate(const Candidate& c, Instant now) {
  last_now_ = now;
  if (closed_) return absl::OkStatus();
  if (c.protocol != "udp") return absl::OkStatus();  // TCP candidates: not supported, ignored
  if (c.component != 1) return absl::OkStatus();     // rtcp-mux: only component 1 is used
  auto ufrag = c.extensions.find("ufrag");
  if (remote_ && ufrag != c.extensions.end() && ufrag->second != remote_->ufrag)
    return absl::OkStatus();  // a candidate of another ICE generation
  if (c.is_mdns()) {
    // draft-ietf-mmusic-mdns-ice-candidates §3.2.1: resolved by the owner (mDNS is I/O-shaped
    // and not the agent's job); it comes back through AddRemoteCandidate with an IP literal.
    if (c.port == 0) return absl::InvalidArgumentError("unusable candidate port 0");
    PushEvent(EventRemoteMdnsCandidate{c, remote_generation_});
    return absl::OkStatus();
  }
  auto addr = c.socket_address();
  if (!addr || addr->is_any() || addr->port() == 0)
    return absl::InvalidArgumentError(absl::StrCat("unusable candidate address \"", c.address, "\""));
  if (RemoteCandidate* existing = FindRemote(*addr)) {
    // RFC 8445 §7.3.1.3 / §6.1.2: a signaled candidate replaces a peer-reflexive one learned
    // earlier for the same address; the pairs keep their state.
    if (existing->candidate.type == CandidateType::kPeerReflexive) {
      existing->candidate = c;
      for (auto& p : pairs_)
        if (p.remote == *addr) p.remote_priority = c.priority;
    }
    return absl::OkStatus();
  }
  if (remotes_.size() >= config_.max_remote_candidates)
    return absl::ResourceExhaustedError("too many remote candidates");
  remotes_.push_back({c, *addr});
  for (const auto& h : hosts_) AddPair(h, remotes_.back());
  UpdateState(now);
  return absl::OkStatus();
}

void Agent::SetRemoteEndOfCandidates() {
  remote_end_of_candidates_ = true;
  UpdateState(last_now_);
}

void Agent::SetRole(Role role) {
  if (role_ == role) return;
  role_ = role;
  // Pair priorities follow the role (computed on demand). Nomination duty changes hands.
  for (auto& p : pairs_) {
    p.nominating = false;
    p.nominate_on_success = false;
  }
}

void Agent::SwitchRole(Role r) { SetRole(r); }

void Agent::Trigger(int index) {
  Pair& p = pairs_[index];
  if (p.triggered) return;
  p.triggered = true;
  triggered_.push_back(index);
}

// ---------------------------------------------------------------------------------------------
// Restart / close

void Agent::Restart(const Credentials& new_local, Instant now) {
  last_now_ = now;
  if (closed_) return;
  if (selected_) previous_local_ = local_;
  local_ = new_local;
  ++remote_generation_;
  remote_.reset();
  remotes_.clear();
  pairs_.clear();
  triggered_.clear();
  srflx_.clear();
  // Drop checks and gathering; consent on the kept selected pair continues.
  transactions_.erase(std::remove_if(transactions_.begin(), transactions_.end(),
                                     [](const Transaction& t) { return t.kind != TxKind::kConsent; }),
                      transactions_.end());
  first_success_.reset();
  remote_end_of_candidates_ = false;
  checks_started_ = false;
  consent_failed_ = false;
  for (auto& h : hosts_) h.announced = false;
  announced_candidates_ = 0;
  relayed_in_.clear();
  bool regather = gathering_started_;
  gathering_started_ = false;
  SetGatheringState(GatheringState::kNew);
  if (regather) StartGathering(now);
  UpdateState(now);
}

void Agent::Close() {
  if (closed_) return;
  closed_ = true;
  // RFC 8656 §7.1: deallocate (drained by PollTransmit after the close).
  for (auto& t : turns_)
    if (t.client) t.client->Close(last_now_);
  relayed_in_.clear();
  transactions_.clear();
  transmits_.clear();
  triggered_.clear();
  selected_.reset();
  if (state_ != TransportState::kClosed) {
    state_ = TransportState::kClosed;
    PushEvent(EventStateChanged{state_});
  }
}

// ---------------------------------------------------------------------------------------------
// Transactions

Agent::Transaction* Agent::NewTransaction(TxKind kind, const SocketAddress& local,
                                          const SocketAddress& remote, Instant now) {
  if (transactions_.size() >= config_.max_transactions) return nullptr;
  Transaction tx;
  rng_.Fill(tx.id.data(), tx.id.size());
  tx.kind = kind;
  tx.local = local;
  tx.remote = remote;
  tx.next = now;
  tx.controlling = role_ == Role::kControlling;
  transactions_.push_back(std::move(tx));
  return &transactions_.back();
}

// Sends (or re-sends) and schedules the next retransmission / final timeout.
void Agent::Emit(Transaction& tx) {
  Queue(Transmit{tx.local, tx.remote, tx.packet});
  ++tx.sends;
  Instant sent = tx.next;
  tx.last_sent = sent;
  if (tx.kind != TxKind::kGather && pair_stats_.size() < 4096) ++pair_stats_[{tx.local, tx.remote}].requests_sent;
  tx.next = sent + tx.rto;
  tx.rto = std::min(tx.rto * 2, tx.rto_max);
}

void Agent::OnTransactionTimeout(const Transaction& tx, Instant now) {
  switch (tx.kind) {
    case TxKind::kGather:
      break;  // gave up on this server (MaybeCompleteGathering runs after removal)
    case TxKind::kConsent:
      break;  // consent expiry is tracked by time since the last response
    case TxKind::kCheck: {
      int i = FindPair(tx.local, tx.remote);
      if (i < 0) break;
      Pair& p = pairs_[i];
      // RFC 8445 §7.2.5.4 / §14.3: no response after all retransmits -> Failed.
      if (p.state == PairState::kInProgress || (tx.use_candidate && p.nominating)) {
        p.state = PairState::kFailed;
        p.nominating = false;
      }
      break;
    }
  }
}

void Agent::HandleTimeout(Instant now) {
  last_now_ = now;
  if (closed_) return;
  for (size_t i = 0; i < turns_.size(); ++i) {
    if (!turns_[i].client) continue;
    turns_[i].client->HandleTimeout(now);
    PumpTurn(i, now);
  }
  // Retransmissions and transaction timeouts.
  std::vector<Transaction> expired;
  for (auto& tx : transactions_) {
    if (now < tx.next) continue;
    if (tx.sends >= tx.max_sends) {
      expired.push_back(tx);
      continue;
    }
    tx.next = now;
    Emit(tx);
  }
  if (!expired.empty()) {
    transactions_.erase(std::remove_if(transactions_.begin(), transactions_.end(),
                                       [&](const Transaction& t) {
                                         return now >= t.next && t.sends >= t.max_sends;
                                       }),
                        transactions_.end());
    for (const auto& tx : expired) OnTransactionTimeout(tx, now);
    MaybeCompleteGathering();
  }

  // RFC 8445 §6.1.4.2: one check per Ta, triggered checks first.
  if (!consent_failed_ && remote_) MaybeNominate(now);
  if (!consent_failed_ && remote_ && (!last_check_sent_ || now >= *last_check_sent_ + config_.ta)) {
    int next = NextCheck();
    if (next >= 0) SendCheck(next, now);
  }

  // RFC 7675 §5.1: consent freshness on the selected pair.
  if (selected_ && !consent_failed_) {
    if (now - selected_->last_response >= config_.consent_timeout) {
      // §5.1: consent expired -> stop sending; the transport fails.
      consent_failed_ = true;
      selected_.reset();
      transactions_.erase(std::remove_if(transactions_.begin(), transactions_.end(),
                                         [](const Transaction& t) { return t.kind != TxKind::kGather; }),
                          transactions_.end());
      triggered_.clear();
      for (auto& p : pairs_) {
        p.triggered = false;
        if (p.state != PairState::kSucceeded) p.state = PairState::kFailed;
      }
    } else if (now >= selected_->next_consent) {
      SendConsent(now);
      selected_->next_consent = now + ConsentInterval();
    }
  }
  UpdateState(now);
}

std::optional<Instant> Agent::PollTimeout() const {
  if (closed_) return std::nullopt;
  std::optional<Instant> t;
  auto consider = [&](Instant x) {
    if (!t || x < *t) t = x;
  };
  // An mDNS candidate waiting for its owner: wake now (see EventRemoteMdnsCandidate).
  if (unpolled_mdns_events_ > 0) consider(last_now_);
  for (const auto& tx : transactions_) consider(tx.next);
  for (const auto& tu : turns_)
    if (tu.client)
      if (auto x = tu.client->PollTimeout()) consider(*x);
  if (!consent_failed_ && remote_ && HasCheckWork())
    consider(last_check_sent_ ? *last_check_sent_ + config_.ta : last_now_);
  if (auto n = NominationDeadline()) consider(*n);
  if (selected_ && !consent_failed_) {
    consider(selected_->next_consent);
    consider(selected_->last_response + config_.consent_timeout);
    if (selected_->unanswered_since && state_ != TransportState::kDisconnected)
      consider(*selected_->unanswered_since + config_.disconnected_timeout);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Checks (RFC 8445 §7.2)

bool Agent::HasCheckWork() const {
  for (int i : triggered_) {
    const Pair& p = pairs_[i];
    if (p.state != PairState::kInProgress || p.nominating) return true;
  }
  for (const auto& p : pairs_)
    if (p.state == PairState::kWaiting || p.state == PairState::kFrozen) return true;
  return false;
}

int Agent::NextCheck() {
  // Triggered check queue first (§6.1.4.2 step 1).
  while (!triggered_.empty()) {
    int i = triggered_.front();
    triggered_.pop_front();
    Pair& p = pairs_[i];
    p.triggered = false;
    if (p.state == PairState::kInProgress && !p.nominating) continue;  // already being checked
    return i;
  }
  // Highest-priority Waiting pair; if none, unfreeze one pair per foundation that has nothing
  // Waiting or In-Progress (§6.1.4.2 step 2), highest priority first.
  auto best_waiting = [&]() {
    int best = -1;
    for (size_t i = 0; i < pairs_.size(); ++i)
      if (pairs_[i].state == PairState::kWaiting &&
          (best < 0 || PairPrio(pairs_[i]) > PairPrio(pairs_[best])))
        best = static_cast<int>(i);
    return best;
  };
  int best = best_waiting();
  if (best >= 0) return best;
  std::vector<int> frozen;
  for (size_t i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].state == PairState::kFrozen) frozen.push_back(static_cast<int>(i));
  std::sort(frozen.begin(), frozen.end(),
            [&](int a, int b) { return PairPrio(pairs_[a]) > PairPrio(pairs_[b]); });
  for (int i : frozen) {
    bool busy = false;
    for (const auto& q : pairs_)
      if (q.foundation == pairs_[i].foundation &&
          (q.state == PairState::kWaiting || q.state == PairState::kInProgress))
        busy = true;
    if (!busy) pairs_[i].state = PairState::kWaiting;
  }
  best = best_waiting();
  if (best < 0 && !frozen.empty()) {
    // Every remaining frozen pair shares a foundation with an in-progress one: take the best
    // anyway rather than stall (libwebrtc does not freeze at all).
    best = frozen.front();
  }
  return best;
}

void Agent::SendCheck(int index, Instant now) {
  Pair& p = pairs_[index];
  LocalHost* host = FindHost(p.local);
  last_check_sent_ = now;  // paced even if nothing could be sent
  if (!host || !remote_) return;
  // Retire an older transaction on the same pair (a triggered check replaces it).
  transactions_.erase(std::remove_if(transactions_.begin(), transactions_.end(),
                                     [&](const Transaction& t) {
                                       return t.kind == TxKind::kCheck && t.local == p.local &&
                                              t.remote == p.remote;
                                     }),
                      transactions_.end());
  Transaction* tx = NewTransaction(TxKind::kCheck, p.local, p.remote, now);
  if (!tx) return;
  // §7.2.2: USERNAME "remote:local", PRIORITY (as prflx), role + tie-breaker, USE-CANDIDATE when
  // nominating, MESSAGE-INTEGRITY with the remote password, FINGERPRINT.
  StunMessage req(StunClass::kRequest, stun::kMethodBinding, tx->id);
  req.AddUsername(absl::StrCat(remote_->ufrag, ":", local_.ufrag));
  req.AddPriority(ComputePriority(CandidateType::kPeerReflexive, host->local_preference, 1));
  if (role_ == Role::kControlling) req.AddIceControlling(config_.tie_breaker);
  else req.AddIceControlled(config_.tie_breaker);
  tx->use_candidate = role_ == Role::kControlling && p.nominating;
  if (tx->use_candidate) req.AddUseCandidate();
  tx->packet = req.Serialize(AsBytes(remote_->pwd), true);
  tx->remote_pwd = remote_->pwd;
  tx->max_sends = config_.max_check_sends;
  tx->rto = config_.check_rto_initial;
  tx->rto_max = config_.check_rto_max;
  Emit(*tx);
  if (p.state != PairState::kSucceeded) p.state = PairState::kInProgress;
  last_check_sent_ = now;
  checks_started_ = true;
}

void Agent::SendConsent(Instant now) {
  // RFC 7675 §5.1: a Binding request on the selected pair, authenticated like an ICE check.
  Transaction* tx = NewTransaction(TxKind::kConsent, selected_->local, selected_->remote, now);
  if (!tx) return;
  StunMessage req(StunClass::kRequest, stun::kMethodBinding, tx->id);
  req.AddUsername(absl::StrCat(selected_->remote_creds.ufrag, ":", selected_->local_creds.ufrag));
  if (LocalHost* host = FindHost(selected_->local))
    req.AddPriority(ComputePriority(CandidateType::kPeerReflexive, host->local_preference, 1));
  if (role_ == Role::kControlling) req.AddIceControlling(config_.tie_breaker);
  else req.AddIceControlled(config_.tie_breaker);
  tx->packet = req.Serialize(AsBytes(selected_->remote_creds.pwd), true);
  tx->remote_pwd = selected_->remote_creds.pwd;
  tx->max_sends = 4;
  tx->rto = milliseconds(500);
  tx->rto_max = seconds(2);
  Emit(*tx);
  if (!selected_->unanswered_since) selected_->unanswered_since = now;
}

Duration Agent::ConsentInterval() {
  int64_t lo = ToMillis(config_.consent_interval_min), hi = ToMillis(config_.consent_interval_max);
  if (lo < 0) lo = 0;
  if (hi < lo) hi = lo;
  return milliseconds(static_cast<int64_t>(rng_.Range(static_cast<uint64_t>(lo), static_cast<uint64_t>(hi))));
}

// ---------------------------------------------------------------------------------------------
// Nomination (RFC 8445 §8.1.1) and selection

std::optional<Instant> Agent::NominationDeadline() const {
  if (role_ != Role::kControlling || !first_success_ || consent_failed_ || !remote_) return std::nullopt;
  for (const auto& p : pairs_)
    if (p.nominated || p.nominating) return std::nullopt;
  bool any_valid = false;
  for (const auto& p : pairs_) any_valid |= p.state == PairState::kSucceeded;
  if (!any_valid) return std::nullopt;
  return *first_success_ + config_.nomination_delay;
}

void Agent::MaybeNominate(Instant now) {
  if (role_ != Role::kControlling || consent_failed_) return;
  int best = -1;
  for (size_t i = 0; i < pairs_.size(); ++i) {
    const Pair& p = pairs_[i];
    if (p.nominated || p.nominating) return;  // one nomination at a time
    if (p.state == PairState::kSucceeded && (best < 0 || PairPrio(p) > PairPrio(pairs_[best])))
      best = static_cast<int>(i);
  }
  if (best < 0) return;
  bool higher_pending = false;
  for (const auto& p : pairs_)
    if (PairPrio(p) > PairPrio(pairs_[best]) &&
        (p.state == PairState::kFrozen || p.state == PairState::kWaiting || p.state == PairState::kInProgress))
      higher_pending = true;
  if (higher_pending && first_success_ && now < *first_success_ + config_.nomination_delay) return;
  pairs_[best].nominating = true;
  Trigger(best);
}

void Agent::UpdateSelection(Instant now) {
  int best = -1;
  auto better = [&](const Pair& a, const Pair& b) {
    if (a.nominated != b.nominated) return a.nominated;
    return PairPrio(a) > PairPrio(b);
  };
  for (size_t i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].state == PairState::kSucceeded && (best < 0 || better(pairs_[i], pairs_[best])))
      best = static_cast<int>(i);
  if (best < 0 || !remote_) return;
  const Pair& b = pairs_[best];
  if (selected_ && selected_->local == b.local && selected_->remote == b.remote) {
    selected_->nominated = b.nominated;
    selected_->priority = PairPrio(b);
    if (selected_->local_creds.ufrag != local_.ufrag || selected_->remote_creds.ufrag != remote_->ufrag) {
      // Same addresses after an ICE restart: the pair now belongs to the new generation.
      selected_->local_creds = local_;
      selected_->remote_creds = *remote_;
      previous_local_.reset();
    }
    return;
  }
  Selected s;
  s.local = b.local;
  s.remote = b.remote;
  s.local_creds = local_;
  s.remote_creds = *remote_;
  s.nominated = b.nominated;
  s.priority = PairPrio(b);
  s.last_response = now;  // the pair just succeeded a check
  s.next_consent = now + ConsentInterval();
  selected_ = s;
  previous_local_.reset();  // the old ICE generation is no longer needed
  // Consent transactions of the previous selected pair are obsolete.
  transactions_.erase(std::remove_if(transactions_.begin(), transactions_.end(),
                                     [](const Transaction& t) { return t.kind == TxKind::kConsent; }),
                      transactions_.end());
  PushEvent(EventSelectedPairChanged{s.local, s.remote});
}

void Agent::RefreshConsent(const SocketAddress& local, const SocketAddress& remote, Instant now) {
  if (!selected_ || selected_->local != local || selected_->remote != remote) return;
  selected_->last_response = now;
  selected_->unanswered_since.reset();
}

std::optional<std::pair<SocketAddress, SocketAddress>> Agent::selected_pair() const {
  if (!selected_ || consent_failed_ || closed_) return std::nullopt;
  return std::make_pair(selected_->local, selected_->remote);
}

bool Agent::IsValidatedRemote(const SocketAddress& local, const SocketAddress& remote) const {
  if (closed_ || consent_failed_) return false;
  if (selected_ && selected_->local == local && selected_->remote == remote) return true;
  int i = FindPair(local, remote);
  if (i < 0) return false;
  return pairs_[i].state == PairState::kSucceeded || pairs_[i].remote_authenticated;
}

bool Agent::HasConsent(const SocketAddress& local, const SocketAddress& remote) const {
  if (closed_ || consent_failed_) return false;
  if (selected_ && selected_->local == local && selected_->remote == remote) return true;
  int i = FindPair(local, remote);
  return i >= 0 && pairs_[i].state == PairState::kSucceeded;
}

// ---------------------------------------------------------------------------------------------
// State (W3C RTCIceTransportState)

void Agent::UpdateState(Instant now) {
  if (closed_) return;
  TransportState s;
  if (consent_failed_) {
    s = TransportState::kFailed;
  } else if (selected_) {
    bool pending = false;
    for (const auto& p : pairs_)
      pending |= p.state == PairState::kFrozen || p.state == PairState::kWaiting ||
                 p.state == PairState::kInProgress;
    if (selected_->unanswered_since && now - *selected_->unanswered_since >= config_.disconnected_timeout)
      s = TransportState::kDisconnected;
    else if (remote_end_of_candidates_ && selected_->nominated && !pending &&
             gathering_state_ == GatheringState::kComplete && !previous_local_)
      s = TransportState::kCompleted;
    else
      s = TransportState::kConnected;
  } else {
    bool all_failed = !pairs_.empty();
    for (const auto& p : pairs_) all_failed &= p.state == PairState::kFailed;
    // W3C RTCIceTransportState "failed" also covers "zero local candidates were gathered"
    // (e.g. iceTransportPolicy "relay" and every TURN allocation failed) once the remote side
    // has signalled the end of its candidates.
    bool no_local = gathering_state_ == GatheringState::kComplete && announced_candidates_ == 0 &&
                    pairs_.empty();
    if (remote_end_of_candidates_ && remote_ && (all_failed || no_local))
      s = TransportState::kFailed;
    else if (checks_started_)
      s = TransportState::kChecking;
    else
      s = TransportState::kNew;
  }
  if (s != state_) {
    state_ = s;
    PushEvent(EventStateChanged{s});
  }
}

// ---------------------------------------------------------------------------------------------
// Incoming STUN

bool Agent::HandleStun(ByteView packet, const SocketAddress& local, const SocketAddress& remote,
                       Instant now) {
  if (!stun::LooksLikeStun(packet)) return false;
  last_now_ = now;
  if (closed_) return true;
  auto msg = StunMessage::Parse(packet);
  if (!msg.ok()) return true;  // malformed: dropped
  if (msg->IsBindingRequest()) HandleRequest(packet, *msg, local, remote, now);
  else if (msg->IsBindingResponse()) HandleResponse(packet, *msg, local, remote, now);
  // Binding indications (keepalives) and other methods: nothing to do.
  UpdateState(now);
  return true;
}

void Agent::SendError(const StunMessage& req, const SocketAddress& local, const SocketAddress& remote,
                      uint16_t code, absl::string_view reason, const std::string* pwd,
                      const std::vector<uint16_t>* unknown) {
  StunMessage resp(StunClass::kErrorResponse, req.method(), req.transaction_id());
  resp.AddErrorCode(code, reason);
  if (unknown) resp.AddUnknownAttributes(*unknown);
  Queue(Transmit{local, remote, resp.Serialize(pwd ? AsBytes(*pwd) : ByteView(), true)});
}

void Agent::HandleRequest(ByteView raw, const StunMessage& msg, const SocketAddress& local,
                          const SocketAddress& remote, Instant now) {
  if (consent_failed_) return;
  LocalHost* host = FindHost(local);
  if (!host || !Usable(*host)) return;  // not one of our sockets (or not a candidate by policy)
  // RFC 8445 §7.3 / §16: ICE requests carry FINGERPRINT; without it this is not for us.
  if (!msg.has_fingerprint()) return;
  // RFC 8489 §9.1.3: short-term credentials. Missing USERNAME or MESSAGE-INTEGRITY -> 400.
  auto username = msg.username();
  if (!username || !msg.has_message_integrity()) {
    SendError(msg, local, remote, 400, "Bad Request", nullptr);
    return;
  }
  // RFC 8445 §7.3: USERNAME is "<our ufrag>:<their ufrag>".
  size_t colon = username->find(':');
  absl::string_view lfrag = absl::string_view(*username).substr(0, colon);
  absl::string_view rfrag =
      colon == std::string::npos ? absl::string_view() : absl::string_view(*username).substr(colon + 1);
  const Credentials* creds = nullptr;
  bool old_generation = false;
  if (colon != std::string::npos && lfrag == local_.ufrag) {
    creds = &local_;
  } else if (colon != std::string::npos && previous_local_ && lfrag == previous_local_->ufrag) {
    creds = &*previous_local_;
    old_generation = true;
  }
  if (!creds || !stun::VerifyMessageIntegrity(raw, AsBytes(creds->pwd)).ok()) {
    // 401 and no state change at all.
    SendError(msg, local, remote, 401, "Unauthorized", nullptr);
    return;
  }
  const std::string pwd = creds->pwd;  // copy: role switching below does not touch creds

  // RFC 8489 §6.3 / §6.3.1 (RFC 5389 §7.3): the unknown-attribute check comes after the
  // authentication checks -- an unauthenticated sender gets 401, not a list of what we do not
  // understand -- and the 420 is authenticated like any response to an authenticated request
  // (§9.1.3). Nothing else about the request is acted on.
  auto unknown = msg.UnknownComprehensionRequired();
  if (!unknown.empty()) {
    SendError(msg, local, remote, 420, "Unknown Attribute", &pwd, &unknown);
    return;
  }

  // §7.3.1.1 role conflict.
  if (!old_generation) {
    if (role_ == Role::kControlling && msg.ice_controlling()) {
      if (config_.tie_breaker >= *msg.ice_controlling()) {
        SendError(msg, local, remote, 487, "Role Conflict", &pwd);
        return;
      }
      SwitchRole(Role::kControlled);
    } else if (role_ == Role::kControlled && msg.ice_controlled()) {
      if (config_.tie_breaker >= *msg.ice_controlled()) {
        SwitchRole(Role::kControlling);
      } else {
        SendError(msg, local, remote, 487, "Role Conflict", &pwd);
        return;
      }
    }
  }

  // §7.3.1.2: success response with XOR-MAPPED-ADDRESS = source of the request.
  StunMessage resp(StunClass::kSuccessResponse, stun::kMethodBinding, msg.transaction_id());
  resp.AddXorMappedAddress(remote);
  Queue(Transmit{local, remote, resp.Serialize(AsBytes(pwd), true)});

  if (old_generation) return;  // answered for the kept pair of the previous generation
  if (remote_ && !rfrag.empty() && rfrag != remote_->ufrag) return;  // another generation

  // §7.3.1.3: learn a peer-reflexive remote candidate from an unknown source address.
  int index = FindPair(local, remote);
  if (index < 0) {
    RemoteCandidate* rc = FindRemote(remote);
    if (!rc) {
      if (remotes_.size() >= config_.max_remote_candidates) return;
      // Resource limit: peer-reflexive candidates have their own cap (AgentConfig).
      const size_t prflx = static_cast<size_t>(std::count_if(
          remotes_.begin(), remotes_.end(),
          [](const RemoteCandidate& r) { return r.candidate.type == CandidateType::kPeerReflexive; }));
      if (prflx >= config_.max_peer_reflexive_candidates) return;
      Candidate c;
      c.type = CandidateType::kPeerReflexive;
      c.priority = msg.priority().value_or(ComputePriority(CandidateType::kPeerReflexive, 0, 1));
      c.address = remote.IpString();
      c.port = remote.port();
      c.foundation = Foundation(CandidateType::kPeerReflexive, remote, nullptr);  // arbitrary, unique
      remotes_.push_back({c, remote});
      rc = &remotes_.back();
    }
    AddPair(*host, *rc);
    index = FindPair(local, remote);
    if (index < 0) return;  // pair cap reached
  }
  Pair& p = pairs_[index];
  p.remote_authenticated = true;
  // §7.3.1.4 triggered check (waits for the remote credentials if they are not known yet).
  if (p.state == PairState::kFrozen || p.state == PairState::kWaiting || p.state == PairState::kFailed) {
    p.state = PairState::kWaiting;
    Trigger(index);
  }
  // §7.3.1.5: nomination by the controlling agent.
  if (role_ == Role::kControlled && msg.use_candidate()) {
    if (p.state == PairState::kSucceeded) {
      p.nominated = true;
      UpdateSelection(now);
    } else {
      p.nominate_on_success = true;
    }
  }
  // Any authenticated request on the selected pair shows the peer is alive, which is enough to
  // leave "disconnected" (consent itself is only refreshed by responses, RFC 7675 §5.1).
}

void Agent::HandleResponse(ByteView raw, const StunMessage& msg, const SocketAddress& local,
                           const SocketAddress& remote, Instant now) {
  auto it = std::find_if(transactions_.begin(), transactions_.end(),
                         [&](const Transaction& t) { return t.id == msg.transaction_id(); });
  if (it == transactions_.end()) return;  // unknown or already answered
  Transaction tx = *it;

  if (tx.kind == TxKind::kGather) {
    // RFC 8489 §6.3.3 (no credentials with STUN servers for Binding).
    if (remote != tx.remote || local != tx.local) return;
    transactions_.erase(it);
    if (msg.cls() == StunClass::kSuccessResponse) {
      auto mapped = msg.xor_mapped_address();
      if (!mapped) mapped = msg.mapped_address();
      if (mapped) AddSrflx(tx.local, *mapped, tx.remote);
    }
    MaybeCompleteGathering();
    return;
  }

  // Responses to checks and consent requests are authenticated with the remote password
  // (RFC 8445 §7.2.5, RFC 8489 §9.1.4); anything else is discarded without state change.
  if (!msg.has_message_integrity() || !stun::VerifyMessageIntegrity(raw, AsBytes(tx.remote_pwd)).ok())
    return;
  if (msg.cls() == StunClass::kSuccessResponse && remote == tx.remote && local == tx.local) CountResponse(tx, now);
  transactions_.erase(it);

  if (tx.kind == TxKind::kConsent) {
    if (msg.cls() == StunClass::kSuccessResponse && remote == tx.remote && local == tx.local)
      RefreshConsent(tx.local, tx.remote, now);
    return;
  }

  int index = FindPair(tx.local, tx.remote);
  if (index < 0) return;  // checklist was reset (ICE restart)
  Pair& p = pairs_[index];
  // §7.2.5.2.1: non-symmetric addresses -> the check failed.
  if (remote != tx.remote || local != tx.local) {
    p.state = PairState::kFailed;
    return;
  }
  if (msg.cls() == StunClass::kErrorResponse) {
    auto ec = msg.error_code();
    if (ec && ec->code == 487) {
      // §7.2.5.1: switch to the opposite of the role we claimed in the request, then retry.
      Role claimed = tx.controlling ? Role::kControlling : Role::kControlled;
      if (role_ == claimed)
        SwitchRole(claimed == Role::kControlling ? Role::kControlled : Role::kControlling);
      if (p.state != PairState::kSucceeded) p.state = PairState::kWaiting;
      Trigger(index);
    } else if (p.state != PairState::kSucceeded) {
      p.state = PairState::kFailed;  // §7.2.5.2.4 unrecoverable error
    }
    return;
  }
  // Success (§7.2.5.3). The mapped address would be a peer-reflexive local candidate when it
  // differs from ours (§7.2.5.3.1); checks always go out from the base, so the valid pair is
  // this one either way.
  p.state = PairState::kSucceeded;
  if (!first_success_) first_success_ = now;
  // §7.2.5.3.3: unfreeze pairs with the same foundation.
  for (auto& q : pairs_)
    if (q.state == PairState::kFrozen && q.foundation == p.foundation) q.state = PairState::kWaiting;
  // §7.2.5.3.4 / §8.1.1 nomination.
  if (tx.use_candidate && role_ == Role::kControlling) {
    p.nominated = true;
    p.nominating = false;
  }
  if (role_ == Role::kControlled && p.nominate_on_success) p.nominated = true;
  RefreshConsent(tx.local, tx.remote, now);
  UpdateSelection(now);
  MaybeNominate(now);
}

void Agent::CountResponse(const Transaction& tx, Instant now) {
  auto it = pair_stats_.find({tx.local, tx.remote});
  if (it == pair_stats_.end()) return;
  PairStats& ps = it->second;
  ++ps.responses_received;
  // Karn's rule: a round trip is only measured for a request that was not retransmitted.
  if (tx.sends == 1 && now >= tx.last_sent) {
    ps.current_rtt = now - tx.last_sent;
    ps.total_rtt += *ps.current_rtt;
    ++ps.rtt_measurements;
  }
}

std::optional<Agent::PairStats> Agent::pair_stats(const SocketAddress& local, const SocketAddress& remote) const {
  auto it = pair_stats_.find({local, remote});
  if (it == pair_stats_.end()) return std::nullopt;
  return it->second;
}

}  // namespace refrtc::ice
