// libFuzzer target for the driver-protocol JSON reader of the native driver (issue F; protocol in
// docs/DRIVER_PROTOCOL.md): arbitrary bytes, split into lines, fed to NativeDriver::HandleLine.
// Invalid JSON, wrong types, unknown ops, huge numbers, missing ids must each get a protocol error
// reply — never a crash, abort, uncaught exception or undefined behaviour.
//
// Invariants checked on what the driver writes:
//  - every output line is a JSON object in valid UTF-8 that the harness's own reader
//    (harness/src/driver_line.h ParseDriverLine) accepts as a reply or an event — but for replies
//    echoing an id the harness never sends (null for a bad line, strings, floats);
//  - a line that is not a JSON object gets {"id": null, "ok": false, "error": {"name": "SyntaxError"}};
//  - a command with a number/string id whose op never defers gets a reply with that id;
//  - no file descriptor leaks across inputs (checked every 500 inputs).
//
// Each input gets a fresh EventLoop and NativeDriver limited to the loopback interface; the loop is
// never run, so no datagram ever leaves the process (createPeerConnection binds UDP sockets on
// 127.0.0.1/::1; they close with the loop). RSA generateCertificate is skipped: an 8192-bit key takes
// minutes under ASan (RSA key generation has its own tests and certificate_pem_fuzzer).
#include <dirent.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "driver_line.h"
#include "native_driver.h"

namespace {

using nlohmann::json;
using refrtc::harness::DriverLine;
using refrtc::harness::ParseDriverLine;

constexpr size_t kMaxLines = 48;

int CountFds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

[[noreturn]] void Fail(const char* what, const std::string& line) {
  std::fprintf(stderr, "driver_command_fuzzer: %s: %s\n", what, line.substr(0, 500).c_str());
  std::abort();
}

bool IsRsaKeygen(const json& cmd) {
  // References only: copying a deeply nested value recurses.
  if (!cmd.is_object() || !cmd.contains("op") || cmd["op"] != "generateCertificate" || !cmd.contains("keygenAlgorithm"))
    return false;
  const json& alg = cmd["keygenAlgorithm"];
  std::string name;
  if (alg.is_string()) name = alg.get<std::string>();
  else if (alg.is_object() && alg.contains("name") && alg["name"].is_string()) name = alg["name"].get<std::string>();
  return absl::StrContains(absl::AsciiStrToLower(name), "rsa");
}

// Ops whose reply may come later (webrtc-identity waits for the IdP; sendMany when all are queued).
bool MayDefer(const std::string& op) {
  static const char* kOps[] = {"sendMany", "createOffer", "createAnswer", "setLocalDescription",
                               "setRemoteDescription", "getIdentityAssertion", "getPeerIdentity"};
  for (const char* o : kOps)
    if (op == o) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int baseline_fds = CountFds();
  static uint64_t runs = 0;
  static const refrtc::io::InterfaceFilter filter = [] {
    refrtc::io::InterfaceFilter f;
    f.allow_names = {"lo"};
    return f;
  }();

  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  for (size_t pos = 0; pos <= text.size() && lines.size() < kMaxLines;) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));  // main.cc skips empty lines too
    pos = nl + 1;
  }

  // A fresh loop per input. (Reusing one, with the driver detaching its peer connections, made
  // inputs with createPeerConnection ~10x slower; the loop itself costs a few ms.)
  refrtc::io::EventLoop loop;
  {
    refrtc::driver::NativeDriver driver(loop, filter);
    std::vector<std::string> out;
    driver.out = [&](const std::string& l) { out.push_back(l); };
    auto check_output = [&](size_t from) {
      for (size_t i = from; i < out.size(); ++i) {
        DriverLine d = ParseDriverLine(out[i]);
        if (d.kind != DriverLine::Kind::kInvalid) continue;
        // The harness only sends int64 ids, so it rightly refuses a reply with another id; such a
        // reply is fine only as the echo of a command's non-harness id (or null, for a bad line).
        json r = json::parse(out[i], nullptr, false);
        bool harness_id = r.is_object() && r.contains("id") && r["id"].is_number_integer() &&
                          !(r["id"].is_number_unsigned() && r["id"].get<uint64_t>() > (uint64_t{1} << 63) - 1);
        if (!r.is_object() || r.contains("event") || !r.contains("ok") || !r["ok"].is_boolean() || harness_id)
          Fail(d.problem.c_str(), out[i]);
      }
    };
    for (const std::string& line : lines) {
      json cmd = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (IsRsaKeygen(cmd)) continue;
      size_t before = out.size();
      driver.HandleLine(line);
      check_output(before);
      if (cmd.is_discarded() || !cmd.is_object()) {
        if (out.size() != before + 1) Fail("not exactly one reply to a non-object line", line);
        json r = json::parse(out[before]);
        if (!r["id"].is_null() || r["ok"] != false || r["error"]["name"] != "SyntaxError")
          Fail("a non-object line is not answered with a SyntaxError", out[before]);
      } else if (cmd.contains("id") && (cmd["id"].is_number() || cmd["id"].is_string()) &&
                 !(cmd.contains("op") && cmd["op"].is_string() && MayDefer(cmd["op"].get<std::string>()))) {
        bool replied = false;
        for (size_t i = before; i < out.size() && !replied; ++i) {
          json r = json::parse(out[i]);
          replied = r.contains("id") && r["id"] == cmd["id"] && r.contains("ok");
        }
        if (!replied) Fail("no reply to a command", line);
      }
      if (driver.shutdown_requested()) break;
    }
    // Always end with the protocol's shutdown: closes every peer connection.
    size_t before = out.size();
    driver.HandleLine(R"({"id": 1, "op": "shutdown"})");
    check_output(before);
  }

  if (++runs % 500 == 0) {
    int fds = CountFds();
    if (fds > baseline_fds + 16) {
      std::fprintf(stderr, "driver_command_fuzzer: %d fds open after %llu inputs (baseline %d)\n", fds,
                   static_cast<unsigned long long>(runs), baseline_fds);
      std::abort();
    }
  }
  return 0;
}
