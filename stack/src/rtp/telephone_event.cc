#include "rtp/telephone_event.h"

#include <algorithm>

#include "absl/status/status.h"

namespace refrtc::rtp {
namespace {

constexpr char kDtmfChars[] = "0123456789*#ABCD";  // RFC 4733 §3.2 Table 3: events 0-15
constexpr size_t kMaxDone = 32;
constexpr uint32_t kMaxSegment = 0xFFFF;  // §2.5.1.3

TelephoneEvent ReadBlock(const uint8_t* b) {
  // §2.3: event (8), E (1), R (1), volume (6), duration (16, network order).
  TelephoneEvent e;
  e.event = b[0];
  e.end = (b[1] & 0x80) != 0;
  e.reserved = (b[1] & 0x40) != 0;
  e.volume = b[1] & 0x3F;
  e.duration = static_cast<uint16_t>(b[2] << 8 | b[3]);
  return e;
}

}  // namespace

absl::StatusOr<TelephoneEvent> ParseTelephoneEvent(ByteView payload) {
  if (payload.size() < kTelephoneEventSize)
    return absl::InvalidArgumentError("telephone-event payload shorter than 4 bytes (RFC 4733 §2.3)");
  return ReadBlock(payload.data());
}

absl::StatusOr<std::vector<TelephoneEvent>> ParseTelephoneEvents(ByteView payload) {
  if (payload.empty() || payload.size() % kTelephoneEventSize != 0)
    return absl::InvalidArgumentError("telephone-event payload is not a whole number of 4-byte blocks");
  std::vector<TelephoneEvent> out;
  out.reserve(payload.size() / kTelephoneEventSize);
  for (size_t i = 0; i < payload.size(); i += kTelephoneEventSize) out.push_back(ReadBlock(payload.data() + i));
  return out;
}

absl::StatusOr<Bytes> SerializeTelephoneEvent(const TelephoneEvent& e) {
  if (e.volume > 63) return absl::InvalidArgumentError("telephone-event volume above 63 (RFC 4733 §2.3.4)");
  Bytes out(kTelephoneEventSize);
  out[0] = e.event;
  out[1] = static_cast<uint8_t>((e.end ? 0x80 : 0) | (e.reserved ? 0x40 : 0) | e.volume);
  out[2] = static_cast<uint8_t>(e.duration >> 8);
  out[3] = static_cast<uint8_t>(e.duration & 0xFF);
  return out;
}

std::optional<char> DtmfEventToChar(uint8_t event) {
  if (event > 15) return std::nullopt;
  return kDtmfChars[event];
}

std::optional<uint8_t> DtmfCharToEvent(char c) {
  if (c >= 'a' && c <= 'd') c = static_cast<char>(c - 'a' + 'A');
  for (uint8_t i = 0; i < 16; ++i)
    if (kDtmfChars[i] == c) return i;
  return std::nullopt;
}

uint64_t TelephoneEventSender::Units(Duration d) const {
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  if (us <= 0) return 0;
  return (static_cast<uint64_t>(us) * clock_rate_ + 500000) / 1000000;
}

TelephoneEventSender::Out TelephoneEventSender::Make(const Active& a, bool end, uint16_t duration, bool marker) const {
  TelephoneEvent e;
  e.event = a.event;
  e.end = end;
  e.volume = volume_;
  e.duration = duration;
  Out o;
  o.payload = SerializeTelephoneEvent(e).value_or(Bytes{});  // volume_ <= 63 (constructor callers)
  o.timestamp = a.segment_timestamp;
  o.marker = marker;
  o.end = end;
  o.timestamp_time = a.start + std::chrono::microseconds(a.segment_start_units * 1000000 / clock_rate_);
  return o;
}

void TelephoneEventSender::EmitWithRepeats(Out o, Instant t, std::vector<Out>& out) {
  // §2.5.1.4: three copies, one update interval apart (same timestamp and duration).
  Out again = o;
  again.marker = false;
  out.push_back(std::move(o));
  for (int i = 1; i <= 2; ++i) {
    Repeat r{t + interval_ * i, again};
    auto it = repeats_.begin();
    while (it != repeats_.end() && it->due <= r.due) ++it;
    repeats_.insert(it, std::move(r));
  }
}

void TelephoneEventSender::EmitSegmentEnds(Active& a, uint64_t elapsed_units, bool strictly_more, Instant t,
                                           std::vector<Out>& out) {
  // §2.5.1.3: a segment is full at 0xFFFF units; the next one starts at timestamp + 0xFFFF.
  while (elapsed_units - a.segment_start_units > kMaxSegment ||
         (!strictly_more && elapsed_units - a.segment_start_units == kMaxSegment)) {
    EmitWithRepeats(Make(a, false, static_cast<uint16_t>(kMaxSegment), !a.first_sent), t, out);
    a.first_sent = true;
    a.segment_start_units += kMaxSegment;
    a.segment_timestamp += kMaxSegment;
  }
}

void TelephoneEventSender::Start(uint8_t event, uint32_t duration_ms, uint32_t rtp_timestamp, Instant now) {
  // Pending repeats of the previous event go out now, ahead of the new event.
  for (auto& r : repeats_) r.due = now;
  if (active_) {
    // An event still playing ends here (E bit with the duration so far, three copies at once).
    Active a = *active_;
    active_.reset();
    const uint64_t elapsed = std::min(a.total_units, Units(now - a.start));
    std::vector<Out> tmp;
    EmitSegmentEnds(a, elapsed, true, now, tmp);
    Out fin = Make(a, true, static_cast<uint16_t>(elapsed - a.segment_start_units), !a.first_sent);
    tmp.push_back(fin);
    fin.marker = false;
    tmp.push_back(fin);
    tmp.push_back(fin);
    for (auto& r : repeats_) r.due = now;
    for (auto& o : tmp) repeats_.push_back(Repeat{now, std::move(o)});
  }
  Active a;
  a.event = event;
  a.start = now;
  a.end = now + std::chrono::milliseconds(duration_ms);
  a.total_units = static_cast<uint64_t>(duration_ms) * clock_rate_ / 1000;
  a.segment_timestamp = rtp_timestamp;
  a.next_update = std::min(now + interval_, a.end);
  active_ = a;
}

std::vector<TelephoneEventSender::Out> TelephoneEventSender::Poll(Instant now) {
  std::vector<Out> out;
  for (;;) {
    const bool repeat_due = !repeats_.empty() && repeats_.front().due <= now;
    const bool update_due = active_ && active_->next_update <= now;
    if (!repeat_due && !update_due) break;
    if (repeat_due && (!update_due || repeats_.front().due <= active_->next_update)) {
      out.push_back(std::move(repeats_.front().out));
      repeats_.pop_front();
      continue;
    }
    Active& a = *active_;
    const Instant t = a.next_update;
    if (t >= a.end) {
      // §2.5.1.4: the final packet, E bit set, with the full duration (of the last segment).
      EmitSegmentEnds(a, a.total_units, true, t, out);
      Out fin = Make(a, true, static_cast<uint16_t>(a.total_units - a.segment_start_units), !a.first_sent);
      active_.reset();
      EmitWithRepeats(std::move(fin), t, out);
      continue;
    }
    // §2.5.1.2: an update with the duration so far.
    const uint64_t elapsed = std::min(a.total_units, Units(t - a.start));
    EmitSegmentEnds(a, elapsed, false, t, out);
    const uint64_t d = elapsed - a.segment_start_units;
    if (d > 0) {
      out.push_back(Make(a, false, static_cast<uint16_t>(d), !a.first_sent));
      a.first_sent = true;
    }
    a.next_update = std::min(t + interval_, a.end);
  }
  return out;
}

std::optional<Instant> TelephoneEventSender::NextDeadline() const {
  std::optional<Instant> t;
  if (active_) t = active_->next_update;
  if (!repeats_.empty() && (!t || repeats_.front().due < *t)) t = repeats_.front().due;
  return t;
}

uint32_t TelephoneEventDecoder::ToMillis(uint64_t units) const {
  return static_cast<uint32_t>((units * 1000 + clock_rate_ / 2) / clock_rate_);
}

bool TelephoneEventDecoder::Done(uint32_t timestamp) const {
  for (uint32_t t : done_)
    if (t == timestamp) return true;
  return false;
}

void TelephoneEventDecoder::MarkDone(uint32_t timestamp) {
  if (Done(timestamp)) return;
  done_.push_back(timestamp);
  while (done_.size() > kMaxDone) done_.pop_front();
}

void TelephoneEventDecoder::Finish(Current& c) {
  Current done = c;
  current_.reset();
  MarkDone(done.first_timestamp);
  MarkDone(done.segment_timestamp);
  if (auto tone = DtmfEventToChar(done.event)) {
    digits_.push_back(ReceivedDigit{*tone, ToMillis(done.previous_segments + done.duration), done.first_timestamp});
  }
}

void TelephoneEventDecoder::OnPacket(uint32_t rtp_timestamp, ByteView payload, Instant now) {
  auto parsed = ParseTelephoneEvent(payload);
  if (!parsed.ok()) {
    ++malformed_;
    return;
  }
  const TelephoneEvent& e = *parsed;
  // §2.5.2.2: the timestamp identifies the event; redundant end packets and late updates of an
  // event already reported are dropped here.
  if (Done(rtp_timestamp)) return;
  if (current_ && rtp_timestamp == current_->segment_timestamp) {
    if (e.event != current_->event) return;  // same timestamp, different event: inconsistent, dropped
    if (e.duration > current_->duration) current_->duration = e.duration;  // reordered updates
    current_->last_packet = now;
    if (e.end) {
      current_->duration = e.duration;  // §2.5.2.3: the end packet has the final duration
      Finish(*current_);
    }
    return;
  }
  // A packet older than the newest event seen (RFC 3550 timestamp arithmetic, modulo 2^32).
  if (newest_timestamp_ && static_cast<int32_t>(rtp_timestamp - *newest_timestamp_) < 0) return;
  if (current_) {
    // §2.5.1.3: the next segment of a long event starts where the previous one (0xFFFF units) ends.
    if (e.event == current_->event && rtp_timestamp - current_->segment_timestamp == kMaxSegment) {
      MarkDone(current_->segment_timestamp);
      current_->previous_segments += kMaxSegment;
      current_->segment_timestamp = rtp_timestamp;
      current_->duration = e.duration;
      current_->last_packet = now;
      newest_timestamp_ = rtp_timestamp;
      if (e.end) Finish(*current_);
      return;
    }
    // A new event while the current one never ended (its end packets were lost): report it with
    // the last duration received.
    Finish(*current_);
  }
  Current c;
  c.event = e.event;
  c.first_timestamp = c.segment_timestamp = rtp_timestamp;
  c.duration = e.duration;
  c.last_packet = now;
  current_ = c;
  newest_timestamp_ = rtp_timestamp;
  if (e.end) Finish(*current_);
}

void TelephoneEventDecoder::HandleTimeout(Instant now) {
  if (current_ && now - current_->last_packet >= kEventTimeout) Finish(*current_);
}

std::optional<Instant> TelephoneEventDecoder::NextDeadline() const {
  if (!current_) return std::nullopt;
  return current_->last_packet + kEventTimeout;
}

std::optional<ReceivedDigit> TelephoneEventDecoder::PollDigit() {
  if (digits_.empty()) return std::nullopt;
  ReceivedDigit d = digits_.front();
  digits_.pop_front();
  return d;
}

}  // namespace refrtc::rtp
