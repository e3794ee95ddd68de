#include "media/video_frame_buffer.h"

#include <algorithm>

namespace refrtc::media::internal {
namespace {
// RFC 4585 §6.3.1 PLI: when no key frame arrived this long after the first packet, and at most one
// request per kRequestInterval.
constexpr Duration kKeyframeWait = std::chrono::milliseconds(500);
constexpr Duration kRequestInterval = std::chrono::milliseconds(300);
}  // namespace

bool VideoFrameBufferSink::TakeKeyframeRequest() {
  bool r = request_pending_;
  request_pending_ = false;
  return r;
}

TrackInfo VideoFrameBufferSink::Info() const {
  TrackInfo info;
  info.kind = MediaKind::kVideo;
  info.frames_received = frames_received_;
  info.frames_decoded = frames_decoded_;
  info.keyframes_received = keyframes_received_;
  info.frames_dropped = frames_dropped_;
  info.width = width_;
  info.height = height_;
  return info;
}

void VideoFrameBufferSink::Hold(uint16_t seq, HeldVideoPacket packet, Instant now) {
  if (!first_packet_) first_packet_ = now;
  const int64_t ext = unwrapper_.Unwrap(seq);
  if (next_seq_ && ext < *next_seq_) return;  // late, or a duplicate of a consumed packet
  if (buffer_.count(ext) == 0) {
    if (buffer_.size() >= kMaxHeldPackets) GiveUp();
    packet.arrival = now;
    buffer_[ext] = std::move(packet);
    Process(now);
  }
  UpdateKeyframeRequest(now);
}

std::optional<VideoFrameBufferSink::Iter> VideoFrameBufferSink::FrameEnd(Iter first) {
  Iter it = first;
  while (true) {
    if (it->second.filler) return std::nullopt;  // never inside a frame
    if (it->second.marker) return it;
    Iter next = std::next(it);
    if (next == buffer_.end() || next->first != it->first + 1) return std::nullopt;
    if (next->second.timestamp != first->second.timestamp) {
      if (next->second.start) return it;  // the marker was not set, the next frame started
      return std::nullopt;
    }
    it = next;
  }
}

bool VideoFrameBufferSink::LaterFrameComplete() {
  Iter from = buffer_.begin();
  // The front is the frame expected next (or, before the first frame, the candidate start).
  if (!next_seq_ || from->first == *next_seq_) ++from;
  for (Iter it = from; it != buffer_.end(); ++it) {
    if (it->second.start && FrameEnd(it)) return true;
  }
  return false;
}

bool VideoFrameBufferSink::SkipFrontFiller() {
  Iter front = buffer_.begin();
  if (!front->second.filler || (next_seq_ && front->first != *next_seq_)) return false;
  if (next_seq_) ++*next_seq_;
  buffer_.erase(front);
  return true;
}

Instant VideoFrameBufferSink::OldestArrival() const {
  Instant oldest = buffer_.begin()->second.arrival;
  for (const auto& [s, p] : buffer_) oldest = std::min(oldest, p.arrival);
  return oldest;
}

bool VideoFrameBufferSink::KeepWaiting(Instant now) {
  const Duration age = now - OldestArrival();
  if (retransmissions_expected_) return age < kRetransmissionHoldTime && buffer_.size() <= kMaxHeldPackets;
  return age < kHoldTime && !LaterFrameComplete();
}

void VideoFrameBufferSink::GiveUp() {
  if (buffer_.empty()) return;
  Iter front = buffer_.begin();
  if (!next_seq_) {
    buffer_.erase(front);  // a packet of a frame whose start we never saw
    return;
  }
  if (front->first != *next_seq_) {
    // Skip the missing packets; whether they carried a frame the next one depends on is decided
    // when that frame arrives (the codec's continuity check), since padding gets lost too.
    next_seq_ = front->first;
    gap_unverified_ = true;
    OnGapSkipped();
    return;
  }
  DropFrontFrame();
}

void VideoFrameBufferSink::DropFrontFrame() {
  Iter front = buffer_.begin();
  const uint32_t ts = front->second.timestamp;
  int64_t last = front->first;
  while (!buffer_.empty()) {
    Iter it = buffer_.begin();
    if (it->second.start && it->second.timestamp != ts) break;
    last = it->first;
    buffer_.erase(it);
  }
  next_seq_ = buffer_.empty() ? last + 1 : buffer_.begin()->first;
  OnFrameLost();
}

void VideoFrameBufferSink::Consume(Iter begin, Iter end) {
  const int64_t last = std::prev(end)->first;
  buffer_.erase(begin, end);
  next_seq_ = last + 1;
}

void VideoFrameBufferSink::OnFrameLost() {
  gap_unverified_ = false;
  ++frames_dropped_;
  waiting_for_key_ = true;
  loss_pending_ = true;
}

void VideoFrameBufferSink::OnKeyframe(uint32_t width, uint32_t height) {
  ++keyframes_received_;
  width_ = width;
  height_ = height;
  waiting_for_key_ = false;
}

// RFC 4585 §6.3.1 PLI: after a lost frame, or while no key frame arrived kKeyframeWait after the
// first packet; at most one request per kRequestInterval.
void VideoFrameBufferSink::UpdateKeyframeRequest(Instant now) {
  const bool want = loss_pending_ || (waiting_for_key_ && first_packet_ && now - *first_packet_ >= kKeyframeWait);
  if (!want) return;
  if (last_request_ && now - *last_request_ < kRequestInterval) return;
  request_pending_ = true;
  loss_pending_ = false;
  last_request_ = now;
}

}  // namespace refrtc::media::internal
