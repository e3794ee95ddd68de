// A sans-IO TURN client (RFC 8656) for one allocation: the relayed transport address behind an
// ICE relay candidate (RFC 8445 §5.1.1.2).
//
//  * Allocate with REQUESTED-TRANSPORT UDP and the long-term credential mechanism
//    (RFC 8489 §9.2): the first request goes without credentials, the 401 brings REALM and
//    NONCE, the retry carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY keyed with
//    MD5(username ":" realm ":" password). A 438 (Stale Nonce) on any request takes the new
//    NONCE and retries once per request. A second 401, or any other error, fails the allocation
//    with the code and reason (the agent reports it as an icecandidateerror).
//  * Refresh (RFC 8656 §8) before LIFETIME runs out; Refresh with LIFETIME 0 on Close().
//  * CreatePermission (§9) per peer IP on first use, refreshed every 4 min (permissions last
//    5 min); data queued for a peer waits (bounded) until its permission is installed and goes
//    out in Send indications (§11); a ChannelBind (§12) follows, refreshed every 9 min, after
//    which data to that peer goes as ChannelData (channels 0x4000-0x4FFF).
//  * Data indications and ChannelData from the server are unwrapped for PollPeerData().
//  * Transport to the server: UDP (retransmissions RTO 250 ms doubling) or TCP (no
//    retransmissions; the stream is framed as RFC 8656 §12.5 says: STUN messages back to back,
//    ChannelData padded to a multiple of 4). See util/transmit.h for the TCP boundary.
// Malformed or unauthenticated input is dropped; nothing here reads clocks or sockets.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "stun/stun_message.h"
#include "util/bytes.h"
#include "util/random.h"
#include "util/socket_address.h"
#include "util/time.h"
#include "util/transmit.h"

namespace refrtc::ice {

struct TurnServer {
  SocketAddress server;
  TransportProtocol transport = TransportProtocol::kUdp;
  std::string username, password;
  std::string url;  // as configured ("turn:127.0.0.1:3478?transport=udp"), for error reports
};

// RFC 7065 turn: URI with an IP-literal host: "turn:1.2.3.4", "turn:1.2.3.4:3479",
// "turn:[::1]:3478?transport=tcp". Default port 3478, default transport UDP. "turns:" (TLS) and
// host names are rejected with Unimplemented (no TLS / no resolver in the sans-IO engine); other
// malformed input with InvalidArgument.
absl::StatusOr<TurnServer> ParseTurnUrl(absl::string_view url, absl::string_view username,
                                        absl::string_view password);

// RFC 8656 §12.4 ChannelData: channel number (0x4000-0x4FFF) | length | data (RFC 7983: the
// first byte is 64..79).
constexpr uint16_t kMinChannel = 0x4000;
constexpr uint16_t kMaxChannel = 0x4FFF;
bool LooksLikeChannelData(ByteView packet);
// `pad` (TCP): zero-pad to a multiple of 4 bytes (§12.5).
Bytes EncodeChannelData(uint16_t channel, ByteView data, bool pad);
struct ChannelDataView {
  uint16_t channel = 0;
  ByteView data;
};
// A datagram (or one stream frame): the length field must fit in what is there; trailing
// bytes (padding) are ignored. nullopt for a channel outside 0x4000-0x4FFF or a short packet.
std::optional<ChannelDataView> ParseChannelData(ByteView packet);

// RFC 8656 §12.5 / RFC 6062-style framing of a TCP byte stream to a TURN server: STUN messages
// (20-byte header + length) and ChannelData (4 + length, padded to 4) back to back.
class StreamFramer {
 public:
  // Appends bytes read from the stream. Returns false once the stream is unframable (a first
  // byte that is neither STUN nor ChannelData, or a frame larger than the bound): the caller
  // drops the connection.
  bool Append(ByteView bytes);
  // The next complete frame (STUN message, or ChannelData including its padding).
  std::optional<Bytes> Next();
  bool broken() const { return broken_; }
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  Bytes buf_;
  size_t pos_ = 0;
  bool broken_ = false;
};

// MD5(username ":" realm ":" password): the long-term credential key (RFC 8489 §9.2.2).
Bytes LongTermKey(absl::string_view username, absl::string_view realm, absl::string_view password);

struct TurnClientConfig {
  TurnServer server;
  uint32_t requested_lifetime_s = 600;  // RFC 8656 §3.2 default allocation lifetime
  Duration rto_initial = milliseconds(250);  // UDP retransmissions (RFC 8489 §6.2.1, faster start)
  int max_sends = 6;                         // UDP: then the transaction fails (~15.75 s)
  Duration tcp_timeout = seconds(10);        // TCP: no retransmissions, one timeout
  Duration permission_refresh = seconds(240);  // permissions expire after 300 s (§9)
  Duration channel_refresh = seconds(540);     // channel bindings expire after 600 s (§12)
  size_t max_pending_per_peer = 32;            // data waiting for a permission
  size_t max_peers = 256;
  size_t max_queued_transmits = 1024;
};

class TurnClient {
 public:
  enum class State { kNew, kAllocating, kAllocated, kFailed, kClosed };
  struct PeerData {
    SocketAddress peer;
    Bytes data;
  };

