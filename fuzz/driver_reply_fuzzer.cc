// libFuzzer target for the harness's reader of driver output (harness/src/driver_line.h
// ParseDriverLine; docs/DRIVER_PROTOCOL.md "Framing" and "Events"): a driver is someone else's code,
// so any line it writes must be classified as a reply, an event or a protocol error without a crash
// or an exception. The input is split into lines like DriverProcess::OnStdoutReadable does.
//
// For what it accepts, the fuzzer then reads the fields the way harness/src/runner.cc does
// (value(key, "") and get<std::string>() throw on a wrong type): an accepted line must never make
// those throw — that is the reader's contract.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "driver_line.h"

namespace {

using nlohmann::json;
using refrtc::harness::DriverLine;

void Consume(const DriverLine& d) {
  const json& m = d.message;
  if (d.kind == DriverLine::Kind::kEvent) {
    // runner.cc: OnEvent, WaitEvent's predicates, the channel/transceiver binding.
    std::string event = m.value("event", "");
    std::string channel = m.value("channel", "");
    std::string label = m.value("label", "");
    if (m.contains("pc") && m["pc"].is_string()) (void)m["pc"].get<std::string>();
    if (event == "datachannel" || event == "open" || event == "message") (void)m["channel"].get<std::string>();
    if (event == "track") (void)m["transceiver"].get<std::string>();
    if (event == "icecandidate" && m.contains("candidate") && m["candidate"].is_object())
      (void)m["candidate"].value("candidate", std::string());
    if (m.contains("error")) {
      (void)m["error"].value("name", std::string("?"));
      (void)m["error"].value("message", std::string());
    }
    (void)channel;
    (void)label;
  } else if (d.kind == DriverLine::Kind::kReply) {
    // runner.cc: HandleLine's background replies, WaitReply.
    (void)m.value("ok", false);
    (void)m.value("error", json()).dump(-1, ' ', false, json::error_handler_t::replace);
    if (!d.ok) {
      (void)d.error.value("name", std::string("?"));
      (void)d.error.value("message", std::string());
    } else if (!d.result.is_object()) {
      std::abort();
    } else {
      for (const char* k : {"channel", "transceiver", "sender", "type", "sdp"}) (void)d.result.value(k, "");
      (void)d.result.value("mid", json());
    }
  } else if (d.problem.empty()) {
    std::abort();  // a protocol error always says what is wrong
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    Consume(refrtc::harness::ParseDriverLine(absl::string_view(text).substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return 0;
}
