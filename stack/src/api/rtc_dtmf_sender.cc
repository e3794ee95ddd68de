// W3C webrtc-pc §7 RTCDTMFSender: insertDTMF (§7.2 steps), "determine if DTMF can be sent", the
// Playout task on the peer connection's time, and the refrtc received-digit events.
#include "refrtc/rtc_dtmf_sender.h"

#include <algorithm>
#include <vector>

#include "api/media_session.h"
#include "refrtc/rtc_peer_connection.h"
#include "refrtc/rtc_rtp_sender.h"
#include "refrtc/rtc_rtp_transceiver.h"
#include "util/dom_exception.h"

namespace refrtc {
namespace {

constexpr uint32_t kMinDuration = 40, kMaxDuration = 6000;  // §7.2 insertDTMF steps 10-11
constexpr uint32_t kMinGap = 30, kMaxGap = 6000;             // §7.2 insertDTMF steps 12-13
constexpr Duration kCommaPause = std::chrono::milliseconds(2000);

bool Sends(const std::optional<RTCRtpTransceiverDirection>& d) {
  return d == RTCRtpTransceiverDirection::kSendrecv || d == RTCRtpTransceiverDirection::kSendonly;
}

}  // namespace

std::shared_ptr<RTCDTMFSender> RTCRtpSender::dtmf() const {
  // §7.1 / §5.2 "create an RTCRtpSender" step: [[Dtmf]] is an RTCDTMFSender when kind is "audio".
  if (!dtmf_ && transceiver_ && transceiver_->kind() == "audio")
    dtmf_ = std::shared_ptr<RTCDTMFSender>(new RTCDTMFSender(const_cast<RTCRtpSender*>(this)));
  return dtmf_;
}

bool RTCDTMFSender::canInsertDTMF() const {
  // §7.2 "determine if DTMF can be sent".
  const RTCRtpTransceiver* t = sender_->transceiver_;
  const RTCPeerConnection* pc = sender_->pc_;
  if (!t || !pc || pc->is_closed_ || !pc->media_) return false;
  if (pc->connection_state_ != RTCPeerConnectionState::kConnected) return false;  // step 4
  if (t->stopping_ || t->stopped_) return false;                                  // step 5
  if (!sender_->track_) return false;                                             // step 6
  if (!Sends(t->current_direction_)) return false;                                // step 7
  if (!sender_->encodings_.empty() && !sender_->encodings_.front().active) return false;  // step 8
  return pc->media_->DtmfPayloadType(t).has_value();                              // step 9
}

absl::Status RTCDTMFSender::insertDTMF(const std::string& tones, uint32_t duration, uint32_t interToneGap) {
  const RTCRtpTransceiver* t = sender_->transceiver_;
  RTCPeerConnection* pc = sender_->pc_;
  if (!t || !pc) return InvalidStateError("insertDTMF: the sender has no peer connection");
  // Steps 4-6.
  if (t->stopping_ || t->stopped_) return InvalidStateError("insertDTMF: the transceiver is stopping or stopped");
  if (!Sends(t->current_direction_))
    return InvalidStateError("insertDTMF: the transceiver's currentDirection is not sendrecv or sendonly");
  if (!canInsertDTMF()) return InvalidStateError("insertDTMF: DTMF cannot be sent (canInsertDTMF is false)");
  // Steps 7-8: 0-9 A-D # * , ; a-d normalised to upper case.
  std::string buffer;
  buffer.reserve(tones.size());
  for (char c : tones) {
    if (c >= 'a' && c <= 'd') c = static_cast<char>(c - 'a' + 'A');
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'D') || c == '#' || c == '*' || c == ',';
    if (!ok) return InvalidCharacterError(std::string("insertDTMF: unrecognized character in tones: '") + c + "'");
    buffer.push_back(c);
  }
  // Steps 9-15.
  tone_buffer_ = std::move(buffer);
  duration_ = std::min(std::max(duration, kMinDuration), kMaxDuration);
  inter_tone_gap_ = std::min(std::max(interToneGap, kMinGap), kMaxGap);
  // Step 16: an empty buffer ends here (a scheduled Playout task then fires tonechange("")).
  if (tone_buffer_.empty()) return absl::OkStatus();
  // Step 17: queue the Playout task unless one is scheduled.
  if (!playout_task_) playout_task_ = pc->now_;
  return absl::OkStatus();
}

void RTCPeerConnection::RunDtmfTasks() {
  for (const auto& tp : std::vector<std::shared_ptr<RTCRtpTransceiver>>(transceivers_)) {
    RTCRtpTransceiver& t = *tp;
    const auto& sender = t.sender_;
    if (!sender || !sender->dtmf_) continue;
    RTCDTMFSender& dtmf = *sender->dtmf_;
    if (!dtmf.playout_task_ || *dtmf.playout_task_ > now_) continue;
    // §7.2 Playout task.
    dtmf.playout_task_.reset();
    if (t.stopping_ || t.stopped_ || !Sends(t.current_direction_)) continue;  // steps 1-2
    RTCEvent e{RTCEventType::kToneChange};
    e.sender = sender;
    if (dtmf.tone_buffer_.empty()) {  // step 3
      Emit(std::move(e));
      continue;
    }
    const char tone = dtmf.tone_buffer_.front();  // step 4
    dtmf.tone_buffer_.erase(0, 1);
    if (tone == ',') {
      dtmf.playout_task_ = now_ + kCommaPause;  // step 5
    } else {
      // Step 6: RFC 4733 events on the sender's audio stream (not sent when the stream cannot; the
      // task still runs so the events keep their timing).
      if (media_) media_->StartDtmfTone(&t, tone, dtmf.duration_, now_);
      dtmf.playout_task_ = now_ + std::chrono::milliseconds(dtmf.duration_ + dtmf.inter_tone_gap_);
    }
    e.state = std::string(1, tone);  // step 7
    Emit(std::move(e));
  }
}

std::optional<Instant> RTCPeerConnection::DtmfTimeout() const {
  std::optional<Instant> t;
  for (const auto& tp : transceivers_) {
    const auto& sender = tp->sender_;
    if (!sender || !sender->dtmf_ || !sender->dtmf_->playout_task_) continue;
    if (!t || *sender->dtmf_->playout_task_ < *t) t = sender->dtmf_->playout_task_;
  }
  return t;
}

void RTCPeerConnection::PumpReceivedDtmf() {
  if (!media_) return;
  while (auto d = media_->PollReceivedDtmf()) {
    RTCEvent e{RTCEventType::kDtmfReceived};
    for (const auto& tp : transceivers_)
      if (tp.get() == d->t) e.transceiver = tp;
    if (!e.transceiver) continue;
    e.state = std::string(1, d->tone);
    e.duration_ms = d->duration_ms;
    Emit(std::move(e));
  }
}

}  // namespace refrtc
