#include "dtls/client_hello_reassembler.h"

namespace refrtc::dtls {
namespace {
constexpr uint8_t kContentHandshake = 22;
constexpr uint8_t kClientHello = 1;
constexpr size_t kRecordHeader = 13;     // RFC 6347 §4.1: type, version, epoch, seq(48), length
constexpr size_t kHandshakeHeader = 12;  // RFC 6347 §4.2.2: type, length(24), seq, offset(24), frag_len(24)

uint32_t U24(const uint8_t* p) { return static_cast<uint32_t>(p[0]) << 16 | p[1] << 8 | p[2]; }
void PutU24(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 16);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v);
}
}  // namespace

void ClientHelloReassembler::Reset() {
  fragments_.clear();
  buffered_bytes_ = 0;
  record_header_.clear();
  length_ = 0;
  message_seq_ = 0;
}

std::optional<Bytes> ClientHelloReassembler::Process(ByteView datagram) {
  Bytes passthrough;  // records that are not ClientHello fragments, in order
  std::optional<Bytes> completed;
  bool buffered_any = false;
  size_t pos = 0;
  while (pos + kRecordHeader <= datagram.size()) {
    const uint8_t* rec = datagram.data() + pos;
    size_t len = static_cast<size_t>(rec[11]) << 8 | rec[12];
    if (pos + kRecordHeader + len > datagram.size()) break;  // truncated: leave it to mbedTLS
    const uint8_t* body = rec + kRecordHeader;
    uint16_t epoch = static_cast<uint16_t>(rec[3] << 8 | rec[4]);
    bool is_ch_fragment = false;
    if (rec[0] == kContentHandshake && epoch == 0 && len >= kHandshakeHeader && body[0] == kClientHello) {
      uint32_t total = U24(body + 1);
      uint16_t seq = static_cast<uint16_t>(body[4] << 8 | body[5]);
      uint32_t offset = U24(body + 6);
      uint32_t frag_len = U24(body + 9);
      bool whole = offset == 0 && frag_len == total;
      bool sane = frag_len == len - kHandshakeHeader && static_cast<uint64_t>(offset) + frag_len <= total &&
                  total <= kMaxClientHello;
      if (!whole && sane && frag_len == 0) {
        // A zero-length fragment of a non-empty ClientHello carries nothing: dropped, neither
        // buffered nor handed to mbedTLS (which cannot reassemble ClientHellos anyway).
        buffered_any = true;
        pos += kRecordHeader + len;
        continue;
      }
      if (!whole && sane) {
        is_ch_fragment = true;
        if (fragments_.empty() || seq != message_seq_ || total != length_) {
          Reset();
          message_seq_ = seq;
          length_ = total;
        }
        // Memory bound (see the header): replacing a fragment at the same offset frees the old one.
        auto existing = fragments_.find(offset);
        size_t replaced = existing == fragments_.end() ? 0 : existing->second.size();
        size_t count = fragments_.size() + (existing == fragments_.end() ? 1 : 0);
        if (count > kMaxFragments || buffered_bytes_ - replaced + frag_len > kMaxBufferedBytes) {
          Reset();  // this fragment is dropped with the partial message
          buffered_any = true;  // consumed: not passed through either
          pos += kRecordHeader + len;
          continue;
        }
        buffered_bytes_ = buffered_bytes_ - replaced + frag_len;
        fragments_[offset] = Bytes(body + kHandshakeHeader, body + kHandshakeHeader + frag_len);
        // The reassembled record carries the record header of the first fragment (offset 0):
        // mbedTLS echoes the ClientHello's record sequence number in its ServerHello
        // (RFC 6347 §4.2.1) and the client's replay window expects the earliest one.
        if (offset == 0 || record_header_.empty()) record_header_.assign(rec, rec + kRecordHeader);
        buffered_any = true;
        // Complete when the fragments cover [0, total) (overlaps allowed, RFC 6347 §4.2.3).
        uint32_t covered = 0;
        for (const auto& [off, bytes] : fragments_) {
          if (off > covered) break;
          covered = std::max<uint32_t>(covered, off + static_cast<uint32_t>(bytes.size()));
        }
        if (covered >= length_) {
          Bytes hello(length_);
          for (const auto& [off, bytes] : fragments_)
            std::copy(bytes.begin(), bytes.begin() + std::min<size_t>(bytes.size(), length_ - off),
                      hello.begin() + off);
          Bytes out(record_header_);
          size_t rec_len = kHandshakeHeader + length_;
          out[11] = static_cast<uint8_t>(rec_len >> 8);
          out[12] = static_cast<uint8_t>(rec_len);
          out.push_back(kClientHello);
          out.resize(out.size() + 3);
          PutU24(out.data() + out.size() - 3, length_);
          out.push_back(static_cast<uint8_t>(message_seq_ >> 8));
          out.push_back(static_cast<uint8_t>(message_seq_));
          out.resize(out.size() + 6);
          PutU24(out.data() + out.size() - 6, 0);
          PutU24(out.data() + out.size() - 3, length_);
          out.insert(out.end(), hello.begin(), hello.end());
          completed = std::move(out);
          Reset();
        }
      }
    }
    if (!is_ch_fragment) passthrough.insert(passthrough.end(), rec, rec + kRecordHeader + len);
    pos += kRecordHeader + len;
  }
  if (!buffered_any) return Bytes(datagram.begin(), datagram.end());
  if (pos < datagram.size()) passthrough.insert(passthrough.end(), datagram.begin() + pos, datagram.end());
  if (completed) {
    completed->insert(completed->end(), passthrough.begin(), passthrough.end());
    return completed;
  }
  if (passthrough.empty()) return std::nullopt;
  return passthrough;
}

}  // namespace refrtc::dtls
