// STUN/TURN servers for the ice scenarios (issue B): Debian's coturn (`turnserver`) started by the
// harness as a child process on loopback, with an ephemeral port (UDP and TCP listen on the same
// port) and a generated user/password (long-term credentials, realm "refrtc"), and killed at the end.
// The same server answers STUN Binding requests, so it is also the `stun:` server.
//
// Scenarios name the servers with placeholders in their JSON strings, replaced before the run:
//   ${turn.host} ${turn.port} ${turn.username} ${turn.credential} ${stun.host} ${stun.port}
// e.g. {"urls": ["turn:${turn.host}:${turn.port}?transport=udp"], "username": "${turn.username}",
//       "credential": "${turn.credential}"}.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "scenario.h"

namespace refrtc::harness {

struct TurnServerInfo {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string username, credential, realm = "refrtc";
  // Placeholder name ("turn.host", ...) -> value.
  std::map<std::string, std::string> Placeholders() const;
};

class TurnServerProcess {
 public:
  // `turnserver` from $REFRTC_TURNSERVER or PATH; "" when not installed.
  static std::string FindBinary();
  // Starts coturn; returns once it answers a STUN Binding request over UDP and accepts a TCP
  // connection on the port (or an error with the tail of its log). Logs go to `log_path`.
  static absl::StatusOr<std::unique_ptr<TurnServerProcess>> Start(const std::string& binary,
                                                                  const std::string& log_path,
                                                                  const std::string& work_dir);
  ~TurnServerProcess();  // Stop()
  TurnServerProcess(const TurnServerProcess&) = delete;
  TurnServerProcess& operator=(const TurnServerProcess&) = delete;
  void Stop();  // SIGTERM, then SIGKILL after 2 s; reaps the child
  const TurnServerInfo& info() const { return info_; }
  pid_t pid() const { return pid_; }

 private:
  TurnServerProcess() = default;
  pid_t pid_ = -1;
  TurnServerInfo info_;
};

// True if any JSON string of the scenario (config, step config/args/match, rewrites) contains
// "${turn." or "${stun.".
bool ScenarioUsesServers(const Scenario& sc);
// Replaces every ${name} of `values` in every string of `j` (recursively: object values, array
// items; keys are left alone). An unknown ${turn.*} / ${stun.*} placeholder is an error.
absl::Status SubstitutePlaceholders(nlohmann::json* j, const std::map<std::string, std::string>& values);
absl::Status SubstitutePlaceholders(std::string* s, const std::map<std::string, std::string>& values);
// The same over a parsed scenario: its config, and each step's config, args, match and rewrites.
absl::Status SubstituteServers(Scenario* sc, const std::map<std::string, std::string>& values);

}  // namespace refrtc::harness
