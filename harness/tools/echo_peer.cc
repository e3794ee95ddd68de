// refrtc_echo_peer: a native refrtc peer that answers one offer and echoes data-channel messages.
// It is the far end of wasm/examples/connect-native.mjs and of the npm package's install test
// (wasm/tests/pack_install.sh); it also shows the smallest host loop around the sans-IO
// RTCPeerConnection (stack/io/event_loop.h), without the DRIVER_PROTOCOL machinery.
//
// Protocol (non-trickle, one JSON object per line):
//   stdin  ← {"type":"offer","sdp":"..."}   (an RTCSessionDescriptionInit; nothing else is read)
//   stdout → {"type":"answer","sdp":"..."}  (localDescription once ICE gathering is complete, so
//                                            it carries every candidate)
// Then every message received on any data channel (offerer-created, i.e. "datachannel" events)
// is sent back on the same channel: text as text, binary as binary. Logs go to stderr.
//
// Exit status — the rule, checked in this order:
//   2  bad input: the first line is not JSON, not an object with type "offer" and a string
//      "sdp", stdin ends before a complete line, or the SDP is rejected
//      (setRemoteDescription / implicit setLocalDescription fail).
//   1  no offer line within the timeout; not connected (connectionState "connected") within the
//      timeout after the answer was printed; connectionState "failed"; an I/O error.
//   0  after the answer: stdin reaches EOF (the controlling process is done — closing our stdin
//      is how it stops us), or at least one data channel was opened and all of them have closed
//      again (the remote closed its channels or its peer connection), or connectionState
//      becomes "closed".
// Once connected there is no timeout: a vanished remote is detected by ICE consent freshness
// (RFC 7675 §5.1), which ends in connectionState "failed" → exit 1.
//
// Environment:
//   REFRTC_INTERFACES    "loopback" (default here), "all", or a comma list of interface names —
//                        the same values as the native driver (harness/drivers/native/main.cc).
//   REFRTC_ECHO_TIMEOUT  seconds for the two waits above (default 30).
//   SSLKEYLOGFILE        append DTLS key log lines (NSS format) for capture decryption.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "io/event_loop.h"
#include "io/interfaces.h"
#include "nlohmann/json.hpp"
#include "refrtc/rtc_data_channel.h"
#include "refrtc/rtc_json.h"
#include "refrtc/rtc_peer_connection.h"

namespace {

using nlohmann::json;

constexpr size_t kMaxOfferLine = 1 << 20;  // an offer larger than 1 MiB is bad input

void Log(const std::string& s) { std::fprintf(stderr, "echo_peer: %s\n", s.c_str()); }

refrtc::io::InterfaceFilter FilterFromEnv() {
  refrtc::io::InterfaceFilter filter;
  const char* env = std::getenv("REFRTC_INTERFACES");
  std::string v = env ? env : "loopback";
  if (v == "loopback" || v.empty()) {
    filter.allow_names = {"lo"};
  } else if (v != "all") {
    for (auto name : absl::StrSplit(v, ',')) filter.allow_names.emplace_back(name);
  }
  return filter;
}

double TimeoutFromEnv() {
  const char* env = std::getenv("REFRTC_ECHO_TIMEOUT");
  if (!env || !*env) return 30;
  char* end = nullptr;
  double v = std::strtod(env, &end);
  return (end && *end == '\0' && v > 0) ? v : 30;
}

class EchoPeer {
 public:
  EchoPeer(refrtc::io::EventLoop& loop, refrtc::io::InterfaceFilter filter)
      : loop_(loop), filter_(std::move(filter)) {}

