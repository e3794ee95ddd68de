#include "ice/turn_client.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "mbedtls/md5.h"

namespace refrtc::ice {

using stun::StunClass;
using stun::StunMessage;

namespace {
constexpr uint8_t kProtocolUdp = 17;  // RFC 8656 §18.11 REQUESTED-TRANSPORT (IANA protocol number)
constexpr size_t kMaxFrame = 4 + 65535 + 3;  // ChannelData with padding; STUN is at most 20 + 65535
constexpr int kMaxStaleRetries = 2;
}  // namespace

const char* TurnStateName(TurnClient::State s) {
  switch (s) {
    case TurnClient::State::kNew: return "new";
    case TurnClient::State::kAllocating: return "allocating";
    case TurnClient::State::kAllocated: return "allocated";
    case TurnClient::State::kFailed: return "failed";
    case TurnClient::State::kClosed: return "closed";
  }
  return "new";
}

absl::StatusOr<TurnServer> ParseTurnUrl(absl::string_view url, absl::string_view username,
                                        absl::string_view password) {
  TurnServer out;
  out.url = std::string(url);
  out.username = std::string(username);
  out.password = std::string(password);
  absl::string_view rest = url;
  if (absl::StartsWith(url, "turns:")) return absl::UnimplementedError("turns: (TLS) is not supported");
  if (!absl::ConsumePrefix(&rest, "turn:")) return absl::InvalidArgumentError("not a turn: URL");
  // RFC 7065 §3.1: turnURI = scheme ":" host [ ":" port ] [ "?transport=" transport ]
  absl::string_view query;
  if (size_t q = rest.find('?'); q != absl::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (!query.empty()) {
    if (query == "transport=udp") out.transport = TransportProtocol::kUdp;
    else if (query == "transport=tcp") out.transport = TransportProtocol::kTcp;
    else return absl::InvalidArgumentError(absl::StrCat("unsupported TURN URL query \"", query, "\""));
  }
  absl::string_view host = rest, port_text;
  bool has_port = false;
  if (absl::StartsWith(rest, "[")) {
    size_t close = rest.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("unterminated IPv6 literal");
    host = rest.substr(1, close - 1);
    absl::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return absl::InvalidArgumentError("junk after IPv6 literal");
      port_text = after.substr(1);
      has_port = true;
    }
  } else if (size_t c = rest.rfind(':'); c != absl::string_view::npos) {
    host = rest.substr(0, c);
    port_text = rest.substr(c + 1);
    has_port = true;
  }
  uint32_t port = 3478;  // RFC 8656 §3.1 default
  if (has_port) {
    if (!absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535)
      return absl::InvalidArgumentError(absl::StrCat("bad port in TURN URL \"", url, "\""));
  }
  if (host.empty()) return absl::InvalidArgumentError("empty host in TURN URL");
  auto addr = SocketAddress::Parse(host, static_cast<uint16_t>(port));
  if (!addr.ok()) return absl::UnimplementedError(absl::StrCat("TURN host is not an IP literal: ", host));
  out.server = *addr;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Framing

bool LooksLikeChannelData(ByteView p) { return !p.empty() && p[0] >= 64 && p[0] <= 79; }

Bytes EncodeChannelData(uint16_t channel, ByteView data, bool pad) {
  Bytes out;
  out.reserve(4 + data.size() + 3);
  ByteWriter w(&out);
  w.U16(channel);
  w.U16(static_cast<uint16_t>(data.size()));
  w.Append(data);
  if (pad) w.Zeros((4 - data.size() % 4) % 4);  // §12.5: over TCP, pad to a multiple of 4
  return out;
}

std::optional<ChannelDataView> ParseChannelData(ByteView p) {
  if (p.size() < 4) return std::nullopt;
  uint16_t ch = static_cast<uint16_t>(p[0] << 8 | p[1]);
  uint16_t len = static_cast<uint16_t>(p[2] << 8 | p[3]);
  // §12.6: channel numbers outside 0x4000-0x4FFF are not ChannelData; a length longer than the
  // datagram means a corrupt message (dropped).
  if (ch < kMinChannel || ch > kMaxChannel || p.size() - 4 < len) return std::nullopt;
  return ChannelDataView{ch, p.subspan(4, len)};
}

bool StreamFramer::Append(ByteView bytes) {
  if (broken_) return false;
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 65536) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  // Validate the head now so that garbage is detected before more bytes pile up.
  if (buf_.size() - pos_ >= 1) {
    uint8_t b = buf_[pos_];
    if (!(b <= 3 || (b >= 64 && b <= 79))) broken_ = true;
  }
  if (buf_.size() - pos_ > 4 * kMaxFrame) broken_ = true;  // a reader that never drains
  return !broken_;
}

std::optional<Bytes> StreamFramer::Next() {
  if (broken_) return std::nullopt;
  size_t avail = buf_.size() - pos_;
  if (avail < 4) return std::nullopt;
  const uint8_t* p = buf_.data() + pos_;
  size_t need;
  if (p[0] <= 3) {
    // STUN (RFC 8489 §5): 20-byte header, length of the attributes in bytes 2..3.
    need = 20 + static_cast<size_t>(p[2] << 8 | p[3]);
  } else if (p[0] >= 64 && p[0] <= 79) {
    size_t len = static_cast<size_t>(p[2] << 8 | p[3]);
    need = 4 + len + (4 - len % 4) % 4;
  } else {
    broken_ = true;
    return std::nullopt;
  }
  if (avail < need) return std::nullopt;
  Bytes frame(p, p + need);
  pos_ += need;
  if (pos_ < buf_.size()) {
    uint8_t b = buf_[pos_];
    if (!(b <= 3 || (b >= 64 && b <= 79))) broken_ = true;
  }
  return frame;
}

Bytes LongTermKey(absl::string_view username, absl::string_view realm, absl::string_view password) {
  // RFC 8489 §9.2.2: key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password));
  // the SASLprep/OpaqueString step is the identity for the ASCII credentials used here.
  std::string s = absl::StrCat(username, ":", realm, ":", password);
  Bytes key(16);
  mbedtls_md5_ret(reinterpret_cast<const unsigned char*>(s.data()), s.size(), key.data());
  return key;
}

// ---------------------------------------------------------------------------------------------
// Client

TurnClient::TurnClient(TurnClientConfig config, const SocketAddress& base, Random& rng)
    : config_(std::move(config)), base_(base), rng_(rng) {
  if (config_.max_sends < 1) config_.max_sends = 1;
}

void TurnClient::Output(Bytes data) {
  if (out_.size() >= config_.max_queued_transmits) return;
  out_.push_back(Transmit{base_, config_.server.server, std::move(data), config_.server.transport});
}

std::optional<Transmit> TurnClient::PollTransmit() {
  if (out_.empty()) return std::nullopt;
  Transmit t = std::move(out_.front());
  out_.pop_front();
  return t;
}

std::optional<TurnClient::PeerData> TurnClient::PollPeerData() {
  if (in_.empty()) return std::nullopt;
  PeerData d = std::move(in_.front());
  in_.pop_front();
  return d;
}

void TurnClient::Start(Instant now) {
  if (state_ != State::kNew) return;
  state_ = State::kAllocating;
  SendRequest(Kind::kAllocate, now);
}

void TurnClient::Fail(uint16_t code, std::string text) {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  state_ = State::kFailed;
  error_code_ = code;
  error_text_ = std::move(text);
  txs_.clear();
  for (auto& [peer, ch] : channels_) ch.waiting.clear();
}

Bytes TurnClient::Build(const Tx& tx) const {
  uint16_t method = stun::kMethodAllocate;
  switch (tx.kind) {
    case Kind::kAllocate: method = stun::kMethodAllocate; break;
    case Kind::kRefresh: method = stun::kMethodRefresh; break;
    case Kind::kPermission: method = stun::kMethodCreatePermission; break;
    case Kind::kChannelBind: method = stun::kMethodChannelBind; break;
  }
  StunMessage m(StunClass::kRequest, method, tx.id);
  switch (tx.kind) {
    case Kind::kAllocate:
      // §7.1: REQUESTED-TRANSPORT (UDP relaying, also when we talk TCP to the server) and the
      // lifetime we would like.
      m.AddRequestedTransport(kProtocolUdp);
      m.AddLifetime(config_.requested_lifetime_s);
      break;
    case Kind::kRefresh:
      m.AddLifetime(tx.lifetime);
      break;
    case Kind::kPermission:
      m.AddXorAddress(stun::attr::kXorPeerAddress, tx.peer);
      break;
    case Kind::kChannelBind:
      m.AddChannelNumber(tx.channel);
      m.AddXorAddress(stun::attr::kXorPeerAddress, tx.peer);
      break;
  }
  if (realm_ && nonce_) {
    // RFC 8489 §9.2.4: USERNAME, REALM, NONCE, then MESSAGE-INTEGRITY with the long-term key.
    m.AddUsername(config_.server.username);
    m.AddRealm(*realm_);
    m.AddNonce(*nonce_);
    return m.Serialize(key_, true);
  }
  return m.Serialize({}, true);
}

void TurnClient::SendRequest(Kind kind, Instant now, const SocketAddress* peer, uint16_t channel,
                             uint32_t lifetime, int stale_retries) {
  if (txs_.size() >= 1024) return;
  Tx tx;
  rng_.Fill(tx.id.data(), tx.id.size());
  tx.kind = kind;
  if (peer) {
    tx.peer = *peer;
    tx.peer_ip = peer->IpString();
  }
  tx.channel = channel;
  tx.lifetime = lifetime;
  tx.stale_retries = stale_retries;
  tx.rto = config_.rto_initial;
  tx.next = now;
  if (kind == Kind::kAllocate && realm_) sent_credentials_ = true;
  tx.packet = Build(tx);
  txs_.push_back(std::move(tx));
  Emit(txs_.back(), now);
}

void TurnClient::Emit(Tx& tx, Instant now) {
  Output(tx.packet);
  ++tx.sends;
  if (tcp()) {
    // Reliable transport: no retransmission, one overall timeout (RFC 8489 §6.2.2).
    tx.sends = config_.max_sends;
    tx.next = now + config_.tcp_timeout;
  } else {
    tx.next = now + tx.rto;
    tx.rto = tx.rto * 2;
  }
}

void TurnClient::HandleTimeout(Instant now) {
  if (state_ == State::kFailed || state_ == State::kClosed || state_ == State::kNew) return;
  std::vector<Tx> expired;
  for (auto& tx : txs_) {
    if (now < tx.next) continue;
    if (tx.sends >= config_.max_sends) {
      expired.push_back(tx);
      continue;
    }
    Emit(tx, now);
  }
  txs_.erase(std::remove_if(txs_.begin(), txs_.end(),
                            [&](const Tx& t) { return now >= t.next && t.sends >= config_.max_sends; }),
             txs_.end());
  for (const auto& tx : expired) OnFailure(tx, 0, "TURN server did not answer", now);
  if (state_ != State::kAllocated) return;
  // §8: refresh the allocation before it expires.
  if (now >= refresh_at_) {
    refresh_at_ = now + seconds(std::max<uint32_t>(lifetime_s_, 2) / 2);  // until the answer
    SendRequest(Kind::kRefresh, now, nullptr, 0, config_.requested_lifetime_s);
  }
  // §9.1 / §12.1: permissions and channel bindings are refreshed before they expire.
  for (auto& [ip, perm] : permissions_) {
    if (perm.st == Permission::St::kInstalled && now >= perm.refresh_at) {
      perm.refresh_at = now + config_.permission_refresh;
      SendRequest(Kind::kPermission, now, &perm.any_peer);
    }
  }
  for (auto& [peer, ch] : channels_) {
    if (ch.bound && !ch.pending && now >= ch.refresh_at) {
      ch.refresh_at = now + config_.channel_refresh;
      ch.pending = true;
      SendRequest(Kind::kChannelBind, now, &peer, ch.number);
    }
  }
}

std::optional<Instant> TurnClient::PollTimeout() const {
  if (state_ == State::kFailed || state_ == State::kClosed || state_ == State::kNew) return std::nullopt;
  std::optional<Instant> t;
  auto consider = [&](Instant x) {
    if (!t || x < *t) t = x;
  };
  for (const auto& tx : txs_) consider(tx.next);
  if (state_ == State::kAllocated) {
    consider(refresh_at_);
    for (const auto& [ip, perm] : permissions_)
      if (perm.st == Permission::St::kInstalled) consider(perm.refresh_at);
    for (const auto& [peer, ch] : channels_)
      if (ch.bound && !ch.pending) consider(ch.refresh_at);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Input

void TurnClient::HandleDatagram(ByteView packet, Instant now) {
  if (tcp()) return;
  HandleFrame(packet, now);
}

void TurnClient::HandleStreamData(ByteView bytes, Instant now) {
  if (!tcp() || state_ == State::kFailed || state_ == State::kClosed) return;
  if (!framer_.Append(bytes)) {
    Fail(0, "TURN server sent an unframable TCP stream");
    return;
  }
  while (auto frame = framer_.Next()) {
    HandleFrame(*frame, now);
    if (state_ == State::kFailed || state_ == State::kClosed) return;
  }
  if (framer_.broken()) Fail(0, "TURN server sent an unframable TCP stream");
}

void TurnClient::HandleStreamClosed(Instant now) {
  if (!tcp()) return;
  if (state_ == State::kAllocating || state_ == State::kAllocated)
    Fail(0, "TCP connection to the TURN server closed");
}

void TurnClient::HandleFrame(ByteView frame, Instant now) {
  if (state_ == State::kFailed || state_ == State::kClosed || state_ == State::kNew) return;
  if (LooksLikeChannelData(frame)) {
    auto cd = ParseChannelData(frame);
    if (!cd) return;
    auto it = channel_peers_.find(cd->channel);
    if (it == channel_peers_.end()) return;  // §12.6: unknown channel -> discard
    in_.push_back({it->second, Bytes(cd->data.begin(), cd->data.end())});
    return;
  }
  if (!stun::LooksLikeStun(frame)) return;
  auto msg = StunMessage::Parse(frame);
  if (!msg.ok()) return;
  if (msg->cls() == StunClass::kIndication) {
    // §11.4 Data indication: XOR-PEER-ADDRESS and DATA; only from peers we have a permission for.
    if (msg->method() != stun::kMethodData || state_ != State::kAllocated) return;
    auto peer = msg->xor_address(stun::attr::kXorPeerAddress);
    auto data = msg->data();
    if (!peer || !data) return;
    auto perm = permissions_.find(peer->IpString());
    if (perm == permissions_.end()) return;
    in_.push_back({*peer, Bytes(data->begin(), data->end())});
    return;
  }
  if (msg->cls() == StunClass::kSuccessResponse || msg->cls() == StunClass::kErrorResponse)
    HandleResponse(frame, *msg, now);
}

void TurnClient::HandleResponse(ByteView raw, const StunMessage& msg, Instant now) {
  auto it = std::find_if(txs_.begin(), txs_.end(),
                         [&](const Tx& t) { return t.id == msg.transaction_id(); });
  if (it == txs_.end()) return;
  // RFC 8489 §9.2.5: once credentials were sent, a success response must carry a valid
  // MESSAGE-INTEGRITY; anything else is discarded (the retransmission timer keeps running).
  if (msg.cls() == StunClass::kSuccessResponse && !key_.empty()) {
    if (!msg.has_message_integrity() || !stun::VerifyMessageIntegrity(raw, key_).ok()) return;
  }
  Tx tx = *it;
  txs_.erase(it);
  if (msg.cls() == StunClass::kSuccessResponse) {
    OnSuccess(tx, msg, now);
    return;
  }
  auto ec = msg.error_code();
  uint16_t code = ec ? ec->code : 0;
  std::string reason = ec ? ec->reason : "malformed error response";
  if (code == 401 && tx.kind == Kind::kAllocate && !sent_credentials_ && msg.realm() && msg.nonce()) {
    // §9.2.3.1 / RFC 8656 §7.3: the challenge; retry with credentials.
    realm_ = msg.realm();
    nonce_ = msg.nonce();
    key_ = LongTermKey(config_.server.username, *realm_, config_.server.password);
    SendRequest(Kind::kAllocate, now);
    return;
  }
  if (code == 438 && msg.nonce() && tx.stale_retries < kMaxStaleRetries) {
    // RFC 8489 §9.2.5: Stale Nonce -> take the new NONCE (and REALM) and retry.
    nonce_ = msg.nonce();
    if (auto r = msg.realm(); r && *r != realm_) {
      realm_ = r;
      key_ = LongTermKey(config_.server.username, *realm_, config_.server.password);
    }
    const SocketAddress* peer = tx.kind == Kind::kPermission || tx.kind == Kind::kChannelBind ? &tx.peer : nullptr;
    SendRequest(tx.kind, now, peer, tx.channel, tx.lifetime, tx.stale_retries + 1);
    return;
  }
  OnFailure(tx, code, absl::StrCat(code, " ", reason), now);
}

void TurnClient::OnSuccess(const Tx& tx, const StunMessage& msg, Instant now) {
  switch (tx.kind) {
    case Kind::kAllocate: {
      if (state_ != State::kAllocating) return;
      auto relayed = msg.xor_address(stun::attr::kXorRelayedAddress);
      if (!relayed || !relayed->valid() || relayed->port() == 0) {
        Fail(0, "Allocate success without XOR-RELAYED-ADDRESS");
        return;
      }
      relayed_ = *relayed;
      mapped_ = msg.xor_mapped_address().value_or(base_);
      lifetime_s_ = msg.lifetime().value_or(config_.requested_lifetime_s);
      // §8: refresh a minute before expiry (half the lifetime for short ones).
      uint32_t lead = lifetime_s_ > 120 ? 60 : lifetime_s_ / 2;
      refresh_at_ = now + seconds(lifetime_s_ - lead);
      state_ = State::kAllocated;
      return;
    }
    case Kind::kRefresh: {
      if (tx.lifetime == 0) return;  // deallocation answered
      lifetime_s_ = msg.lifetime().value_or(lifetime_s_);
      uint32_t lead = lifetime_s_ > 120 ? 60 : lifetime_s_ / 2;
      refresh_at_ = now + seconds(lifetime_s_ - lead);
      return;
    }
    case Kind::kPermission: {
      auto pit = permissions_.find(tx.peer_ip);
      if (pit == permissions_.end()) return;
      bool first = pit->second.st != Permission::St::kInstalled;
      pit->second.st = Permission::St::kInstalled;
      pit->second.refresh_at = now + config_.permission_refresh;
      if (!first) return;
      for (auto& [peer, ch] : channels_)
        if (peer.IpString() == tx.peer_ip) FlushPeer(peer, ch, now);
      return;
    }
    case Kind::kChannelBind: {
      auto cit = channels_.find(tx.peer);
      if (cit == channels_.end()) return;
      cit->second.bound = true;
      cit->second.pending = false;
      cit->second.refresh_at = now + config_.channel_refresh;
      channel_peers_[cit->second.number] = tx.peer;
      // §12: a channel binding also installs/refreshes the permission for the peer's IP.
      auto pit = permissions_.find(tx.peer_ip);
      if (pit != permissions_.end() && pit->second.st == Permission::St::kInstalled)
        pit->second.refresh_at = now + config_.permission_refresh;
      return;
    }
  }
}

void TurnClient::OnFailure(const Tx& tx, uint16_t code, const std::string& text, Instant now) {
  switch (tx.kind) {
    case Kind::kAllocate:
      if (state_ == State::kAllocating) Fail(code, text);
      return;
    case Kind::kRefresh:
      // §8: a failed refresh (e.g. 437 Allocation Mismatch) means the allocation is gone.
      if (tx.lifetime != 0 && state_ == State::kAllocated) Fail(code, absl::StrCat("Refresh failed: ", text));
      return;
    case Kind::kPermission: {
      // §9.3: the permission is not installed (e.g. 403 Forbidden for that peer); its data is
      // dropped and a later Send tries again.
      auto pit = permissions_.find(tx.peer_ip);
      if (pit != permissions_.end() && pit->second.st != Permission::St::kInstalled) {
        permissions_.erase(pit);
        for (auto& [peer, ch] : channels_)
          if (peer.IpString() == tx.peer_ip) ch.waiting.clear();
      }
      return;
    }
    case Kind::kChannelBind: {
      // Keep using Send indications for this peer (a fresh number on the next attempt).
      auto cit = channels_.find(tx.peer);
      if (cit != channels_.end()) {
        if (cit->second.bound) channel_peers_.erase(cit->second.number);
        cit->second.bound = false;
        cit->second.pending = false;
        cit->second.number = 0;
      }
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Output to peers

void TurnClient::SendIndication(const SocketAddress& peer, ByteView data) {
  // §11.1 Send indication: XOR-PEER-ADDRESS + DATA, no authentication.
  stun::TransactionId id;
  rng_.Fill(id.data(), id.size());
  StunMessage m(StunClass::kIndication, stun::kMethodSend, id);
  m.AddXorAddress(stun::attr::kXorPeerAddress, peer);
  m.AddData(data);
  Output(m.Serialize());
}

void TurnClient::FlushPeer(const SocketAddress& peer, Channel& ch, Instant now) {
  while (!ch.waiting.empty()) {
    SendIndication(peer, ch.waiting.front());
    ch.waiting.pop_front();
  }
  // §12.1: bind a channel to a peer we actually talk to; data goes in Send indications meanwhile.
  if (!ch.bound && !ch.pending && next_channel_ <= kMaxChannel) {
    ch.number = next_channel_++;
    ch.pending = true;
    SendRequest(Kind::kChannelBind, now, &peer, ch.number);
  }
}

void TurnClient::Send(const SocketAddress& peer, ByteView data, Instant now) {
  if (state_ != State::kAllocated || !peer.valid() || peer.family() != relayed_.family()) return;
  auto cit = channels_.find(peer);
  if (cit == channels_.end()) {
    if (channels_.size() >= config_.max_peers) return;
    cit = channels_.emplace(peer, Channel{}).first;
  }
  Channel& ch = cit->second;
  if (ch.bound) {
    Output(EncodeChannelData(ch.number, data, tcp()));
    return;
  }
  std::string ip = peer.IpString();
  Permission& perm = permissions_[ip];
  if (perm.st == Permission::St::kInstalled) {
    SendIndication(peer, data);
    if (!ch.pending) FlushPeer(peer, ch, now);
    return;
  }
  if (ch.waiting.size() < config_.max_pending_per_peer) ch.waiting.emplace_back(data.begin(), data.end());
  if (perm.st == Permission::St::kNone) {
    // §9.1: CreatePermission for the peer's IP before anything can be relayed to it.
    perm.st = Permission::St::kPending;
    perm.any_peer = peer;
    SendRequest(Kind::kPermission, now, &peer);
  }
}

void TurnClient::Close(Instant now) {
  if (state_ == State::kClosed) return;
  bool allocated = state_ == State::kAllocated;
  txs_.clear();
  if (allocated) {
    // §7.1 / §8: a Refresh with LIFETIME 0 deletes the allocation (sent once; no one waits).
    Tx tx;
    rng_.Fill(tx.id.data(), tx.id.size());
    tx.kind = Kind::kRefresh;
    tx.lifetime = 0;
    Output(Build(tx));
  }
  state_ = State::kClosed;
}

bool TurnClient::HasPermission(const SocketAddress& peer) const {
  auto it = permissions_.find(peer.IpString());
  return it != permissions_.end() && it->second.st == Permission::St::kInstalled;
}

std::optional<uint16_t> TurnClient::BoundChannel(const SocketAddress& peer) const {
  auto it = channels_.find(peer);
  if (it == channels_.end() || !it->second.bound) return std::nullopt;
  return it->second.number;
}

}  // namespace refrtc::ice
