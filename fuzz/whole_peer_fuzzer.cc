// The stateful whole-peer fuzzer (issue F): two RTCPeerConnections in the virtual-time network
// (fixed clock and seeds, so an input replays exactly), brought to a start state the input picks,
// then driven by a stream of operations from the input: API calls, datagrams injected into either
// engine (garbage, or a mutated copy of a datagram seen on the wire), link loss/duplication/
// reordering switched on and off, and time advanced. After every operation:
//   - nothing crashed (ASan/UBSan) and the engines' own consistency checks held;
//   - every message received on a channel is one that was sent on it (never corrupted), and on a
//     reliable ordered channel the received messages are exactly a prefix of the sent ones, in order.
// At the end, when nothing that may legitimately end the session happened (close, ICE restart, a
// mutated description applied), the network is healed and every message sent on a reliable
// channel that is still open at both ends must arrive (no lost data).
//
// Input: [start state][ops...]; each op is [opcode][arg][len][bytes: len].
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "refrtc/media_stream_track.h"
#include "refrtc/rtc_peer_connection.h"
#include "testing/virtual_network.h"

using namespace refrtc;

namespace {

SocketAddress Addr(const char* ip, uint16_t port) { return *SocketAddress::Parse(ip, port); }

[[noreturn]] void Violation(const std::string& what) {
  std::fprintf(stderr, "whole_peer_fuzzer invariant violated: %s\n", what.c_str());
  std::abort();
}

// What was sent and received on one channel (both ends may send; index = the sending side).
struct ChannelLog {
  bool reliable_ordered = false, reliable = false;
  std::vector<std::string> sent[2];      // sent by side i
  std::vector<std::string> received[2];  // sent by side i, received at the other end
};

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string Bytes(size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

class Harness {
 public:
  Harness() : net_(7) {
    // One certificate per side for every input (key generation under the sanitizers would cost
    // more than the rest of a run; the DTLS handshake itself still runs every time).
    static const std::shared_ptr<RTCCertificate> certs[2] = {*RTCCertificate::Generate(1, 1764000000),
                                                            *RTCCertificate::Generate(2, 1764000000)};
    for (int i = 0; i < 2; ++i) {
      RTCEngineOptions options{uint64_t(100 + i), 1764000000};
      RTCConfiguration config;
      config.certificates = {certs[i]};
      pcs_[i] = std::move(*RTCPeerConnection::Create(config, options));
      pcs_[i]->SetTime(net_.now());
    }
    net_.AddEndpoint(pcs_[0].get(), {addr_[0]});
    net_.AddEndpoint(pcs_[1].get(), {addr_[1]});
    net_.SetPacketTap([this](const Transmit& t, Instant) {
      if (wire_.size() < 64) wire_.push_back(t);
    });
  }

  // --- start states ---
  void Negotiate(int offerer) {
    RTCPeerConnection& o = *pcs_[offerer];
    RTCPeerConnection& a = *pcs_[1 - offerer];
    Sync();
    auto offer = o.createOffer();
    if (!offer.ok() || !o.setLocalDescription(*offer).ok()) return;
    if (!a.setRemoteDescription(*offer).ok()) return;
    auto answer = a.createAnswer();
    if (!answer.ok() || !a.setLocalDescription(*answer).ok()) return;
    (void)o.setRemoteDescription(*answer);
    Pump();
  }
  // In-band (DCEP) on `side`; a negotiated channel is created on both sides with the same id.
  void CreateChannel(int side, const std::string& label, const RTCDataChannelInit& init) {
    Sync();
    auto ch = pcs_[side]->createDataChannel(label, init);
    if (!ch.ok()) return;
    if (init.negotiated) {
      auto twin = pcs_[1 - side]->createDataChannel(label, init);
      if (!twin.ok()) {
        (*ch)->close();
        return;
      }
      remote_[1 - side][label] = *twin;
    }
    ChannelLog& log = logs_[label];
    log.reliable = !init.maxPacketLifeTime && !init.maxRetransmits;
    log.reliable_ordered = log.reliable && init.ordered;
    local_[side][label] = *ch;
  }
  void Run(Duration d) {
    Pump();
    net_.RunUntil(
        [&] {
          Pump();
          return false;
        },
        d);
    Pump();
  }
  bool BothOpen(const std::string& label) {
    for (int i = 0; i < 2; ++i) {
      auto it = local_[i].find(label);
      auto rt = remote_[i].find(label);
      bool open = (it != local_[i].end() && it->second->readyState() == RTCDataChannelState::kOpen) ||
                  (rt != remote_[i].end() && rt->second->readyState() == RTCDataChannelState::kOpen);
      if (!open) return false;
    }
    return true;
  }

  // --- operations ---
  void Op(uint8_t code, uint8_t arg, const std::string& bytes) {
    const int side = arg & 1;
    Sync();
    switch (code % 14) {
      case 0:  // time passes
        Run(std::chrono::milliseconds(1 + (arg * 20)));
        break;
      case 1: {  // a new channel
        RTCDataChannelInit init;
        init.ordered = !(arg & 2);
        if (arg & 4) init.maxRetransmits = arg >> 5;
        else if (arg & 8) init.maxPacketLifeTime = uint16_t(arg) * 10;
        if (arg & 16) {
          // Far above the ids DCEP channels get here (even/odd from 0 by DTLS role), so a
          // negotiated pair never collides with an in-band channel.
          init.negotiated = true;
          init.id = uint16_t(512 + (arg >> 2));
        }
        CreateChannel(side, "c" + std::to_string(next_label_++), init);
        break;
      }
      case 2:
      case 3: {  // a message on some channel of `side` (created or received)
        auto* ch = PickChannel(side, arg >> 1);
        if (!ch) break;
        std::string payload = std::to_string(sent_count_++) + ":" + bytes;
        absl::Status st = (code & 1) ? (*ch)->sendBinary(ByteView(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()))
                                     : (*ch)->send(payload);
        if (st.ok()) logs_[(*ch)->label()].sent[side].push_back(payload);
        break;
      }
      case 4: {  // a garbage datagram into `side` from the peer's address
        Inject(side, bytes);
        break;
      }
      case 5: {  // a mutated copy of a datagram seen on the wire, into its destination
        if (wire_.empty()) break;
        Transmit t = wire_[arg % wire_.size()];
        std::string p(t.data.begin(), t.data.end());
        for (size_t i = 0; i + 1 < bytes.size() && !p.empty(); i += 2) p[uint8_t(bytes[i]) % p.size()] ^= bytes[i + 1];
        if (bytes.size() & 1 && !p.empty()) p.resize(uint8_t(bytes.back()) % p.size());
        for (int i = 0; i < 2; ++i)
          if (t.to == addr_[i]) Inject(i, p, t.from);
        break;
      }
      case 6: {  // impairments on both directions
        testing::LinkConfig link;
        link.loss = (arg & 3) * 0.1;
        link.duplicate = (arg & 4) ? 0.2 : 0;
        link.reorder = (arg & 8) ? 0.3 : 0;
        link.delay = std::chrono::milliseconds((arg >> 4) * 5);
        link.jitter = std::chrono::milliseconds(arg & 32 ? 20 : 0);
        net_.SetDefaultLink(link);
        break;
      }
      case 7:  // renegotiation from either side
        Negotiate(side);
        break;
      case 8:  // an offer applied remotely with a mutated body, then rolled back or answered
      {
        Sync();
        auto offer = pcs_[side]->createOffer();
        if (!offer.ok()) break;
        std::string sdp = offer->sdp;
        for (size_t i = 0; i + 1 < bytes.size() && !sdp.empty(); i += 2) sdp[(uint8_t(bytes[i]) * 7) % sdp.size()] = bytes[i + 1];
        RTCSessionDescriptionInit mutated{RTCSdpType::kOffer, sdp};
        RTCPeerConnection& other = *pcs_[1 - side];
        if (other.setRemoteDescription(mutated).ok()) {
          disturbed_ = true;  // a mutated description may legitimately tear the session down
          if (arg & 2) {
            (void)other.setRemoteDescription(RTCSessionDescriptionInit{RTCSdpType::kRollback, ""});
          } else {
            auto answer = other.createAnswer();
            if (answer.ok()) (void)other.setLocalDescription(*answer);
          }
        }
        break;
      }
      case 9:  // ICE restart
        pcs_[side]->restartIce();
        disturbed_ = true;
        Negotiate(side);
        break;
      case 10: {  // close a channel
        auto* ch = PickChannel(side, arg >> 1);
        if (ch) (*ch)->close();
        break;
      }
      case 11: {  // media: an audio transceiver with a synthetic source (video would spend the
                  // fuzzer's time in the VP8 encoder, which is libvpx's, not ours)
        auto track = MediaStreamTrack::CreateSynthetic((arg & 2) ? "silence" : "tone:440", "t" + std::to_string(arg));
        if (!track.ok()) break;
        auto t = pcs_[side]->addTransceiver(*track, RTCRtpTransceiverInit{});
        // PCMU (G.711) unless arg says Opus: libopus under the sanitizers would take most of the
        // fuzzer's time; the RTP/RTCP/SRTP paths are the same.
        if (t.ok() && !(arg & 4)) {
          for (const auto& c : RTCPeerConnection::getCapabilities("audio"))
            if (c.mimeType == "audio/PCMU") (void)(*t)->setCodecPreferences({c});
        }
        break;
      }
      case 12:  // bufferedAmountLowThreshold / binaryType churn
        if (auto* ch = PickChannel(side, arg >> 1)) (*ch)->setBufferedAmountLowThreshold(uint64_t(arg) << 8);
        break;
      case 13:  // a peer connection closed
        if (arg > 240) {
          pcs_[side]->close();
          disturbed_ = true;
        }
        break;
    }
    Pump();
    Check();
  }

  // The end: heal the network; reliable data still in flight on channels open at both ends
  // must arrive.
  void Finish() {
    if (disturbed_) return;
    net_.SetDefaultLink(testing::LinkConfig{});
    Sync();
    for (auto& pc : pcs_)  // media stops (no renegotiation needed): the final run is about data
      for (auto& sender : pc->getSenders()) (void)sender->replaceTrack(nullptr);
    Run(std::chrono::seconds(25));  // > 2 × the SCTP RTO ceiling (10 s, sctp_transport.cc): every retransmission fires
    for (auto& [label, log] : logs_) {
      if (!log.reliable || !BothOpen(label)) continue;
      for (int from = 0; from < 2; ++from) {
        if (log.received[from].size() != log.sent[from].size())
          Violation("channel " + label + ": " + std::to_string(log.sent[from].size()) + " reliable messages sent, " +
                    std::to_string(log.received[from].size()) + " received");
      }
    }
  }

 private:
  void Sync() {
    for (auto& pc : pcs_) pc->SetTime(net_.now());
  }
  void Inject(int side, const std::string& bytes, std::optional<SocketAddress> from = std::nullopt) {
    pcs_[side]->HandleReceive(ByteView(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), addr_[side],
                              from.value_or(addr_[1 - side]), net_.now());
    net_.Flush();
  }
  std::shared_ptr<RTCDataChannel>* PickChannel(int side, int index) {
    std::vector<std::shared_ptr<RTCDataChannel>*> all;
    for (auto& [l, c] : local_[side]) all.push_back(&c);
    for (auto& [l, c] : remote_[side]) all.push_back(&c);
    if (all.empty()) return nullptr;
    return all[index % all.size()];
  }

  // Moves candidates (trickle) and records channel events.
  void Pump() {
    for (int i = 0; i < 2; ++i) {
      pcs_[i]->SetTime(net_.now());
      while (auto ev = pcs_[i]->PollEvent()) {
        RTCPeerConnection& other = *pcs_[1 - i];
        switch (ev->type) {
          case RTCEventType::kIceCandidate:
            if (ev->candidate && other.remoteDescription()) {
              other.SetTime(net_.now());
              (void)other.addIceCandidate(*ev->candidate);
            }
            break;
          case RTCEventType::kDataChannel:
            if (ev->channel) remote_[i][ev->channel->label()] = ev->channel;
            break;
          case RTCEventType::kChannelMessage: {
            if (!ev->channel) break;
            auto it = logs_.find(ev->channel->label());
            if (it == logs_.end()) break;  // a channel the fuzzer did not log (e.g. negotiated id clash)
            it->second.received[1 - i].emplace_back(ev->data.begin(), ev->data.end());
            break;
          }
          default:
            break;
        }
      }
    }
    net_.Flush();
  }

  void Check() {
    for (auto& pc : pcs_) pc->CheckInvariants();
    for (auto& [label, log] : logs_) {
      for (int from = 0; from < 2; ++from) {
        const auto& sent = log.sent[from];
        const auto& received = log.received[from];
        if (log.reliable_ordered) {
          // RFC 8831 §6.6 / RFC 4960: reliable ordered delivery is exactly the sent sequence.
          if (received.size() > sent.size()) Violation("channel " + label + ": more messages received than sent");
          for (size_t k = 0; k < received.size(); ++k)
            if (received[k] != sent[k]) Violation("channel " + label + ": message " + std::to_string(k) + " differs");
        } else {
          // Unordered or partially reliable: any subset, but each exactly as sent and at most once.
          std::map<std::string, int> counts;
          for (const auto& m : sent) ++counts[m];
          for (const auto& r : received)
            if (--counts[r] < 0) Violation("channel " + label + ": received a message not sent (or twice)");
        }
      }
    }
  }

  testing::VirtualNetwork net_;
  SocketAddress addr_[2] = {Addr("198.51.100.1", 4000), Addr("198.51.100.2", 5000)};
  std::unique_ptr<RTCPeerConnection> pcs_[2];
  std::map<std::string, std::shared_ptr<RTCDataChannel>> local_[2], remote_[2];
  std::map<std::string, ChannelLog> logs_;
  std::vector<Transmit> wire_;
  uint64_t sent_count_ = 0;
  int next_label_ = 0;
  bool disturbed_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  Harness h;
  // Start states: 0 fresh; 1 a data channel negotiated; 2 + the channel open; 3 + audio flowing.
  const uint8_t start = in.Byte() % 4;
  if (start >= 1) {
    RTCDataChannelInit init;
    h.CreateChannel(0, "start", init);
    if (start == 3) h.Op(11, 0, "");  // an audio transceiver with a tone
    h.Negotiate(0);
  }
  if (start >= 2) h.Run(std::chrono::seconds(2));
  int ops = 0;
  while (!in.empty() && ops++ < 48) {
    uint8_t code = in.Byte(), arg = in.Byte(), len = in.Byte();
    h.Op(code, arg, in.Bytes(len));
  }
  h.Finish();
  return 0;
}
