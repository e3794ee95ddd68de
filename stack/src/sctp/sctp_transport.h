// SCTP over DTLS (RFC 8261) with usrsctp in AF_CONN mode, plus WebRTC data channels:
// DCEP (RFC 8832) and the RFC 8831 rules (stream ids, PPIDs, empty messages, closing by stream
// reset). Sans-IO: the owner feeds decrypted DTLS application data and time in, and polls SCTP
// packets (to be sent as DTLS application data), events and the next timer deadline out.
//
// usrsctp is process-global (one stack, one timer wheel, one output callback). This module:
//  * initialises it once per process (usrsctp_init_nothreads, never torn down) and routes
//    conn_output by the AF_CONN address token each Transport registers to that Transport's
//    outgoing queue (several Transports in one process work; packets are never fed back into
//    usrsctp from inside the callback);
//  * drives usrsctp's timers from a process-global "last tick" clock: every HandleTimeout /
//    HandlePacket / API call advances it by (now - last tick) when positive. Hosts that use
//    virtual time MUST feed all Transports of the process from one shared monotonic clock
//    (a clock that jumps backwards only re-bases the tick, it never runs timers backwards).
//    usrsctp also reads gettimeofday() (RTT samples, T3-rtx "sent long enough ago" marking,
//    heartbeat gating, cookie lifetime, PR-SCTP TTL); while inside a usrsctp call made by a
//    Transport, that clock is replaced by one advancing exactly with the milliseconds fed to the
//    timer wheel, so virtual-time hosts get consistent behaviour (see sctp_transport.cc; without
//    it an outage that marks the only path INACTIVE never recovers under virtual time).
//  * All Transports of one process must be driven from one thread (usrsctp callbacks append to
//    the owning Transport's queues synchronously, from whichever Transport's call ran them).
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sctp/dcep.h"
#include "util/bytes.h"
#include "util/strong_type.h"
#include "util/time.h"

struct socket;  // usrsctp

namespace refrtc::sctp {

// The largest message we accept (reassembly cap) and can send: what we advertise as
// a=max-message-size (RFC 8841 §6) and the W3C "canSendSize". Incoming messages above it are
// discarded (the association stays up).
inline constexpr uint64_t kLocalMaxMessageSize = 256 * 1024;
// RFC 8841 §6: when the remote description carries no a=max-message-size, assume 64 KiB.
inline constexpr uint64_t kDefaultRemoteMaxMessageSize = 64 * 1024;
// Streams we ask for in both directions (what browsers use; RFC 8831 allows up to 65535).
inline constexpr uint16_t kMaxStreams = 1024;
// Resource limits (docs/LIMITS.md). Bytes queued for sending on one association, not yet taken
// by usrsctp (the sum of every channel's bufferedAmount). W3C webrtc-pc §6.2 send(): "if the
// data cannot be sent, buffer it, and if this is not possible because the buffer is full, throw
// an OperationError". 16 MiB is libwebrtc's send-queue size.
inline constexpr uint64_t kMaxSendQueueBytes = 16 * 1024 * 1024;
// Incoming data: one message is reassembled up to kLocalMaxMessageSize (above; the rest of a
// larger message, with or without end-of-record, is read and discarded), and a remote DCEP OPEN
// only creates a channel on a stream id below the negotiated stream count (max_channels()).

struct ChannelInit {
  bool ordered = true;
  std::optional<uint16_t> max_retransmits;
  std::optional<uint16_t> max_packet_life_time_ms;
  std::string label, protocol;
  bool negotiated = false;
  uint16_t priority = 256;
};

enum class ChannelState { kConnecting, kOpen, kClosing, kClosed };  // RTCDataChannelState

struct EventAssociationUp {};
struct EventAssociationDown {  // established association lost (ABORT, COMM_LOST, shutdown)
  std::string reason;
};
struct EventChannelOpen {  // our channel: DCEP ACK (or first data) received; negotiated: assoc up
  StreamId id;
};
struct EventIncomingChannel {  // remote DCEP OPEN received (ACK already queued); channel is open
  StreamId id;
  ChannelInit init;
};
struct EventMessage {
  StreamId id;
  Bytes data;
  bool binary;
};
struct EventChannelClosing {  // the remote reset its outgoing stream first
  StreamId id;
};
struct EventChannelClosed {  // both directions reset (or the association went away)
  StreamId id;
};
struct EventBufferedAmountLow {
  StreamId id;
};
using Event = std::variant<EventAssociationUp, EventAssociationDown, EventChannelOpen,
                           EventIncomingChannel, EventMessage, EventChannelClosing,
                           EventChannelClosed, EventBufferedAmountLow>;

class Transport {
 public:
  // is_dtls_client decides stream-id parity (RFC 8832 §6: the DTLS client uses even ids,
  // the server odd ids).
  explicit Transport(bool is_dtls_client, uint16_t local_port = 5000, uint16_t remote_port = 5000);
  ~Transport();  // closes the usrsctp socket (ABORT if still associated) and deregisters
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // From the remote a=max-message-size (RFC 8841 §6): 0 means "no limit" (we then cap at
  // kLocalMaxMessageSize); call with kDefaultRemoteMaxMessageSize when the attribute is absent.
  void SetRemoteMaxMessageSize(uint64_t bytes);
  // W3C RTCSctpTransport.maxMessageSize: min(remote limit, kLocalMaxMessageSize).
  uint64_t max_message_size() const;
  // Negotiated min(inbound, outbound) streams once the association is up (kMaxStreams before).
  uint16_t max_channels() const;