  // Runs until an exit status is decided; returns it.
  int Run(double timeout_s) {
    timeout_ = std::chrono::duration_cast<refrtc::Duration>(std::chrono::duration<double>(timeout_s));
    ::fcntl(0, F_SETFL, ::fcntl(0, F_GETFL) | O_NONBLOCK);
    loop_.WatchFd(0, [this] { OnStdin(); });
    loop_.AddAfterIterationHook([this] { DrainEvents(); });
    deadline_ = loop_.Now() + timeout_;
    while (!status_) {
      loop_.RunUntil([this] { return status_.has_value(); }, std::chrono::milliseconds(200));
      if (status_ || connected_ || loop_.Now() < deadline_) continue;
      if (!pc_) Finish(1, "no offer on stdin within the timeout");
      else if (!answered_) Finish(1, "ICE gathering did not complete within the timeout");
      else Finish(1, "not connected within the timeout after the answer");
    }
    Shutdown();
    return *status_;
  }

 private:
  void Finish(int status, const std::string& why) {
    if (status_) return;
    Log(why + " (exit " + std::to_string(status) + ")");
    status_ = status;
  }

  void OnStdin() {
    char chunk[65536];
    bool eof = false;
    while (true) {
      ssize_t n = ::read(0, chunk, sizeof chunk);
      if (n > 0) {
        if (!pc_) input_.append(chunk, static_cast<size_t>(n));  // later input is ignored
        continue;
      }
      if (n == 0) eof = true;
      else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) eof = true;
      break;
    }
    if (!pc_) {
      size_t pos = input_.find('\n');
      if (pos != std::string::npos) {
        std::string line = input_.substr(0, pos);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        HandleOffer(line);
      } else if (input_.size() > kMaxOfferLine) {
        return Finish(2, "offer line longer than 1 MiB");
      } else if (eof) {
        // A final line without '\n' still counts.
        if (input_.find_first_not_of(" \t\r") == std::string::npos) return Finish(2, "stdin ended without an offer");
        HandleOffer(input_);
      }
    }
    if (eof) {
      loop_.UnwatchFd(0);  // level-triggered: an EOF fd stays readable
      stdin_eof_ = true;
      if (answered_) Finish(0, "stdin closed");
    }
  }

