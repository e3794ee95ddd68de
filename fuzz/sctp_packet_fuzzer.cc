// Arbitrary bytes into an established usrsctp association (RFC 8261 SCTP over DTLS, after DTLS
// decryption) via sctp::Transport::HandlePacket. A peer Transport in memory keeps the
// association alive; if an input kills it, the pair is rebuilt.
//
// Input: first byte selects the mode.
//   even: the rest is delivered as-is (exercises header/CRC rejection);
//   odd:  the rest becomes the chunks of a packet with a valid common header (ports and the
//         verification tag of the live association) and a correct CRC32c, so the chunk
//         parsers of usrsctp and our DCEP/notification/reassembly handling are reached;
//         with bit 1 set too, the verification tag is 0 as an INIT requires (RFC 4960 §8.5.1):
//         this reaches the INIT parser on a live association (usrsctp 0.9.5 hung on a
//         zero-length INIT parameter there — corpus seed init_zero_length_param).
#include <usrsctp.h>

#include <cstdint>
#include <cstring>
#include <memory>

#include "sctp/sctp_transport.h"

namespace {
using refrtc::Bytes;
using refrtc::Instant;
using namespace refrtc::sctp;

Instant now = Instant{} + std::chrono::seconds(1000);

struct Pair {
  std::unique_ptr<Transport> a{new Transport(true)};
  std::unique_ptr<Transport> b{new Transport(false)};
  Bytes header;  // 12-byte common header of a b→a packet (carries a's verification tag)
  refrtc::StreamId channel;

  void Drain() {
    while (a->PollEvent()) {
    }
    while (b->PollEvent()) {
    }
  }
  void Run(int rounds) {
    for (int i = 0; i < rounds; ++i) {
      bool moved = false;
      while (auto p = a->PollOutgoing()) {
        moved = true;
        b->HandlePacket(*p, now);
      }
      while (auto p = b->PollOutgoing()) {
        moved = true;
        if (p->size() >= 12) header.assign(p->begin(), p->begin() + 12);
        a->HandlePacket(*p, now);
      }
      if (!moved) {
        now += std::chrono::milliseconds(10);
        a->HandleTimeout(now);
        b->HandleTimeout(now);
      }
      Drain();
    }
  }
  bool Setup() {
    a->SetRemoteMaxMessageSize(0);
    b->SetRemoteMaxMessageSize(0);
    if (!a->Start(now).ok() || !b->Start(now).ok()) return false;
    Run(50);
    if (!a->association_up() || !b->association_up()) return false;
    auto id = a->OpenChannel(ChannelInit{}, std::nullopt, now);
    if (!id.ok()) return false;
    channel = *id;
    (void)b->Send(*id, refrtc::AsBytes("warm-up"), false, now);
    Run(20);
    return header.size() == 12;
  }
};

std::unique_ptr<Pair> pair;

void Ensure() {
  if (pair && pair->a->association_up() && pair->b->association_up()) return;
  pair.reset();
  pair = std::make_unique<Pair>();
  if (!pair->Setup()) std::abort();  // the in-memory handshake must always work
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 4096) return 0;
  Ensure();
  Bytes packet;
  if (data[0] & 1) {
    packet = pair->header;
    packet.insert(packet.end(), data + 1, data + size);
    if (data[0] & 2) std::memset(packet.data() + 4, 0, 4);
    std::memset(packet.data() + 8, 0, 4);
    // usrsctp_crc32c returns the value laid out for a direct store into the header.
    uint32_t crc = usrsctp_crc32c(packet.data(), packet.size());
    std::memcpy(packet.data() + 8, &crc, 4);
  } else {
    packet.assign(data + 1, data + size);
  }
  pair->a->HandlePacket(packet, now);
  pair->Run(3);
  // Keep using the association so that state changes caused by the input are exercised.
  if (pair->a->association_up()) {
    (void)pair->a->Send(pair->channel, refrtc::AsBytes("ping"), false, now);
    pair->Run(2);
  }
  return 0;
}