  // Both sides connect (SCTP handles the simultaneous INIT, RFC 4960 §5.2.1).
  absl::Status Start(Instant now);
  void HandlePacket(ByteView sctp_packet, Instant now);  // decrypted DTLS application data
  std::optional<Bytes> PollOutgoing();                   // SCTP packets for DTLS to send
  void HandleTimeout(Instant now);
  std::optional<Instant> PollTimeout() const;
  std::optional<Event> PollEvent();

  // API calls below (OpenChannel, Send, CloseChannel) only queue: like a browser, the data is
  // handed to usrsctp asynchronously — on the next HandleTimeout / HandlePacket / Flush — so
  // buffered_amount() right after Send() includes the message and EventBufferedAmountLow comes
  // later. PollTimeout() returns "now" while such queued work is pending.
  void Flush(Instant now);  // optional: pump queued work right away (same as HandleTimeout)

  // Non-negotiated: picks the lowest free id of our parity unless `id` is given, and queues a
  // DCEP OPEN (sent once the association is up). Negotiated: `id` is required, no DCEP; the
  // channel opens when the association is up.
  absl::StatusOr<StreamId> OpenChannel(const ChannelInit& init, std::optional<uint16_t> id,
                                       Instant now);
  // Queues one whole message. Empty messages use PPID 56/57 with a single byte (RFC 8831 §6.6).
  // Messages over max_message_size() → TypeError. Nothing is dropped locally: when usrsctp's
  // send buffer is full the message waits in our own queue.
  absl::Status Send(StreamId id, ByteView data, bool binary, Instant now);
  uint64_t buffered_amount(StreamId id) const;  // bytes queued here, not yet accepted by usrsctp
  void SetBufferedAmountLowThreshold(StreamId id, uint64_t threshold);
  // RFC 8831 §6.7: reset our outgoing stream once our queued data for it is handed over;
  // closed once the remote has reset its outgoing stream too.
  void CloseChannel(StreamId id, Instant now);
  ChannelState channel_state(StreamId id) const;  // kClosed for unknown ids
  // Graceful SHUTDOWN when associated (ends with EventAssociationDown{"shutdown"}); before
  // that, the association attempt is aborted.
  void Close(Instant now);
  bool association_up() const { return state_ == State::kUp; }