  void HandleOffer(const std::string& line) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Finish(2, "input is not JSON: " + line.substr(0, 80));
    if (!j.is_object() || !j.contains("type") || j["type"] != "offer" || !j.contains("sdp") || !j["sdp"].is_string()) {
      return Finish(2, "input is not an offer {\"type\":\"offer\",\"sdp\":\"...\"}: " + j.dump().substr(0, 80));
    }
    refrtc::RTCEngineOptions options;
    options.seed = std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32);
    options.unix_time_s = static_cast<int64_t>(::time(nullptr));
    if (const char* path = std::getenv("SSLKEYLOGFILE"); path && *path) {
      std::string file = path;
      options.key_log = [file](const std::string& l) {
        int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) return;
        std::string out = l + "\n";
        ssize_t n = ::write(fd, out.data(), out.size());
        (void)n;
        ::close(fd);
      };
    }
    auto pc = refrtc::RTCPeerConnection::Create(refrtc::RTCConfiguration{}, options);
    if (!pc.ok()) return Finish(1, "RTCPeerConnection: " + std::string(pc.status().message()));
    pc_ = std::move(*pc);
    pc_->SetTime(loop_.Now());
    auto addresses = refrtc::io::EnumerateInterfaces(filter_);
    if (addresses.empty()) return Finish(1, "no usable interface address (check REFRTC_INTERFACES)");
    auto bound = loop_.Attach(pc_.get(), addresses);
    if (!bound.ok()) return Finish(1, "binding UDP sockets: " + std::string(bound.status().message()));
    attached_ = true;
    deadline_ = loop_.Now() + timeout_;
    // W3C webrtc-pc §4.4.1.6: setRemoteDescription(offer), then the implicit
    // setLocalDescription() creates and applies the answer.
    refrtc::RTCSessionDescriptionInit offer{refrtc::RTCSdpType::kOffer, j["sdp"].get<std::string>()};
    if (auto st = pc_->setRemoteDescription(offer); !st.ok()) {
      return Finish(2, "setRemoteDescription rejected the offer: " + std::string(st.message()));
    }
    if (auto st = pc_->setLocalDescription(); !st.ok()) {
      return Finish(2, "setLocalDescription (answer) failed: " + std::string(st.message()));
    }
    Log("offer applied, gathering candidates");
    MaybeAnswer();
  }

  // Non-trickle: the answer goes out once gathering is complete (JSEP §4.1.9; the description
  // then lists every candidate).
  void MaybeAnswer() {
    if (answered_ || status_ || !pc_ || pc_->iceGatheringState() != refrtc::RTCIceGatheringState::kComplete) return;
    auto desc = pc_->localDescription();
    if (!desc) return Finish(1, "no local description after gathering");
    std::string line = refrtc::RTCSessionDescriptionToJson(desc).dump() + "\n";
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fflush(stdout) != 0) {
      return Finish(1, "cannot write the answer to stdout");
    }
    answered_ = true;
    deadline_ = loop_.Now() + timeout_;
    Log("answer sent");
    if (stdin_eof_) Finish(0, "stdin closed");
  }

  void DrainEvents() {
    if (!pc_) return;
    while (auto ev = pc_->PollEvent()) {
      switch (ev->type) {
        case refrtc::RTCEventType::kIceGatheringStateChange:
          MaybeAnswer();
          break;
        case refrtc::RTCEventType::kConnectionStateChange:
          Log("connectionState " + ev->state);
          if (ev->state == "connected") connected_ = true;
          if (ev->state == "failed") Finish(1, "connection failed");
          if (ev->state == "closed") Finish(0, "connection closed");
          break;
        case refrtc::RTCEventType::kDataChannel:
          Log("datachannel '" + ev->channel->label() + "'");
          channels_.push_back(ev->channel);
          break;
        case refrtc::RTCEventType::kChannelMessage: {
          // Echo on the same channel, keeping the message type (RFC 8831 §8 PPIDs: string vs binary).
          auto st = ev->binary ? ev->channel->sendBinary(ev->data) : ev->channel->send(refrtc::AsString(ev->data));
          if (!st.ok()) Log("echo on '" + ev->channel->label() + "' failed: " + std::string(st.message()));
          break;
        }
        case refrtc::RTCEventType::kChannelClose: {
          Log("channel '" + ev->channel->label() + "' closed");
          for (auto it = channels_.begin(); it != channels_.end(); ++it) {
            if (*it == ev->channel) {
              channels_.erase(it);
              break;
            }
          }
          if (channels_.empty()) Finish(0, "all data channels closed");
          break;
        }
        default:
          break;
      }
    }
  }

  void Shutdown() {
    loop_.UnwatchFd(0);
    if (!pc_) return;
    pc_->close();  // SCTP ABORT / DTLS close_notify are drained by the flush below
    loop_.Flush();
    if (attached_) loop_.Detach(pc_.get());
    channels_.clear();
    pc_.reset();
  }

  refrtc::io::EventLoop& loop_;
  refrtc::io::InterfaceFilter filter_;
  std::unique_ptr<refrtc::RTCPeerConnection> pc_;
  std::vector<std::shared_ptr<refrtc::RTCDataChannel>> channels_;  // open ones, by arrival
  std::string input_;
  bool attached_ = false, answered_ = false, connected_ = false, stdin_eof_ = false;
  refrtc::Duration timeout_{};
  refrtc::Instant deadline_{};  // of the current wait (offer, gathering, connection)
  std::optional<int> status_;
};

}  // namespace

int main() {
  ::signal(SIGPIPE, SIG_IGN);  // a parent that went away shows up as a write error, not a kill
  refrtc::io::EventLoop loop;
  EchoPeer peer(loop, FilterFromEnv());
  return peer.Run(TimeoutFromEnv());
}
