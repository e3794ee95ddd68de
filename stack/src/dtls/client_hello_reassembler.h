// Reassembly of a fragmented DTLS ClientHello before it reaches mbedTLS.
//
// RFC 6347 §4.2.3: a receiver MUST buffer handshake fragments until it has the whole message.
// mbedTLS 2.28's server does not reassemble a fragmented ClientHello (upstream issue
// Mbed-TLS/mbedtls#7549, fixed only in later releases); Chromium ≥ 13x sends a ~1.4 KB
// ClientHello (post-quantum key share) in two fragments, so without this the handshake never
// starts. Everything else (later handshake messages, which mbedTLS reassembles itself, and all
// other records) passes through unchanged.
#pragma once
#include <map>
#include <optional>

#include "util/bytes.h"

namespace refrtc::dtls {

class ClientHelloReassembler {
 public:
  // Largest ClientHello accepted (a real one is < 2 KB; bounded so a peer cannot make us buffer).
  static constexpr size_t kMaxClientHello = 16 * 1024;
  // Bounds on what one partial ClientHello may hold (pion CVE-2022-29190 class: a flood of
  // overlapping fragments must not grow memory without bound). Overlaps are legal (RFC 6347
  // §4.2.3) but a real sender retransmits whole fragments at the same offsets; past either bound
  // the partial message is discarded (the sender's retransmission starts it over).
  static constexpr size_t kMaxFragments = 64;
  static constexpr size_t kMaxBufferedBytes = 2 * kMaxClientHello;

  // Returns the datagram to hand to mbedTLS: the input unchanged; or, when it completed a
  // fragmented ClientHello, one datagram holding that ClientHello unfragmented (other records of
  // the input follow it); or nullopt when everything in it was buffered.
  std::optional<Bytes> Process(ByteView datagram);

  bool pending() const { return !fragments_.empty(); }
  // Bytes held in buffered fragments (never above kMaxBufferedBytes) and their number.
  size_t buffered_bytes() const { return buffered_bytes_; }
  size_t buffered_fragments() const { return fragments_.size(); }

 private:
  void Reset();
  uint16_t message_seq_ = 0;
  uint32_t length_ = 0;
  std::map<uint32_t, Bytes> fragments_;  // offset → bytes
  size_t buffered_bytes_ = 0;            // sum of fragments_ sizes
  Bytes record_header_;                  // of the latest fragment's record (13 bytes)
};

}  // namespace refrtc::dtls