  // Diagnostics for tests.
  uint64_t discarded_oversized_messages() const { return discarded_oversized_; }
  // Bytes of incoming messages being reassembled here (partial deliveries from usrsctp).
  uint64_t reassembly_bytes() const {
    uint64_t n = 0;
    for (const auto& [sid, msg] : partial_in_) n += msg.second.size();
    return n;
  }
  // Packets dropped before usrsctp because a chunk's TLV parameter list is malformed (see
  // WellFormedParameters in sctp_transport.cc).
  uint64_t dropped_malformed_packets() const { return dropped_malformed_; }

 private:
  void AbortSocket();
  enum class State { kNew, kConnecting, kUp, kShuttingDown, kClosed };
  struct Channel {
    ChannelInit init;
    ChannelState state = ChannelState::kConnecting;
    bool we_opened = false;      // we sent the DCEP OPEN (non-negotiated, local)
    bool acked = false;          // ACK (or data) seen for our OPEN, or negotiated/remote
    bool reset_wanted = false;   // reset our outgoing stream once our queue for it drains
    bool reset_requested = false;
    bool out_reset = false;
    bool in_reset = false;
    uint64_t buffered = 0;
    uint64_t low_threshold = 0;
  };
  struct Outgoing {
    uint16_t sid;
    uint32_t ppid;
    Bytes data;
    size_t offset = 0;     // bytes already accepted by usrsctp (explicit-EOR partial send)
    bool control = false;  // DCEP: always reliable and ordered
    bool counted = false;  // counts toward buffered_amount
    bool started = false;
    uint16_t flags = 0;    // snd_flags fixed when the first piece went out
  };

  void AdvanceClock(Instant now);
  void Pump();
  void ReadAll();
  void HandleNotification(const uint8_t* data, size_t len);
  void HandleData(uint16_t sid, uint32_t ppid, Bytes data);
  void HandleDcep(uint16_t sid, ByteView data);
  void OnAssociationUp(uint16_t in_streams, uint16_t out_streams);
  void OnAssociationDown(const std::string& reason);
  void FlushSendQueue();
  void ProcessResets();
  void MaybeFinishClose(uint16_t sid);
  void Enqueue(uint16_t sid, uint32_t ppid, Bytes data, bool control);
  void QueueOpen(uint16_t sid, Channel& ch);
  void ConfigureSocket();
  bool OurParity(uint16_t sid) const { return (sid % 2 == 0) == is_dtls_client_; }
  bool HasUnackedData() const;

  static int ConnOutput(void* addr, void* buffer, size_t length, uint8_t tos, uint8_t set_df);
  static void Upcall(struct socket* sock, void* arg, int flags);

  const bool is_dtls_client_;
  const uint16_t local_port_, remote_port_;
  void* addr_token_;  // AF_CONN address: a never-reused token, not `this`
  struct socket* sock_ = nullptr;
  State state_ = State::kNew;
  uint64_t remote_max_message_size_ = kDefaultRemoteMaxMessageSize;
  uint16_t max_channels_ = kMaxStreams;
  bool upcall_pending_ = false;
  bool pump_wanted_ = false;  // an API call queued work (PollTimeout then says "now")
  bool in_pump_ = false;

  std::map<uint16_t, Channel> channels_;
  std::deque<Outgoing> send_queue_;
  std::deque<Bytes> outgoing_packets_;
  std::deque<Event> events_;
  std::map<uint16_t, std::pair<uint32_t, Bytes>> partial_in_;  // sid → (ppid, bytes so far)
  std::set<uint16_t> discarding_;  // sids whose current incoming message exceeded the cap
  Bytes notification_partial_;
  uint64_t discarded_oversized_ = 0;
  uint64_t dropped_malformed_ = 0;
};

}  // namespace refrtc::sctp
