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

  // Returns the datagram to hand to mbedTLS: the input unchanged; or, when it completed a
  // fragmented ClientHello, one datagram holding that ClientHello unfragmented (other records of
  // the input follow it); or nullopt when everything in it was buffered.
  std::optional<Bytes> Process(ByteView datagram);

  bool pending() const { return !fragments_.empty(); }

 private:
  void Reset();
  uint16_t message_seq_ = 0;
  uint32_t length_ = 0;
  std::map<uint32_t, Bytes> fragments_;  // offset → bytes
  Bytes record_header_;                  // of the latest fragment's record (13 bytes)
};

}  // namespace refrtc::dtls
