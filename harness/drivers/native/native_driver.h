// The native refrtc stack speaking DRIVER_PROTOCOL v1 (JSON lines on stdin/stdout).
// One EventLoop runs the peer connections' sockets and timers and stdin; after every loop
// iteration the driver drains each peer connection's W3C events and writes them out.
#pragma once
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "io/event_loop.h"
#include "io/interfaces.h"
#include "refrtc/rtc_peer_connection.h"

namespace refrtc::driver {

using nlohmann::json;

class NativeDriver {
 public:
  NativeDriver(io::EventLoop& loop, io::InterfaceFilter filter);
  ~NativeDriver();  // detaches its peer connections from the loop
  // Handles one protocol line and writes the reply (and any events) to `out_`.
  void HandleLine(const std::string& line);
  // Drains events of all peer connections (called after each loop iteration).
  void DrainEvents();
  bool shutdown_requested() const { return shutdown_; }
  // Output sink (stdout by default; tests capture it).
  std::function<void(const std::string&)> out;

 private:
  struct Channel {
    std::string handle;
    std::string pc;
    std::shared_ptr<RTCDataChannel> ch;
    bool mute = false;
    uint64_t notify_after = 0;
    bool notified = false;
    uint64_t messages_sent = 0, bytes_sent = 0;
    // sendMany in progress.
    struct SendMany {
      json id;
      uint64_t size = 0, count = 0, next = 0;
      bool binary = true;
    };
    std::optional<SendMany> send_many;
    bool app_low_threshold_set = false;
  };
  struct Pc {
    std::string name;
    std::unique_ptr<RTCPeerConnection> pc;
    bool attached = false;
  };

  json Dispatch(const std::string& op, const json& cmd, bool* deferred);
  // Dispatch with the command's JSON type errors (and other exceptions) turned into a TypeError /
  // OperationError reply: nothing a command line contains escapes HandleLine.
  json SafeDispatch(const std::string& op, const json& cmd, bool* deferred);
  Pc* FindPc(const json& cmd);
  Channel* FindChannel(const json& cmd);
  json ChannelState(const Channel& c) const;
  json PcState(const Pc& p) const;
  json Stats(const Pc& p) const;
  // Media (issue D): transceivers and senders by driver handle ("t<n>", "s<n>").
  struct Transceiver {
    std::string pc;
    std::shared_ptr<RTCRtpTransceiver> t;
  };
  std::string TransceiverHandle(const std::string& pc, const std::shared_ptr<RTCRtpTransceiver>& t);
  json TransceiverJson(const std::string& pc, const std::shared_ptr<RTCRtpTransceiver>& t);
  json MediaOp(const std::string& op, const json& cmd, Pc& p);
  Channel& Register(const std::string& pc, std::shared_ptr<RTCDataChannel> ch);
  void PumpSendMany(Channel& c);
  // webrtc-identity extension ops (feature "identity").
  absl::Status IdentityOp(const std::string& op, const json& cmd, Pc& p, json* result);
  std::vector<json> identity_waiting_;   // commands waiting for an IdP, retried in DrainEvents
  void Emit(const json& j);
  void Reply(const json& id, const absl::Status& st, json result = json::object());

  io::EventLoop& loop_;
  io::InterfaceFilter filter_;
  std::map<std::string, Pc> pcs_;
  std::map<std::string, Channel> channels_;           // by handle
  std::map<uint64_t, std::string> channel_by_ptr_;     // RTCDataChannel::handle() → handle
  bool shutdown_ = false;
  uint64_t seed_counter_ = 0;
  // generateCertificate results by handle (feature "certificates"), for createPeerConnection's
  // config.certificates.
  std::map<std::string, std::shared_ptr<RTCCertificate>> certificates_;
  uint64_t certificate_counter_ = 0;
  std::map<std::string, Transceiver> transceivers_;        // by handle
  std::map<uint64_t, std::string> transceiver_by_ptr_;     // RTCRtpTransceiver::handle() → handle
  uint64_t track_counter_ = 0;
};

}  // namespace refrtc::driver