  // `base` is the local socket address the allocation is made from (a host candidate's base).
  TurnClient(TurnClientConfig config, const SocketAddress& base, Random& rng);

  void Start(Instant now);
  // A UDP datagram from the server to `base` (the caller matched the addresses).
  void HandleDatagram(ByteView packet, Instant now);
  // TCP: bytes read from the connection to the server, any chunking.
  void HandleStreamData(ByteView bytes, Instant now);
  // TCP: the connection is gone; the allocation (which lives as long as it, RFC 6062 / §3.1)
  // fails.
  void HandleStreamClosed(Instant now);
  void HandleTimeout(Instant now);
  std::optional<Instant> PollTimeout() const;
  std::optional<Transmit> PollTransmit();
  std::optional<PeerData> PollPeerData();

  // Relays `data` to `peer` (ChannelData once bound, Send indication with a permission, queued
  // until the permission is installed). Dropped unless the allocation is up.
  void Send(const SocketAddress& peer, ByteView data, Instant now);
  // Deallocates (Refresh with LIFETIME 0, RFC 8656 §7.1 / §8) if allocated; state kClosed.
  void Close(Instant now);

  State state() const { return state_; }
  const SocketAddress& base() const { return base_; }
  const TurnServer& server() const { return config_.server; }
  const SocketAddress& relayed() const { return relayed_; }  // valid once kAllocated
  const SocketAddress& mapped() const { return mapped_; }
  uint32_t lifetime_s() const { return lifetime_s_; }
  // Why the allocation failed: the STUN error code (0 = timeout/transport) and a text.
  uint16_t error_code() const { return error_code_; }
  const std::string& error_text() const { return error_text_; }
  bool HasPermission(const SocketAddress& peer) const;
  std::optional<uint16_t> BoundChannel(const SocketAddress& peer) const;  // after ChannelBind success

 private:
  enum class Kind { kAllocate, kRefresh, kPermission, kChannelBind };
  struct Tx {
    stun::TransactionId id{};
    Kind kind = Kind::kAllocate;
    std::string peer_ip;     // kPermission
    SocketAddress peer;      // kPermission (one address of that IP) / kChannelBind
    uint16_t channel = 0;    // kChannelBind
    uint32_t lifetime = 0;   // kRefresh
    Bytes packet;
    int sends = 0;
    int stale_retries = 0;
    Duration rto{};
    Instant next{};
  };
  struct Permission {
    enum class St { kNone, kPending, kInstalled } st = St::kNone;
    SocketAddress any_peer;  // XOR-PEER-ADDRESS for the refresh (port ignored by the server)
    Instant refresh_at{};
  };
  struct Channel {
    uint16_t number = 0;
    bool bound = false;
    bool pending = false;
    Instant refresh_at{};
    std::deque<Bytes> waiting;  // data waiting for the permission of this peer's IP
  };

  void SendRequest(Kind kind, Instant now, const SocketAddress* peer = nullptr, uint16_t channel = 0,
                   uint32_t lifetime = 0, int stale_retries = 0);
  Bytes Build(const Tx& tx) const;
  void Emit(Tx& tx, Instant now);
  void Output(Bytes data);
  void HandleFrame(ByteView frame, Instant now);
  void HandleResponse(ByteView raw, const stun::StunMessage& msg, Instant now);
  void OnSuccess(const Tx& tx, const stun::StunMessage& msg, Instant now);
  void OnFailure(const Tx& tx, uint16_t code, const std::string& text, Instant now);
  void Fail(uint16_t code, std::string text);
  void FlushPeer(const SocketAddress& peer, Channel& ch, Instant now);
  void SendIndication(const SocketAddress& peer, ByteView data);
  bool tcp() const { return config_.server.transport == TransportProtocol::kTcp; }

  TurnClientConfig config_;
  SocketAddress base_;
  Random& rng_;
  State state_ = State::kNew;
  std::optional<std::string> realm_, nonce_;
  Bytes key_;
  bool sent_credentials_ = false;
  SocketAddress relayed_, mapped_;
  uint32_t lifetime_s_ = 0;
  Instant refresh_at_{};
  uint16_t error_code_ = 0;
  std::string error_text_;
  std::vector<Tx> txs_;
  std::map<std::string, Permission> permissions_;  // by peer IP
  std::map<SocketAddress, Channel> channels_;       // by peer address
  std::map<uint16_t, SocketAddress> channel_peers_;
  uint16_t next_channel_ = kMinChannel;
  std::deque<Transmit> out_;
  std::deque<PeerData> in_;
  StreamFramer framer_;
};

const char* TurnStateName(TurnClient::State s);

}  // namespace refrtc::ice
