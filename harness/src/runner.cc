#include "runner.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "driver_line.h"
#include "driver_process.h"
#include "relay.h"
#include "util/codec.h"

namespace refrtc::harness {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::duration<double, std::milli>;

constexpr int64_t kDefaultSizeCap = 4 << 20;
constexpr auto kShutdownGrace = std::chrono::milliseconds(2000);

const char* SideName(int s) { return s == 0 ? "A" : "B"; }

// Ops whose target is the peer connection (the runner fills in "pc").
bool TakesPc(const std::string& op) {
  static const char* kOps[] = {"createPeerConnection", "createOffer", "createAnswer", "setLocalDescription",
                               "setRemoteDescription", "addIceCandidate", "restartIce", "getState",
                               "createDataChannel", "getStats", "addTransceiver", "addTrack",
                               "getTransceivers", "close",
                               // webrtc-identity extension ops (feature "identity")
                               "setIdentityProvider", "registerTestIdp", "getIdentityAssertion", "getPeerIdentity"};
  for (const char* o : kOps) if (op == o) return true;
  return false;
}

// The sendMany fill rule (DRIVER_PROTOCOL "Commands"): binary message i is `size` bytes of i % 256,
// string message i is `size` times 'a' + i % 26.
std::string Fill(bool binary, int64_t size, int64_t i) {
  return std::string(static_cast<size_t>(size), binary ? static_cast<char>(i % 256) : static_cast<char>('a' + i % 26));
}

// A message event's payload as bytes + kind, whichever form the driver used.
struct Received {
  bool has_bytes = false;
  bool binary = false;
  std::string bytes;
  int64_t size = -1;
  std::string sha256;
};

absl::StatusOr<Received> DecodeMessage(const json& ev) {
  Received r;
  auto d = ev.find("data");
  if (d != ev.end()) {
    if (d->is_string()) {
      r.has_bytes = true;
      r.bytes = d->get<std::string>();
    } else if (d->is_object() && d->contains("binary") && (*d)["binary"].is_string()) {
      auto bytes = refrtc::Base64Decode((*d)["binary"].get<std::string>());
      if (!bytes) return absl::InvalidArgumentError("message event with invalid base64");
      r.has_bytes = true;
      r.binary = true;
      r.bytes.assign(bytes->begin(), bytes->end());
    } else if (d->is_object() && d->contains("size") && d->contains("sha256")) {
      // Tolerated variant of the large-message form: {"data": {"size", "sha256"}}.
      r.size = (*d)["size"].get<int64_t>();
      r.sha256 = (*d)["sha256"].get<std::string>();
      if (ev.contains("binary") && ev["binary"].is_boolean()) r.binary = ev["binary"].get<bool>();
      return r;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("message event with malformed data: ", ev.dump().substr(0, 200)));
    }
    r.size = static_cast<int64_t>(r.bytes.size());
    return r;
  }
  if (ev.contains("size") && ev["size"].is_number_integer() && ev.contains("sha256") && ev["sha256"].is_string()) {
    r.size = ev["size"].get<int64_t>();
    r.sha256 = ev["sha256"].get<std::string>();
    if (ev.contains("binary") && ev["binary"].is_boolean()) r.binary = ev["binary"].get<bool>();
    return r;
  }
  return absl::InvalidArgumentError(absl::StrCat("message event without data or size+sha256: ", ev.dump().substr(0, 200)));
}

std::string Preview(const std::string& s, size_t n = 40) {
  std::string out = s.size() <= n ? s : s.substr(0, n) + "…";
  for (char& c : out) if (static_cast<unsigned char>(c) < 0x20) c = '.';
  return absl::StrCat("\"", out, "\" (", s.size(), " bytes)");
}

// Compares a received message with the expected payload (bytes + whether it was sent as binary).
absl::Status CheckMessage(const Received& got, const std::string& want, bool want_binary) {
  if (got.has_bytes) {
    if (got.binary != want_binary) {
      return absl::FailedPreconditionError(absl::StrCat("expected a ", want_binary ? "binary" : "string",
                                                        " message, got a ", got.binary ? "binary" : "string", " one: ",
                                                        Preview(got.bytes)));
    }
    if (got.bytes != want) {
      return absl::FailedPreconditionError(absl::StrCat("content differs: got ", Preview(got.bytes), ", want ", Preview(want)));
    }
    return absl::OkStatus();
  }
  if (got.size != static_cast<int64_t>(want.size())) {
    return absl::FailedPreconditionError(absl::StrCat("size differs: got ", got.size, ", want ", want.size()));
  }
  std::string digest = refrtc::Sha256Hex(refrtc::AsBytes(want));
  if (got.sha256 != digest) {
    return absl::FailedPreconditionError(absl::StrCat("sha256 differs: got ", got.sha256, ", want ", digest));
  }
  return absl::OkStatus();
}

class Cell {
 public:
  Cell(const Scenario& sc, const DriverSpec& a, const DriverSpec& b, const RunOptions& opts)
      : sc_(sc), opts_(opts) {
    specs_[0] = &a;
    specs_[1] = &b;
    result_.scenario = sc.name;
    result_.suite = sc.suite.empty() ? sc.name : sc.suite;
    result_.a = a.name;
    result_.b = b.name;
  }

  CellResult Run() {
    auto start = Clock::now();
    scenario_deadline_ = start + std::chrono::milliseconds(sc_.timeout_ms);
    OpenLog();
    absl::Status st;
    try {
      st = Start();
      for (size_t i = 0; st.ok() && i < sc_.steps.size(); ++i) {
        current_step_ = static_cast<int>(i);
        const Step& step = sc_.steps[i];
        if (opts_.verbose) std::cerr << "[" << Tag() << "] step " << i << (step.comment.empty() ? "" : ": " + step.comment) << "\n";
        Trace(absl::StrCat("--- step ", i, step.comment.empty() ? "" : ": " + step.comment));
        const KnownIssue* skip_issue = StepIssue(step);
        if (skip_issue && skip_issue->skip) {
          result_.notes.push_back(absl::StrCat("step ", i, ": not run against ", skip_issue->peer, " (known limitation: ",
                                               skip_issue->reason, ")"));
          Trace(absl::StrCat("skipped: ", result_.notes.back()));
          result_.step_ms.push_back(0);
          continue;
        }
        auto step_start = Clock::now();
        st = RunStep(step);
        result_.step_ms.push_back(Ms(Clock::now() - step_start).count());
        if (st.ok()) st = BackgroundStatus();
        const KnownIssue* issue = StepIssue(step);
        if (issue && !st.ok() && !sides_[0].dead && !sides_[1].dead) {
          result_.notes.push_back(absl::StrCat("step ", i, ": known ", issue->peer, " deviation (", issue->reason,
                                               "): ", st.message()));
          Trace(absl::StrCat("tolerated: ", result_.notes.back()));
          st = absl::OkStatus();
        } else if (issue && st.ok()) {
          result_.notes.push_back(absl::StrCat("step ", i, ": known ", issue->peer, " issue did not reproduce (", issue->reason, ")"));
        }
        if (!st.ok()) result_.failed_step = static_cast<int>(i);
      }
    } catch (const std::exception& e) {
      st = absl::InternalError(absl::StrCat("harness exception: ", e.what()));
      result_.failed_step = current_step_;
    }
    bool timed_out = absl::IsDeadlineExceeded(st);
    Finish(/*kill_now=*/timed_out);
    StopRelay();
    if (st.ok()) {
      result_.status = "pass";
    } else if (!skip_reason_.empty() && absl::IsUnimplemented(st)) {
      result_.status = "skip";
      result_.reason = skip_reason_;
    } else {
      result_.status = "fail";
      result_.reason = std::string(st.message());
      if (result_.failed_step >= 0) result_.reason = absl::StrCat("step ", result_.failed_step, ": ", result_.reason);
    }
    ApplyKnownIssues();
    result_.duration_ms = Ms(Clock::now() - start).count();
    WriteLogTail();
    return result_;
  }

 private:
  struct Queued {
    uint64_t seq;  // arrival order across both sides
    json ev;
  };
  // A media name's handles on one side (connect "transceivers"/"tracks", or "as").
  struct MediaHandles {
    std::string transceiver;
    std::string sender;
  };
  // A runner-driven message stream (stream step): one `send` every interval, checked at stop.
  struct Stream {
    int from = 0;
    std::string send_handle, recv_handle;
    int64_t interval_ms = 20, size = 64;
    int64_t sent = 0;
    Clock::time_point next_due;
  };

  struct Side {
    std::unique_ptr<DriverProcess> proc;
    std::string pc;
    int64_t next_id = 1;
    std::map<int64_t, json> replies;
    std::map<int64_t, std::string> background;  // id → what it was (addIceCandidate …)
    std::deque<Queued> events;
    bool remote_set = false;
    // Manual signalling (signal steps): while `hold`, this side's icecandidate events wait in
    // `outbox` instead of being forwarded; `local_description` is what its last setLocalDescription
    // returned.
    bool hold = false;
    std::vector<json> outbox;
    // FIFO signalling: candidates gathered after a setLocalDescription wait until that description
    // has reached the other side (as on any ordered signalling channel).
    bool description_in_flight = false;
    bool srd_rollback = false;  // the last setRemoteDescription sent was a rollback
    std::vector<json> after_description;
    json local_description;
    std::vector<json> pending_candidates;  // from the other side, waiting for our remote description
    bool dead = false;
    std::string death;
    // The scenario closed this side's peer connection: forwarded candidates still in flight may
    // now be rejected (W3C addIceCandidate rejects once closed), which is not a failure.
    bool closed = false;
  };

  // A second connection in the same cell: signalling state starts over under a new pc name.
  void NewPeerConnection(int s, const std::string& name) {
    Side& side = sides_[s];
    Trace(absl::StrCat(SideName(s), ": new peer connection \"", name, "\" (was \"", side.pc, "\")"));
    side.pc = name;
    side.remote_set = false;
    side.hold = false;
    side.outbox.clear();
    side.description_in_flight = false;
    side.srd_rollback = false;
    side.after_description.clear();
    side.local_description = json();
    side.pending_candidates.clear();
    side.closed = false;
  }

  std::string Tag() const { return absl::StrCat(sc_.name, " ", result_.a, "→", result_.b); }

  void OpenLog() {
    if (opts_.log_dir.empty()) return;
    result_.log_path = absl::StrCat(opts_.log_dir, "/", sc_.name, "__", result_.a, "-", result_.b, ".log");
    log_.open(result_.log_path, std::ios::trunc);
  }

  void Trace(const std::string& line) {
    if (!log_.is_open() && opts_.verbose < 2) return;
    double t = Ms(Clock::now() - trace_start_).count();
    std::string shown = line.size() > 4000 ? line.substr(0, 4000) + "…" : line;
    std::string out = absl::StrFormat("%9.1f %s", t, shown);
    if (log_.is_open()) log_ << out << "\n";
    if (opts_.verbose >= 2) std::cerr << "[" << Tag() << "] " << out << "\n";
  }

  void WriteLogTail() {
    if (!log_.is_open()) return;
    for (int s = 0; s < 2; ++s) {
      log_ << "\n===== driver " << SideName(s) << " (" << specs_[s]->name << ") stderr =====\n";
      if (sides_[s].proc) log_ << sides_[s].proc->stderr_log();
    }
    log_ << "\n===== result: " << result_.status << (result_.reason.empty() ? "" : " — " + result_.reason) << "\n";
  }

  absl::Status Start() {
    if (auto st = StartRelay(); !st.ok()) return st;
    for (int s = 0; s < 2; ++s) {
      if (!specs_[s]->missing.empty()) {
        return absl::FailedPreconditionError(absl::StrCat("driver ", specs_[s]->name, " unavailable: ", specs_[s]->missing));
      }
      sides_[s].pc = s == 0 ? "a" : "b";
      std::vector<std::string> argv = specs_[s]->argv;
      if (!keylog_path_.empty()) {
        // NSS key log (SSLKEYLOGFILE format) for the pcap: drivers that support it append
        // CLIENT_RANDOM lines there (env(1) execs the driver, so the pid stays the driver's).
        argv.insert(argv.begin(), {"/usr/bin/env", absl::StrCat("SSLKEYLOGFILE=", keylog_path_)});
      }
      auto proc = DriverProcess::Start(argv, specs_[s]->cwd);
      if (!proc.ok()) {
        return absl::FailedPreconditionError(absl::StrCat("driver ", SideName(s), " (", specs_[s]->name, "): ", proc.status().message()));
      }
      sides_[s].proc = std::move(*proc);
      Trace(absl::StrCat("started driver ", SideName(s), " ", specs_[s]->name, " pid ", sides_[s].proc->pid()));
    }
    for (int s = 0; s < 2; ++s) {
      auto r = Call(s, "hello", json::object(), Deadline(10000));
      if (!r.ok()) return r.status();
      json hello = *r;
      hello["role"] = SideName(s);
      hello["driver"] = specs_[s]->name;
      result_.hello.push_back(hello);
      if (!hello.contains("protocol") || hello["protocol"] != 1) {
        return absl::FailedPreconditionError(absl::StrCat("driver ", SideName(s), " speaks protocol ",
                                                          hello.value("protocol", json()).dump(), ", not 1"));
      }
      // Optional protocol features the scenario needs on this side (hello's `features`).
      for (const std::string& f : sc_.requires_features[s]) {
        json have = hello.value("features", json::array());
        if (!have.is_array() || std::find(have.begin(), have.end(), json(f)) == have.end()) {
          skip_reason_ = absl::StrCat(specs_[s]->name, " (", SideName(s), ") does not support the optional protocol feature \"",
                                      f, "\" this scenario needs");
          return absl::UnimplementedError(skip_reason_);
        }
      }
    }
    return absl::OkStatus();
  }

  // ---------------------------------------------------------------- the relay (relay.h)

  bool WantsRelay() const { return ScenarioWantsRelay() || opts_.capture; }

  bool ScenarioWantsRelay() const {
    if (!sc_.network.is_null()) return true;
    for (const Step& step : sc_.steps) if (step.kind == StepKind::kNetwork) return true;
    return false;
  }

  // With a scenario-level "network" or any network step, every candidate the runner forwards goes
  // through a seeded UDP relay owned by this cell (capture: <log>.pcap, key log: <log>.keys).
  absl::Status StartRelay() {
    if (!WantsRelay()) return absl::OkStatus();
    RelayOptions ro;
    ro.seed = opts_.seed;
    // Only for a capture: paths the relay cannot carry stay usable (the scenario did not ask for it).
    ro.keep_unrelayable = !ScenarioWantsRelay();
    std::string base;
    if (!opts_.log_dir.empty()) {
      base = absl::StrCat(opts_.log_dir, "/", sc_.name, "__", result_.a, "-", result_.b);
      ro.pcap_path = base + ".pcap";
      keylog_path_ = base + ".keys";
      std::remove(keylog_path_.c_str());  // a rerun starts a fresh key log
    }
    auto relay = Relay::Start(ro);
    if (!relay.ok()) return absl::Status(relay.status().code(), absl::StrCat("relay: ", relay.status().message()));
    relay_ = std::move(*relay);
    if (!sc_.network.is_null()) {
      auto change = ParseNetworkChange(sc_.network, /*scenario_level=*/true);
      if (!change.ok()) return change.status();
      ApplyNetworkChange(*relay_, *change);
    }
    result_.network = json{{"seed", ro.seed}, {"pcap", ro.pcap_path}, {"keylog", keylog_path_}};
    Trace(absl::StrCat("relay on (seed ", ro.seed, "): A→B ", relay_->impairment(0).ToString(), "; B→A ",
                       relay_->impairment(1).ToString(), ro.pcap_path.empty() ? "" : "; pcap " + ro.pcap_path));
    return absl::OkStatus();
  }

  void StopRelay() {
    if (!relay_) return;
    for (const std::string& m : relay_->Mappings()) Trace(absl::StrCat("relay socket ", m));
    json dirs = json::object();
    for (int d = 0; d < 2; ++d) {
      DirectionStats st = relay_->stats(d);
      const char* name = d == 0 ? "A→B" : "B→A";
      dirs[name] = st.ToJson();
      result_.notes.push_back(absl::StrCat("relay ", name, ": ", st.ToString()));
    }
    result_.network["directions"] = dirs;
    std::vector<uint16_t> ports = relay_->Ports();
    result_.network["ports"] = ports;
    std::string note = relay_->pcap_note();
    if (!note.empty()) result_.notes.push_back(absl::StrCat("pcap: ", note));
    Trace(absl::StrCat("relay stopped: ", dirs.dump()));
    relay_.reset();  // joins the thread, closes the pcap
  }

  // A network step: impairment / blackout changes.
  absl::Status NetworkStep(const Step& step) {
    if (!relay_) return absl::FailedPreconditionError("network step without a relay");
    auto change = ParseNetworkChange(step.args, /*scenario_level=*/false);
    if (!change.ok()) return change.status();
    ApplyNetworkChange(*relay_, *change);
    Trace(absl::StrCat("network: A→B ", relay_->impairment(0).ToString(), relay_->blackout(0) ? " + BLACKOUT" : "",
                       "; B→A ", relay_->impairment(1).ToString(), relay_->blackout(1) ? " + BLACKOUT" : ""));
    return absl::OkStatus();
  }

  // With the relay, a candidate from side `from` that it cannot carry (TCP, IPv6, mDNS) is not
  // delivered at all, so no path bypasses it (relay.h).
  bool Relayable(int from, const json& candidate) {
    if (!relay_ || !candidate.is_object() || !candidate.contains("candidate") || !candidate["candidate"].is_string()) return true;
    const std::string& line = candidate["candidate"].get_ref<const std::string&>();
    if (line.empty() || relay_->RewriteCandidate(from, line) || !ScenarioWantsRelay()) return true;
    Trace(absl::StrCat("relay: not delivering ", SideName(from), "'s candidate ", line));
    return false;
  }

  // Rewrites the addresses in what Send delivers to side `s` (it came from the other side).
  void RelayRewrite(int s, const std::string& op, json& args) {
    if (!relay_) return;
    if (op == "setRemoteDescription" && args.contains("description") && args["description"].is_object() &&
        args["description"].contains("sdp") && args["description"]["sdp"].is_string()) {
      args["description"]["sdp"] = relay_->RewriteDescription(1 - s, args["description"]["sdp"].get<std::string>());
    } else if (op == "addIceCandidate" && args.contains("candidate") && args["candidate"].is_object() &&
               args["candidate"].contains("candidate") && args["candidate"]["candidate"].is_string()) {
      const std::string line = args["candidate"]["candidate"].get<std::string>();
      if (line.empty()) return;
      if (auto r = relay_->RewriteCandidate(1 - s, line)) args["candidate"]["candidate"] = *r;
      else if (!ScenarioWantsRelay()) args["candidate"]["candidate"] = DemoteCandidatePriority(line);
    }
  }

  // Asks both drivers to shut down (or kills them at once after a timeout) and reaps them.
  void Finish(bool kill_now) {
    if (!kill_now) {
      int64_t ids[2] = {-1, -1};
      for (int s = 0; s < 2; ++s) {
        if (sides_[s].proc && !sides_[s].dead) ids[s] = Send(s, "shutdown", json::object());
      }
      auto deadline = Clock::now() + kShutdownGrace;
      for (;;) {
        bool all_gone = true;
        for (int s = 0; s < 2; ++s) {
          if (sides_[s].proc && !sides_[s].dead) all_gone = false;
        }
        if (all_gone || Clock::now() >= deadline) break;
        Pump(deadline);
      }
      (void)ids;
    }
    for (int s = 0; s < 2; ++s) {
      if (!sides_[s].proc) continue;
      std::string how;
      if (!sides_[s].proc->Exited(&how)) {
        sides_[s].proc->Kill();
        Trace(absl::StrCat("killed driver ", SideName(s)));
      } else {
        Trace(absl::StrCat("driver ", SideName(s), " ", how));
      }
      // Pick up the last words on stderr.
      while (sides_[s].proc->OnStderrReadable()) {
      }
    }
  }

  // The step-level known issue that applies to this pair, if any.
  const KnownIssue* StepIssue(const Step& step) const {
    for (const KnownIssue& k : step.known_issues) {
      std::string role = k.role.empty() ? SideName(step.side) : k.role;
      if (((role == "A" || role == "any") && k.peer == result_.a) || ((role == "B" || role == "any") && k.peer == result_.b)) {
        return &k;
      }
    }
    return nullptr;
  }

  void ApplyKnownIssues() {
    for (const KnownIssue& k : sc_.known_issues) {
      bool hit = ((k.role == "A" || k.role == "any") && k.peer == result_.a) ||
                 ((k.role == "B" || k.role == "any") && k.peer == result_.b);
      if (!hit) continue;
      if (result_.status == "fail") {
        result_.status = "xfail";
        result_.reason = absl::StrCat("known peer issue (", k.peer, "): ", k.reason, " — ", result_.reason);
      } else if (result_.status == "pass") {
        result_.status = "xpass";
        result_.reason = absl::StrCat("passed despite known issue (", k.peer, "): ", k.reason);
      }
      return;
    }
  }

  Clock::time_point Deadline(int64_t ms) const {
    auto d = Clock::now() + std::chrono::milliseconds(ms);
    return std::min(d, scenario_deadline_);
  }

  Clock::time_point StepDeadline(const Step& step) const {
    return Deadline(step.timeout_ms > 0 ? step.timeout_ms : sc_.step_timeout_ms);
  }

  // ---------------------------------------------------------------- event loop

  absl::Status DeadStatus(int s) const {
    std::string tail = sides_[s].proc ? sides_[s].proc->StderrTail(1500) : "";
    return absl::UnavailableError(absl::StrCat("driver ", SideName(s), " (", specs_[s]->name, ") ", sides_[s].death,
                                               tail.empty() ? "" : "; stderr tail:\n" + tail));
  }

  void MarkDead(int s, const std::string& why) {
    Side& side = sides_[s];
    if (side.dead) return;
    side.dead = true;
    std::string how;
    // Give it a moment to be reapable: stdout EOF usually means the process is exiting.
    for (int i = 0; i < 50 && !side.proc->Exited(&how); ++i) {
      struct pollfd none;
      poll(&none, 0, 2);
    }
    while (side.proc->OnStderrReadable()) {
    }  // its last words (the process is gone or going, so this ends at EOF or EAGAIN)
    side.death = how.empty() ? why : absl::StrCat(why, " (", how, ")");
    Trace(absl::StrCat("driver ", SideName(s), " ", side.death));
  }

  // One poll() round: waits until something arrives or `deadline`.
  void Pump(Clock::time_point deadline) {
    struct pollfd fds[6];
    int owner[6], kind[6];  // kind: 0 stdout, 1 stderr, 2 stdin
    int n = 0;
    for (int s = 0; s < 2; ++s) {
      DriverProcess* p = sides_[s].proc.get();
      if (!p) continue;
      if (p->stdout_fd() >= 0) { fds[n] = {p->stdout_fd(), POLLIN, 0}; owner[n] = s; kind[n++] = 0; }
      if (p->stderr_fd() >= 0) { fds[n] = {p->stderr_fd(), POLLIN, 0}; owner[n] = s; kind[n++] = 1; }
      if (p->WantsWrite()) { fds[n] = {p->stdin_fd(), POLLOUT, 0}; owner[n] = s; kind[n++] = 2; }
    }
    Clock::time_point wake = deadline;
    for (const auto& [name, st] : streams_) wake = std::min(wake, st.next_due);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count();
    int timeout = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left + 1, 60000)));
    int r = poll(fds, static_cast<nfds_t>(n), timeout);
    RunStreams();
    if (r <= 0) return;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      int s = owner[i];
      DriverProcess* p = sides_[s].proc.get();
      if (kind[i] == 0) {
        std::vector<std::string> lines;
        bool open = p->OnStdoutReadable(&lines);
        for (const std::string& line : lines) HandleLine(s, line);
        if (!open) MarkDead(s, "closed its stdout");
      } else if (kind[i] == 1) {
        p->OnStderrReadable();
      } else if (!p->OnWritable()) {
        MarkDead(s, "stopped reading its stdin");
      }
    }
  }

  // Sends the next message of every stream that is due (stream step).
  void RunStreams() {
    auto now = Clock::now();
    for (auto& [name, st] : streams_) {
      while (st.next_due <= now) {
        std::string payload = StreamPayload(name, st.sent, st.size);
        int64_t id = Send(st.from, "send", json{{"channel", st.send_handle}, {"data", payload}});
        sides_[st.from].background[id] = absl::StrCat("stream ", name, " send #", st.sent);
        ++st.sent;
        st.next_due += std::chrono::milliseconds(st.interval_ms);
        if (st.next_due < now) st.next_due = now;  // never burst to catch up
      }
    }
  }

  static std::string StreamPayload(const std::string& name, int64_t i, int64_t size) {
    std::string p = absl::StrCat(name, "#", i, ":");
    if (static_cast<int64_t>(p.size()) < size) p.append(static_cast<size_t>(size) - p.size(), '.');
    return p;
  }

  void HandleLine(int s, const std::string& line) {
    Trace(absl::StrCat(SideName(s), " > ", line));
    if (line.empty()) return;
    // driver_line.h: the typed checks that keep a malformed line from throwing in here later.
    DriverLine parsed = ParseDriverLine(line);
    if (parsed.kind == DriverLine::Kind::kInvalid) {
      protocol_errors_.push_back(absl::StrCat("driver ", SideName(s), " ", parsed.problem, ": ", line.substr(0, 200)));
      return;
    }
    json msg = std::move(parsed.message);
    if (parsed.kind == DriverLine::Kind::kEvent) {
      OnEvent(s, std::move(msg));
      return;
    }
    int64_t n = parsed.id;
    Side& side = sides_[s];
    auto bg = side.background.find(n);
    if (bg != side.background.end()) {
      if (!msg.value("ok", false) && !side.closed) {
        background_errors_.push_back(absl::StrCat(bg->second, " on ", SideName(s), " failed: ", msg.value("error", json()).dump()));
      }
      side.background.erase(bg);
      return;
    }
    side.replies[n] = std::move(msg);
  }

  void OnEvent(int s, json ev) {
    if (ev.contains("pc") && ev["pc"].is_string() && ev["pc"] != sides_[s].pc) {
      // A peer connection the scenario replaced (connect with "pc"): its events are history.
      Trace(absl::StrCat("ignored event of old peer connection ", ev["pc"].get<std::string>()));
      return;
    }
    if (ev["event"] == "icecandidate" && ev.contains("candidate")) {
      if (sides_[s].hold) {
        sides_[s].outbox.push_back(ev["candidate"]);  // manual signalling: a signal step moves it
      } else if (sides_[s].description_in_flight) {
        sides_[s].after_description.push_back(ev["candidate"]);
      } else {
        ForwardCandidate(1 - s, ev["candidate"]);
      }
    }
    sides_[s].events.push_back(Queued{next_seq_++, std::move(ev)});
  }

  // Trickle ICE: forward to side `o` once it has a remote description (JSEP §4.1.17).
  void ForwardCandidate(int o, const json& candidate) {
    if (!Relayable(1 - o, candidate)) return;
    if (sides_[o].remote_set) {
      AddCandidate(o, candidate);
    } else {
      sides_[o].pending_candidates.push_back(candidate);
    }
  }

  void AddCandidate(int s, const json& candidate) {
    int64_t id = Send(s, "addIceCandidate", json{{"candidate", candidate}});
    sides_[s].background[id] = candidate.is_null() ? "addIceCandidate(end-of-candidates)"
                                                   : absl::StrCat("addIceCandidate(", candidate.value("candidate", std::string()), ")");
  }

  absl::Status BackgroundStatus() {
    if (!protocol_errors_.empty()) return absl::DataLossError(protocol_errors_.front());
    if (!background_errors_.empty()) return absl::AbortedError(background_errors_.front());
    return absl::OkStatus();
  }

  int64_t Send(int s, const std::string& op, json args) {
    Side& side = sides_[s];
    int64_t id = side.next_id++;
    json cmd = json::object();
    cmd["id"] = id;
    cmd["op"] = op;
    if (TakesPc(op) && !args.contains("pc")) cmd["pc"] = side.pc;
    if (op == "close") side.closed = true;
    if (op == "setRemoteDescription" && args.contains("description") && args["description"].is_object() &&
        args["description"].value("type", std::string()) == "rollback") {
      // After a remote rollback there may be no remote description: queue candidates until the next one.
      side.remote_set = false;
      side.srd_rollback = true;
    } else if (op == "setRemoteDescription") {
      side.srd_rollback = false;
    }
    if (op == "setLocalDescription") {
      const json& d = args.contains("description") ? args["description"] : json();
      if (!d.is_object() || d.value("type", std::string()) != "rollback") {
        side.description_in_flight = true;
      } else if (side.description_in_flight) {
        // Rolling back a description that was never sent: its candidates are never sent either.
        side.description_in_flight = false;
        side.after_description.clear();
      }
    }
    RelayRewrite(s, op, args);
    for (auto& [k, v] : args.items()) cmd[k] = v;
    std::string line = cmd.dump(-1, ' ', false, json::error_handler_t::replace);
    Trace(absl::StrCat(SideName(s), " < ", line));
    if (side.proc && !side.dead) side.proc->QueueLine(line);
    return id;
  }

  // Waits for the reply to command `id`. Replies {"ok": false} come back as the error object in
  // `*error` (status OK); transport problems (timeout, dead driver) are a non-OK status.
  absl::StatusOr<json> WaitReply(int s, int64_t id, const std::string& what, Clock::time_point deadline, json* error) {
    auto start = Clock::now();
    for (;;) {
      Side& side = sides_[s];
      auto it = side.replies.find(id);
      if (it != side.replies.end()) {
        json reply = std::move(it->second);
        side.replies.erase(it);
        if (reply.value("ok", false)) {
          json result = reply.contains("result") ? reply["result"] : json::object();
          return result;
        }
        json err = reply.contains("error") ? reply["error"] : json::object();
        if (!err.is_object()) err = json{{"name", "?"}, {"message", err.dump()}};
        if (error) {
          *error = err;
          return json();
        }
        return absl::FailedPreconditionError(absl::StrCat(what, " on ", SideName(s), " failed: ",
                                                          err.value("name", std::string("?")), ": ",
                                                          err.value("message", std::string())));
      }
      // A garbled line breaks the protocol: fail now rather than at the step's timeout.
      if (!protocol_errors_.empty()) return absl::DataLossError(protocol_errors_.front());
      if (side.dead) return DeadStatus(s);
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrFormat("timeout: no reply to %s from %s (%s) after %.0f ms", what,
                                                           SideName(s), specs_[s]->name, Ms(Clock::now() - start).count()));
      }
      Pump(deadline);
    }
  }

  // Sends a command and waits for a successful reply (an error reply is a failure).
  absl::StatusOr<json> Call(int s, const std::string& op, json args, Clock::time_point deadline) {
    int64_t id = Send(s, op, std::move(args));
    auto r = WaitReply(s, id, op, deadline, nullptr);
    if (r.ok()) AfterSuccess(s, op, *r);
    return r;
  }

  void AfterSuccess(int s, const std::string& op, const json& result) {
    if (op == "setLocalDescription" && result.is_object() && result.contains("description")) {
      sides_[s].local_description = result["description"];
    }
    if (op == "setRemoteDescription" && sides_[s].srd_rollback) {
      sides_[s].srd_rollback = false;
      return;
    }
    if (op == "setRemoteDescription") {
      Side& peer = sides_[1 - s];
      if (peer.description_in_flight) {
        peer.description_in_flight = false;
        std::vector<json> queued;
        queued.swap(peer.after_description);
        for (const json& c : queued) ForwardCandidate(s, c);
      }
      Side& side = sides_[s];
      side.remote_set = true;
      std::vector<json> pending;
      pending.swap(side.pending_candidates);
      for (const json& c : pending) AddCandidate(s, c);
    }
  }

  std::string PendingSummary(int s) const {
    const auto& ev = sides_[s].events;
    if (ev.empty()) return "no unconsumed events";
    std::string out = absl::StrCat(ev.size(), " unconsumed events, latest: ");
    size_t from = ev.size() > 4 ? ev.size() - 4 : 0;
    for (size_t i = from; i < ev.size(); ++i) absl::StrAppend(&out, ev[i].ev.dump().substr(0, 160), i + 1 < ev.size() ? "; " : "");
    return out;
  }

  // Takes the oldest event of side `s` that satisfies `pred`.
  absl::StatusOr<json> WaitEvent(int s, const std::function<bool(const json&)>& pred, const std::string& what,
                                 Clock::time_point deadline, uint64_t* seq = nullptr) {
    auto start = Clock::now();
    for (;;) {
      auto& events = sides_[s].events;
      for (auto it = events.begin(); it != events.end(); ++it) {
        if (pred(it->ev)) {
          json ev = std::move(it->ev);
          if (seq) *seq = it->seq;
          events.erase(it);
          return ev;
        }
      }
      if (auto st = BackgroundStatus(); !st.ok()) return st;
      if (sides_[s].dead) return DeadStatus(s);
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrFormat("timeout: no %s on %s (%s) after %.0f ms; %s", what, SideName(s),
                                                           specs_[s]->name, Ms(Clock::now() - start).count(),
                                                           PendingSummary(s)));
      }
      Pump(deadline);
    }
  }

  // Waits for a `message` on side r's channel while side s's command `id` runs: an error reply to
  // that command (e.g. sendMany's TypeError for a message over maxMessageSize) fails at once
  // instead of after the whole step timeout.
  absl::StatusOr<json> WaitChannelEventUnlessFailed(int r, const std::string& handle, int s, int64_t id,
                                                    const std::string& what, Clock::time_point deadline) {
    const auto start = Clock::now();
    for (;;) {
      auto it = sides_[s].replies.find(id);
      if (it != sides_[s].replies.end() && !it->second.value("ok", false)) return WaitReply(s, id, what, deadline, nullptr).status();
      auto slice = std::min(deadline, Clock::now() + std::chrono::milliseconds(100));
      auto ev = WaitChannelEvent(r, "message", handle, slice);
      if (ev.ok() || !absl::IsDeadlineExceeded(ev.status())) return ev;
      if (slice == deadline) {
        return absl::DeadlineExceededError(absl::StrCat("(waited ", static_cast<int64_t>(Ms(Clock::now() - start).count()),
                                                        " ms in all) ", ev.status().message()));
      }
    }
  }

  absl::StatusOr<json> WaitChannelEvent(int s, const std::string& event, const std::string& handle, Clock::time_point deadline) {
    return WaitEvent(
        s, [&](const json& ev) { return ev.value("event", "") == event && ev.value("channel", "") == handle; },
        absl::StrCat("'", event, "' for channel ", handle), deadline);
  }

  // ---------------------------------------------------------------- channels and variables

  absl::StatusOr<std::string> Handle(int s, const std::string& name) const {
    auto it = channels_.find(name);
    if (it == channels_.end() || it->second[s].empty()) {
      return absl::FailedPreconditionError(absl::StrCat("channel \"", name, "\" has no handle on ", SideName(s)));
    }
    return it->second[s];
  }

  // Replaces "$var" strings with saved values, and a "channel" name with side s's handle.
  json Resolve(int s, const json& j, bool top = true) const {
    if (j.is_string()) {
      const std::string& str = j.get_ref<const std::string&>();
      if (str.size() > 1 && str[0] == '$') {
        auto it = vars_.find(str.substr(1));
        if (it != vars_.end()) return it->second;
        // "$var+N" / "$var-N": a saved number plus an offset (e.g. one byte over maxMessageSize).
        size_t op = str.find_last_of("+-");
        if (op != std::string::npos && op > 1 && op + 1 < str.size() &&
            str.find_first_not_of("0123456789", op + 1) == std::string::npos) {
          auto v = vars_.find(str.substr(1, op - 1));
          if (v != vars_.end() && v->second.is_number()) {
            int64_t n = std::stoll(str.substr(op + 1));
            return json(v->second.get<int64_t>() + (str[op] == '+' ? n : -n));
          }
        }
      }
      return j;
    }
    if (j.is_array()) {
      json out = json::array();
      for (const json& e : j) out.push_back(Resolve(s, e, false));
      return out;
    }
    if (j.is_object()) {
      json out = json::object();
      for (auto& [k, v] : j.items()) {
        if (top && k == "channel" && v.is_string()) {
          auto h = Handle(s, v.get<std::string>());
          out[k] = h.ok() ? json(*h) : v;
        } else if (top && (k == "transceiver" || k == "sender") && v.is_string()) {
          // A media name (connect "transceivers"/"tracks", or "as") becomes side s's handle.
          auto it = media_.find(v.get<std::string>());
          std::string h;
          if (it != media_.end()) h = k == "transceiver" ? it->second[s].transceiver : it->second[s].sender;
          out[k] = h.empty() ? v : json(h);
        } else {
          out[k] = Resolve(s, v, false);
        }
      }
      return out;
    }
    return j;
  }

  // A `match` / `result` subset: "$var"s resolved, and any "transceiver" / "sender" string that names
  // media becomes side s's handle (so {"transceiver": "audio"} matches that side's track event, also
  // inside {"transceivers": {"$some": {...}}}).
  json ResolveMatch(int s, const json& match) const {
    json out = Resolve(s, match, false);
    std::function<void(json&)> walk = [&](json& j) {
      if (j.is_array()) {
        for (json& e : j) walk(e);
        return;
      }
      if (!j.is_object()) return;
      for (auto& [key, v] : j.items()) {
        if ((key == "transceiver" || key == "sender") && v.is_string()) {
          auto it = media_.find(v.get<std::string>());
          if (it == media_.end()) continue;
          const std::string& h = key == "transceiver" ? it->second[s].transceiver : it->second[s].sender;
          if (!h.empty()) v = h;
        } else {
          walk(v);
        }
      }
    };
    walk(out);
    return out;
  }

  absl::Status Save(const json& save, const json& source) {
    for (auto& [var, ptr] : save.items()) {
      json::json_pointer p(ptr.get<std::string>());
      if (!source.contains(p)) {
        return absl::FailedPreconditionError(absl::StrCat("save: ", ptr.get<std::string>(), " not in ", source.dump().substr(0, 300)));
      }
      vars_[var] = source.at(p);
      Trace(absl::StrCat("$", var, " = ", vars_[var].dump()));
      // Variables named "stats.*" are measurements worth reporting (e.g. messages an unreliable
      // channel delivered under loss): they go to the cell notes too.
      if (var.rfind("stats.", 0) == 0) result_.notes.push_back(absl::StrCat("stats: ", var.substr(6), " = ", vars_[var].dump()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> ResolveSize(const Step& step) const {
    json v = step.size;
    if (v.is_string()) {
      std::string name = v.get<std::string>().substr(1);
      auto it = vars_.find(name);
      if (it == vars_.end()) return absl::FailedPreconditionError(absl::StrCat("size: no variable $", name));
      v = it->second;
      int64_t cap = step.size_cap > 0 ? step.size_cap : kDefaultSizeCap;
      // W3C maxMessageSize: null/0/absent means no limit (Infinity does not fit JSON).
      if (v.is_null() || (v.is_number() && v.get<double>() <= 0)) return cap;
      if (!v.is_number()) return absl::FailedPreconditionError(absl::StrCat("size: $", name, " is ", v.dump()));
      double d = v.get<double>();
      return d > static_cast<double>(cap) ? cap : static_cast<int64_t>(d);
    }
    return v.get<int64_t>();
  }

  // ---------------------------------------------------------------- steps

  absl::Status RunStep(const Step& step) {
    switch (step.kind) {
      case StepKind::kConnect: return Connect(step);
      case StepKind::kOpenChannels: return OpenChannels(step, step.channels, StepDeadline(step), nullptr);
      case StepKind::kDo: return Do(step);
      case StepKind::kExpect: return Expect(step);
      case StepKind::kSendAndExpect: return SendAndExpect(step);
      case StepKind::kThroughput: return Throughput(step);
      case StepKind::kSignal: return Signal(step);
      case StepKind::kExpectState: return ExpectState(step);
      case StepKind::kExpectNoEvent: return ExpectNoEvent(step);
      case StepKind::kExpectEvents: return ExpectEvents(step);
      case StepKind::kStream: return StreamStep(step);
      case StepKind::kNetwork: return NetworkStep(step);
      case StepKind::kExpectStats: return ExpectStats(step);
      case StepKind::kWait: {
        auto until = Deadline(step.for_ms);
        while (Clock::now() < until) {
          if (auto st = BackgroundStatus(); !st.ok()) return st;
          Pump(until);
        }
        return absl::OkStatus();
      }
    }
    return absl::InternalError("unknown step kind");
  }

  // createPeerConnection on both, the channels, then offer/answer with trickle; done when every
  // channel is open on both sides. Setup time runs from the first API call to that point.
  absl::Status Connect(const Step& step) {
    auto deadline = StepDeadline(step);
    auto t0 = Clock::now();
    const bool had_setup = result_.setup_ms.has_value();
    // Media: each entry's handles on the side that makes it (AddMedia); FinishMediaConnect binds the names.
    std::vector<MediaHandles> created(step.media.size());
    auto add_media = [&](bool before_offer) -> absl::Status {
      for (size_t i = 0; i < step.media.size(); ++i) {
        const MediaSpec& m = step.media[i];
        // addTransceiver (any side) and A's addTrack come before the offer; B's addTrack between its
        // setRemoteDescription(offer) and its answer, so that it reuses the offered transceiver.
        bool pre = !m.add_track || m.side == 0;
        if (pre != before_offer) continue;
        auto r = AddMedia(m, deadline);
        if (!r.ok()) return r.status();
        created[i] = *r;
      }
      return absl::OkStatus();
    };
    json config = sc_.config;
    for (auto& [k, v] : step.config.items()) config[k] = v;
    for (int s = 0; s < 2; ++s) {
      if (!step.pc_name[s].empty()) NewPeerConnection(s, step.pc_name[s]);
      json side_config = config;
      for (auto& [k, v] : step.side_config[s].items()) side_config[k] = Resolve(s, v, false);
      auto r = Call(s, "createPeerConnection", json{{"config", side_config}}, deadline);
      if (!r.ok()) return r.status();
    }
    if (!step.trickle) {
      // Non-trickle (JSEP §5.2.1 / RFC 8838 not in use): each description goes out once gathering is
      // complete, carrying every candidate; no candidate travels on its own.
      bool held[2] = {sides_[0].hold, sides_[1].hold};
      sides_[0].hold = sides_[1].hold = true;
      auto negotiate = [&]() -> absl::Status {
        for (int s : {0, 1}) {
          if (s == 1) {
            if (auto st = add_media(false); !st.ok()) return st;
          }
          auto sld = Call(s, "setLocalDescription", json::object(), deadline);
          if (!sld.ok()) return sld.status();
          auto desc = GatheredDescription(s, deadline);
          if (!desc.ok()) return desc.status();
          if (desc->value("sdp", std::string()).find("a=candidate:") == std::string::npos) {
            return absl::FailedPreconditionError(absl::StrCat("non-trickle: ", SideName(s),
                                                              "'s localDescription after gathering has no a=candidate line"));
          }
          auto r = Call(1 - s, "setRemoteDescription", json{{"description", *desc}}, deadline);
          if (!r.ok()) return r.status();
        }
        return absl::OkStatus();
      };
      absl::Status st = add_media(true);
      if (st.ok()) st = OpenChannels(step, step.channels, deadline, negotiate, t0);
      for (int s : {0, 1}) {
        sides_[s].hold = held[s];
        sides_[s].outbox.clear();
      }
      if (!st.ok()) return st;
      return FinishMediaConnect(step, created, deadline, had_setup, t0);
    }
    auto negotiate = [&]() -> absl::Status {
      auto offer = Call(0, "setLocalDescription", json::object(), deadline);
      if (!offer.ok()) return offer.status();
      if (!offer->contains("description")) return absl::FailedPreconditionError("setLocalDescription on A returned no description");
      auto r = Call(1, "setRemoteDescription", json{{"description", (*offer)["description"]}}, deadline);
      if (!r.ok()) return r.status();
      if (auto st = add_media(false); !st.ok()) return st;
      auto answer = Call(1, "setLocalDescription", json::object(), deadline);
      if (!answer.ok()) return answer.status();
      if (!answer->contains("description")) return absl::FailedPreconditionError("setLocalDescription on B returned no description");
      r = Call(0, "setRemoteDescription", json{{"description", (*answer)["description"]}}, deadline);
      return r.status();
    };
    if (auto st = add_media(true); !st.ok()) return st;
    if (auto st = OpenChannels(step, step.channels, deadline, negotiate, t0); !st.ok()) return st;
    return FinishMediaConnect(step, created, deadline, had_setup, t0);
  }

  // addTransceiver / addTrack for one connect media entry; its handles on that side.
  absl::StatusOr<MediaHandles> AddMedia(const MediaSpec& m, Clock::time_point deadline) {
    json args = {{"kind", m.kind}};
    if (!m.source.is_null()) args["source"] = m.source;
    if (!m.add_track) args["init"] = m.init;
    const char* op = m.add_track ? "addTrack" : "addTransceiver";
    auto r = Call(m.side, op, args, deadline);
    if (!r.ok()) return absl::Status(r.status().code(), absl::StrCat("media \"", m.name, "\": ", r.status().message()));
    if (!r->contains("transceiver") || !(*r)["transceiver"].is_string()) {
      return absl::FailedPreconditionError(absl::StrCat(op, " on ", SideName(m.side), " returned no transceiver handle"));
    }
    MediaHandles h;
    h.transceiver = (*r)["transceiver"].get<std::string>();
    if (r->contains("sender") && (*r)["sender"].is_string()) h.sender = (*r)["sender"].get<std::string>();
    return h;
  }

  // After a connect's negotiation: binds every media name on both sides (the other side's transceiver
  // is the one with the same mid, from getTransceivers), then, when the connect has no channels, waits
  // until connectionState is "connected" on both sides (setup time runs to that point).
  absl::Status FinishMediaConnect(const Step& step, const std::vector<MediaHandles>& created, Clock::time_point deadline,
                                  bool had_setup, Clock::time_point t0) {
    if (!step.media.empty()) {
      json list[2];
      for (int s = 0; s < 2; ++s) {
        auto r = Call(s, "getTransceivers", json::object(), deadline);
        if (!r.ok()) return r.status();
        list[s] = r->value("transceivers", json::array());
        if (!list[s].is_array()) return absl::FailedPreconditionError(absl::StrCat("getTransceivers on ", SideName(s), ": no array"));
      }
      auto find = [](const json& l, const char* key, const json& value) -> const json* {
        for (const json& t : l) if (t.is_object() && t.contains(key) && t[key] == value) return &t;
        return nullptr;
      };
      std::map<std::string, std::array<MediaHandles, 2>> bound;
      for (size_t i = 0; i < step.media.size(); ++i) {
        const MediaSpec& m = step.media[i];
        int s = m.side, o = 1 - s;
        const json* mine = find(list[s], "transceiver", json(created[i].transceiver));
        if (!mine || !(*mine).value("mid", json()).is_string()) {
          return absl::FailedPreconditionError(absl::StrCat("media \"", m.name, "\": ", SideName(s), "'s transceiver ",
                                                            created[i].transceiver, " has no mid after negotiation"));
        }
        json mid = (*mine)["mid"];
        const json* theirs = find(list[o], "mid", mid);
        if (!theirs || !(*theirs).value("transceiver", json()).is_string()) {
          return absl::FailedPreconditionError(absl::StrCat("media \"", m.name, "\": ", SideName(o), " has no transceiver with mid ",
                                                            mid.dump(), ": ", list[o].dump().substr(0, 300)));
        }
        std::array<MediaHandles, 2> h;
        h[s] = created[i];
        h[o].transceiver = (*theirs)["transceiver"].get<std::string>();
        h[o].sender = (*theirs).value("sender", json()).is_string() ? (*theirs)["sender"].get<std::string>() : "";
        auto it = bound.find(m.name);
        if (it != bound.end() && (it->second[0].transceiver != h[0].transceiver || it->second[1].transceiver != h[1].transceiver)) {
          return absl::FailedPreconditionError(absl::StrCat("media \"", m.name, "\": the ", m.add_track ? "addTrack" : "addTransceiver",
                                                            " on ", SideName(s), " got transceiver ", h[s].transceiver, " (mid ", mid.dump(),
                                                            "), not the one the name already has (", it->second[s].transceiver, ")"));
        }
        bound[m.name] = h;
        Trace(absl::StrCat("media \"", m.name, "\" (mid ", mid.dump(), "): A ", h[0].transceiver, ", B ", h[1].transceiver));
      }
      for (auto& [name, h] : bound) media_[name] = h;
    }
    if (!step.channels.empty()) return absl::OkStatus();
    if (!had_setup) result_.setup_ms.reset();
    for (int s = 0; s < 2; ++s) {
      std::string last = "?";
      for (;;) {
        auto st = Call(s, "getState", json::object(), deadline);
        if (!st.ok()) return st.status();
        last = st->value("connectionState", std::string("?"));
        if (last == "connected") break;
        if (last == "failed" || last == "closed") {
          return absl::FailedPreconditionError(absl::StrCat("connect: connectionState on ", SideName(s), " is ", last));
        }
        if (Clock::now() >= deadline) {
          return absl::DeadlineExceededError(absl::StrCat("timeout: connectionState on ", SideName(s), " (", specs_[s]->name,
                                                          ") never became connected (last: ", last, ")"));
        }
        PumpFor(50, deadline);
      }
    }
    if (!result_.setup_ms) result_.setup_ms = Ms(Clock::now() - t0).count();
    return absl::OkStatus();
  }

  // Binds `name` to side s's transceiver handle (and its sender's, from getTransceivers).
  absl::Status BindTransceiver(int s, const std::string& name, const std::string& transceiver, Clock::time_point deadline) {
    MediaHandles h;
    h.transceiver = transceiver;
    auto r = Call(s, "getTransceivers", json::object(), deadline);
    if (r.ok() && r->value("transceivers", json()).is_array()) {
      for (const json& t : (*r)["transceivers"]) {
        if (t.is_object() && t.value("transceiver", json()) == json(transceiver) && t.value("sender", json()).is_string()) {
          h.sender = t["sender"].get<std::string>();
        }
      }
    }
    media_[name][s] = h;
    Trace(absl::StrCat("media \"", name, "\" on ", SideName(s), ": ", h.transceiver, h.sender.empty() ? "" : " / " + h.sender));
    return absl::OkStatus();
  }

  // Creates the channels (negotiated ones on both sides), runs `negotiate` if given, then waits for
  // datachannel (in-band channels, on B) and open on both sides, and checks both ends agree.
  absl::Status OpenChannels(const Step& step, const std::vector<ChannelSpec>& specs, Clock::time_point deadline,
                            const std::function<absl::Status()>& negotiate,
                            std::optional<Clock::time_point> t0 = std::nullopt) {
    if (!t0) t0 = Clock::now();
    for (const ChannelSpec& c : specs) {
      for (int s : c.negotiated ? std::vector<int>{0, 1} : std::vector<int>{c.side}) {
        auto r = Call(s, "createDataChannel", json{{"label", c.label}, {"options", c.options}}, deadline);
        if (!r.ok()) return r.status();
        if (!r->contains("channel") || !(*r)["channel"].is_string()) {
          return absl::FailedPreconditionError(absl::StrCat("createDataChannel on ", SideName(s), " returned no channel handle"));
        }
        channels_[c.name][s] = (*r)["channel"].get<std::string>();
      }
    }
    if (negotiate) {
      if (auto st = negotiate(); !st.ok()) return st;
    }
    for (const ChannelSpec& c : specs) {
      if (!c.negotiated) {
        int o = 1 - c.side;  // the side that learns of the in-band channel through `datachannel`
        auto ev = WaitEvent(
            o, [&](const json& e) { return e.value("event", "") == "datachannel" && e.value("label", "") == c.label; },
            absl::StrCat("'datachannel' with label \"", c.label, "\""), deadline);
        if (!ev.ok()) return ev.status();
        if (!ev->contains("channel") || !(*ev)["channel"].is_string()) {
          return absl::FailedPreconditionError("datachannel event without a channel handle");
        }
        channels_[c.name][o] = (*ev)["channel"].get<std::string>();
      }
      for (int s = 0; s < 2; ++s) {
        auto ev = WaitChannelEvent(s, "open", channels_[c.name][s], deadline);
        if (!ev.ok()) return absl::Status(ev.status().code(), absl::StrCat("channel \"", c.name, "\": ", ev.status().message()));
      }
    }
    if (!result_.setup_ms) result_.setup_ms = Ms(Clock::now() - *t0).count();
    // Both ends must describe the same channel (W3C RTCDataChannel attributes, RFC 8832 DCEP).
    for (const ChannelSpec& c : specs) {
      json st[2];
      for (int s = 0; s < 2; ++s) {
        auto r = Call(s, "getChannel", json{{"channel", channels_[c.name][s]}}, deadline);
        if (!r.ok()) return r.status();
        st[s] = *r;
      }
      for (const char* key : {"label", "id", "ordered", "protocol", "negotiated", "readyState"}) {
        if (st[0].value(key, json()) != st[1].value(key, json())) {
          return absl::FailedPreconditionError(absl::StrCat("channel \"", c.name, "\": ", key, " differs: A ",
                                                            st[0].value(key, json()).dump(), ", B ", st[1].value(key, json()).dump()));
        }
      }
      std::string why;
      json want = {{"label", c.label}, {"readyState", "open"}, {"negotiated", c.negotiated}, {"id", {{"$gte", 0}}}};
      if (c.negotiated) want["id"] = c.options["id"];
      if (c.options.contains("protocol")) want["protocol"] = c.options["protocol"];
      if (c.options.contains("ordered")) want["ordered"] = c.options["ordered"];
      if (!JsonMatches(st[0], want, &why)) return absl::FailedPreconditionError(absl::StrCat("channel \"", c.name, "\" on A: ", why));
    }
    (void)step;
    return absl::OkStatus();
  }

  absl::Status Do(const Step& step) {
    int s = step.side;
    if (step.args.contains("channel") && step.args["channel"].is_string() &&
        channels_.count(step.args["channel"].get<std::string>())) {
      if (auto h = Handle(s, step.args["channel"].get<std::string>()); !h.ok()) return h.status();
    }
    json args = Resolve(s, step.args);
    if (!step.rewrite.empty()) {
      json& d = args["description"];
      if (!d.is_object() || !d.contains("sdp") || !d["sdp"].is_string()) {
        return absl::FailedPreconditionError(absl::StrCat("rewrite: args.description has no sdp: ", d.dump().substr(0, 200)));
      }
      auto sdp = RewriteSdp(d["sdp"].get<std::string>(), step.rewrite);
      if (!sdp.ok()) return sdp.status();
      d["sdp"] = *sdp;
    }
    const auto deadline = StepDeadline(step);
    int64_t id = Send(s, step.name, args);
    json error;
    auto r = WaitReply(s, id, step.name, deadline, &error);
    if (!r.ok()) return r.status();
    // "poll": repeat (every 100 ms) until the result matches or the step times out.
    while (step.poll && error.is_null() && !JsonMatches(*r, ResolveMatch(s, step.match), nullptr) &&
           Clock::now() + std::chrono::milliseconds(100) < deadline) {
      PumpFor(100, deadline);
      id = Send(s, step.name, args);
      r = WaitReply(s, id, step.name, deadline, &error);
      if (!r.ok()) return r.status();
    }
    if (!error.is_null()) {
      std::string name = error.value("name", std::string("?"));
      if (step.name == "setLocalDescription") ReleaseInFlight(s);
      if (!step.expect_error.empty() && ErrorExpected(step.expect_error, name)) return absl::OkStatus();
      return absl::FailedPreconditionError(absl::StrCat(step.name, " on ", SideName(s), " failed: ", name, ": ",
                                                        error.value("message", std::string()),
                                                        step.expect_error.empty() ? "" : " (expected " + step.expect_error + ")"));
    }
    if (!step.expect_error.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(step.name, " on ", SideName(s), " succeeded; expected ", step.expect_error));
    }
    AfterSuccess(s, step.name, *r);
    std::string why;
    if (!JsonMatches(*r, ResolveMatch(s, step.match), &why)) {
      return absl::FailedPreconditionError(absl::StrCat(step.name, " on ", SideName(s), ": result ", step.poll ? "(polled until timeout) " : "", why));
    }
    if (!step.bind_as.empty()) {
      if (r->contains("channel") && (*r)["channel"].is_string()) {
        channels_[step.bind_as][s] = (*r)["channel"].get<std::string>();
      } else if (r->contains("transceiver") && (*r)["transceiver"].is_string()) {
        MediaHandles h;
        h.transceiver = (*r)["transceiver"].get<std::string>();
        if (r->contains("sender") && (*r)["sender"].is_string()) h.sender = (*r)["sender"].get<std::string>();
        media_[step.bind_as][s] = h;
      } else {
        return absl::FailedPreconditionError("\"as\": result has no channel or transceiver");
      }
    }
    return Save(step.save, *r);
  }

  absl::Status Expect(const Step& step) {
    int s = step.side;
    std::string handle;
    if (!step.channel.empty()) {
      auto h = Handle(s, step.channel);
      if (!h.ok()) return h.status();
      handle = *h;
    }
    json match = ResolveMatch(s, step.match);
    std::string last_why;
    bool overtaken = false;
    uint64_t seq = 0;
    auto ev = WaitEvent(
        s,
        [&](const json& e) {
          if (!step.before.empty() && e.value("event", "") == step.before && (handle.empty() || e.value("channel", "") == handle)) {
            overtaken = true;
            return true;
          }
          if (e.value("event", "") != step.name) return false;
          if (!handle.empty() && e.value("channel", "") != handle) return false;
          return JsonMatches(e, match, &last_why);
        },
        absl::StrCat("'", step.name, "'", handle.empty() ? "" : " for channel " + step.channel,
                     match.empty() ? "" : " matching " + match.dump()),
        StepDeadline(step), &seq);
    if (!ev.ok()) {
      if (!last_why.empty()) return absl::Status(ev.status().code(), absl::StrCat(ev.status().message(), "; last mismatch: ", last_why));
      return ev.status();
    }
    if (overtaken) {
      // Put it back: a later step may expect it.
      sides_[s].events.push_front(Queued{seq, *ev});
      return absl::FailedPreconditionError(absl::StrCat("'", step.before, "' came before '", step.name, "' on ", SideName(s),
                                                        handle.empty() ? "" : " for channel " + step.channel));
    }
    if (!step.bind_as.empty()) {
      if (ev->contains("channel") && (*ev)["channel"].is_string()) {
        channels_[step.bind_as][s] = (*ev)["channel"].get<std::string>();
      } else if (ev->contains("transceiver") && (*ev)["transceiver"].is_string()) {
        // e.g. a `track` event: its transceiver (and that transceiver's sender) get the name.
        if (auto st = BindTransceiver(s, step.bind_as, (*ev)["transceiver"].get<std::string>(), StepDeadline(step)); !st.ok()) return st;
      } else {
        return absl::FailedPreconditionError("\"as\": event has no channel or transceiver");
      }
    }
    return Save(step.save, *ev);
  }

  std::vector<std::string> StepChannels(const Step& step) const {
    std::vector<std::string> names;
    if (step.channel != "*") return {step.channel};
    for (const auto& [name, handles] : channels_) {
      if (!handles[0].empty() && !handles[1].empty()) names.push_back(name);
    }
    return names;
  }

  absl::Status SendAndExpect(const Step& step) {
    int s = step.side, r = 1 - s;
    auto deadline = StepDeadline(step);
    for (const std::string& name : StepChannels(step)) {
      auto hs = Handle(s, name);
      if (!hs.ok()) return hs.status();
      auto hr = Handle(r, name);
      if (!hr.ok()) return hr.status();
      auto in_channel = [&](absl::Status st) {
        return st.ok() ? st : absl::Status(st.code(), absl::StrCat("channel \"", name, "\" ", SideName(s), "→", SideName(r), ": ", st.message()));
      };
      if (step.has_data) {
        std::string want;
        bool binary = step.data.is_object();
        if (binary) {
          auto bytes = refrtc::Base64Decode(step.data["binary"].get<std::string>());
          want.assign(bytes->begin(), bytes->end());
        } else {
          want = step.data.get<std::string>();
        }
        auto sent = Call(s, "send", json{{"channel", *hs}, {"data", step.data}}, deadline);
        if (!sent.ok()) return in_channel(sent.status());
        auto ev = WaitChannelEvent(r, "message", *hr, deadline);
        if (!ev.ok()) return in_channel(ev.status());
        auto got = DecodeMessage(*ev);
        if (!got.ok()) return in_channel(got.status());
        if (auto st = CheckMessage(*got, want, binary); !st.ok()) return in_channel(st);
        continue;
      }
      auto size = ResolveSize(step);
      if (!size.ok()) return size.status();
      Trace(absl::StrCat("sendAndExpect: ", step.count, " × ", *size, " bytes ", step.binary ? "binary" : "string"));
      int64_t id = Send(s, "sendMany", json{{"channel", *hs}, {"size", *size}, {"count", step.count}, {"binary", step.binary}});
      for (int64_t i = 0; i < step.count; ++i) {
        auto ev = WaitChannelEventUnlessFailed(r, *hr, s, id, "sendMany", deadline);
        if (!ev.ok()) return in_channel(absl::Status(ev.status().code(), absl::StrCat("message ", i, " of ", step.count, " (", *size, " bytes): ", ev.status().message())));
        auto got = DecodeMessage(*ev);
        if (!got.ok()) return in_channel(got.status());
        if (auto st = CheckMessage(*got, Fill(step.binary, *size, i), step.binary); !st.ok()) {
          return in_channel(absl::Status(st.code(), absl::StrCat("message ", i, " (", *size, " bytes): ", st.message())));
        }
      }
      auto done = WaitReply(s, id, "sendMany", deadline, nullptr);
      if (!done.ok()) return in_channel(done.status());
    }
    return absl::OkStatus();
  }


  // Polls getState on side s until iceGatheringState is "complete"; returns its localDescription.
  absl::StatusOr<json> GatheredDescription(int s, Clock::time_point deadline) {
    std::string last = "?";
    for (;;) {
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat("timeout: ", SideName(s), " (", specs_[s]->name,
                                                        ") never reached iceGatheringState complete (last: ", last, ")"));
      }
      auto st = Call(s, "getState", json::object(), deadline);
      if (!st.ok()) return st.status();
      last = st->value("iceGatheringState", std::string("?"));
      if (last == "complete") {
        json d = st->value("localDescription", json());
        if (!d.is_object()) return absl::FailedPreconditionError(absl::StrCat(SideName(s), " has no localDescription"));
        return d;
      }
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat("timeout: ", SideName(s), " never reached iceGatheringState complete (",
                                                        st->value("iceGatheringState", std::string("?")), ")"));
      }
      PumpFor(20, deadline);
    }
  }

  // Lets events flow for `ms` (bounded by `deadline`).
  void PumpFor(int64_t ms, Clock::time_point deadline) {
    auto until = std::min(Clock::now() + std::chrono::milliseconds(ms), deadline);
    while (Clock::now() < until) Pump(until);
  }

  // Sends one command and returns the error name it failed with ("" = success); transport problems
  // (timeout, dead driver) are a non-OK status.
  absl::StatusOr<std::string> Attempt(int s, const std::string& op, const json& args, Clock::time_point deadline,
                                      std::string* message) {
    int64_t id = Send(s, op, args);
    json error;
    auto r = WaitReply(s, id, op, deadline, &error);
    if (!r.ok()) return r.status();
    if (!error.is_null()) {
      if (message) *message = error.value("message", std::string());
      return error.value("name", std::string("?"));
    }
    AfterSuccess(s, op, *r);
    return std::string();
  }

  // "expectError" may list alternatives: "OperationError|InvalidAccessError".
  static bool ErrorExpected(const std::string& expected, const std::string& got) {
    if (got.empty()) return false;
    for (absl::string_view alt : absl::StrSplit(expected, '|')) if (alt == got) return true;
    return false;
  }

  // A failed setLocalDescription sends nothing: its candidates need not wait.
  void ReleaseInFlight(int s) {
    Side& side = sides_[s];
    side.description_in_flight = false;
    std::vector<json> queued;
    queued.swap(side.after_description);
    for (const json& c : queued) ForwardCandidate(1 - s, c);
  }

  // Manual signalling: moves side `from`'s description or held candidates to the other side.
  absl::Status Signal(const Step& step) {
    int s = step.side, o = 1 - s;
    auto deadline = StepDeadline(step);
    std::string tag = absl::StrCat("signal ", step.what, " ", SideName(s), "→", SideName(o));
    if (step.what == "candidates" && step.action == "hold") {
      sides_[s].hold = true;
      Trace(absl::StrCat(tag, ": hold (candidates queue until a signal step moves them)"));
      return absl::OkStatus();
    }
    if (step.delay_ms > 0) PumpFor(step.delay_ms, deadline);
    // The first delivery error (name), checked against expectError at the end.
    std::string first_error, first_message;
    auto note = [&](const std::string& err, const std::string& msg) {
      if (!err.empty() && first_error.empty()) {
        first_error = err;
        first_message = msg;
      }
    };
    if (step.what == "candidates") {
      if (step.wait_gathered) {
        // Gathering is over once the null candidate (end-of-candidates) is in the outbox.
        auto has_end = [&] {
          for (const json& c : sides_[s].outbox) if (c.is_null()) return true;
          return false;
        };
        if (!sides_[s].hold) return absl::FailedPreconditionError(absl::StrCat(tag, ": \"wait\": \"gathered\" needs held candidates (action hold first)"));
        while (!has_end()) {
          if (auto st = BackgroundStatus(); !st.ok()) return st;
          if (sides_[s].dead) return DeadStatus(s);
          if (Clock::now() >= deadline) {
            return absl::DeadlineExceededError(absl::StrCat("timeout: no end-of-candidates (null icecandidate) from ", SideName(s),
                                                            " (", specs_[s]->name, "); ", sides_[s].outbox.size(), " candidates held"));
          }
          Pump(deadline);
        }
      }
      std::vector<json> list;
      list.swap(sides_[s].outbox);
      if (!step.include_end) list.erase(std::remove_if(list.begin(), list.end(), [](const json& c) { return c.is_null(); }), list.end());
      if (step.reverse) std::reverse(list.begin(), list.end());
      for (json& c : list) {
        if (c.is_null() || step.rewrite.empty() || !c.is_object() || !c.contains("candidate")) continue;
        auto line = RewriteSdp(c["candidate"].get<std::string>(), step.rewrite);
        if (!line.ok()) return absl::Status(line.status().code(), absl::StrCat(tag, ": ", line.status().message()));
        c["candidate"] = *line;
      }
      if (relay_) list.erase(std::remove_if(list.begin(), list.end(), [&](const json& c) { return !Relayable(s, c); }), list.end());
      Trace(absl::StrCat(tag, ": ", step.action, " ", list.size(), " candidate(s)"));
      if (step.action == "drop") return absl::OkStatus();
      if (step.action == "auto") {
        sides_[s].hold = false;
        for (const json& c : list) ForwardCandidate(o, c);
        return absl::OkStatus();
      }
      int copies = step.action == "duplicate" ? 2 : 1;
      for (const json& c : list) {
        for (int k = 0; k < copies; ++k) {
          std::string msg;
          auto err = Attempt(o, "addIceCandidate", json{{"candidate", c}}, deadline, &msg);
          if (!err.ok()) return err.status();
          note(*err, msg);
        }
      }
    } else {
      json desc;
      if (step.wait_gathered || step.from_state) {
        auto d = step.wait_gathered ? GatheredDescription(s, deadline) : Call(s, "getState", json::object(), deadline);
        if (!d.ok()) return d.status();
        desc = step.wait_gathered ? *d : d->value("localDescription", json());
      } else {
        desc = sides_[s].local_description;
      }
      if (!desc.is_object() || !desc.contains("sdp") || !desc["sdp"].is_string()) {
        return absl::FailedPreconditionError(absl::StrCat(tag, ": ", SideName(s), " has no local description to send"));
      }
      if (!step.desc_type.empty() && desc.value("type", std::string()) != step.desc_type) {
        return absl::FailedPreconditionError(absl::StrCat(tag, ": description is of type ", desc.value("type", json()).dump(),
                                                          ", expected ", step.desc_type));
      }
      if (!step.rewrite.empty()) {
        auto sdp = RewriteSdp(desc["sdp"].get<std::string>(), step.rewrite);
        if (!sdp.ok()) return absl::Status(sdp.status().code(), absl::StrCat(tag, ": ", sdp.status().message()));
        desc["sdp"] = *sdp;
      }
      Trace(absl::StrCat(tag, ": ", step.action, " ", desc.value("type", std::string())));
      if (step.action == "drop") return absl::OkStatus();
      int copies = step.action == "duplicate" ? 2 : 1;
      for (int k = 0; k < copies; ++k) {
        std::string msg;
        auto err = Attempt(o, "setRemoteDescription", json{{"description", desc}}, deadline, &msg);
        if (!err.ok()) return err.status();
        note(*err, msg);
      }
    }
    if (step.expect_error.empty() && !first_error.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(tag, ": delivery failed on ", SideName(o), ": ", first_error, ": ", first_message));
    }
    if (!step.expect_error.empty() && !ErrorExpected(step.expect_error, first_error)) {
      return absl::FailedPreconditionError(absl::StrCat(tag, ": expected ", step.expect_error, " on ", SideName(o), ", got ",
                                                        first_error.empty() ? "success" : first_error + ": " + first_message));
    }
    return absl::OkStatus();
  }

  // getState (or getChannel for "channel") must match; with "poll", until it does or the step times out.
  absl::Status ExpectState(const Step& step) {
    int s = step.side;
    auto deadline = StepDeadline(step);
    json args = json::object();
    std::string op = "getState";
    if (!step.channel.empty()) {
      auto h = Handle(s, step.channel);
      if (!h.ok()) return h.status();
      op = "getChannel";
      args["channel"] = *h;
    }
    json match = Resolve(s, step.match, false);
    for (;;) {
      auto r = Call(s, op, args, deadline);
      if (!r.ok()) return r.status();
      std::string why;
      if (JsonMatches(*r, match, &why)) return Save(step.save, *r);
      if (!step.poll || Clock::now() >= deadline) {
        return absl::FailedPreconditionError(absl::StrCat(op, " on ", SideName(s), step.poll ? " (polled until timeout)" : "", ": ", why));
      }
      PumpFor(50, deadline);
    }
  }

  // Some getStats entry of type `stats_type` must match (subset); with "absent", none may. "poll" retries
  // every 200 ms until that holds or the step times out.
  absl::Status ExpectStats(const Step& step) {
    int s = step.side;
    auto deadline = StepDeadline(step);
    json match = Resolve(s, step.match, false);
    for (;;) {
      auto r = Call(s, "getStats", json::object(), deadline);
      if (!r.ok()) return r.status();
      json stats = r->value("stats", json::array());
      int of_type = 0;
      std::string first_why;
      std::vector<json> seen;  // a few non-matching entries of the type, for the failure message
      const json* hit = nullptr;
      for (const json& e : stats) {  // an array of RTCStats (an object keyed by id works too)
        if (!e.is_object() || e.value("type", std::string()) != step.stats_type) continue;
        ++of_type;
        std::string why;
        if (JsonMatches(e, match, &why)) {
          hit = &e;
          break;
        }
        if (first_why.empty()) first_why = why;
        if (seen.size() < 3) seen.push_back(e);
      }
      if (hit) Trace(absl::StrCat("expectStats ", step.stats_type, " on ", SideName(s), ": ", hit->dump().substr(0, 600)));
      if (hit && !step.absent) return Save(step.save, *hit);
      if (!hit && step.absent) return absl::OkStatus();
      if (!step.poll || Clock::now() >= deadline) {
        std::string where = absl::StrCat("getStats on ", SideName(s), step.poll ? " (polled until timeout)" : "", ": ");
        if (step.absent) {
          return absl::FailedPreconditionError(absl::StrCat(where, "expected no ", step.stats_type, " entry matching ", match.dump(),
                                                            ", got ", hit->dump().substr(0, 400)));
        }
        std::string entries;
        for (const json& e : seen) absl::StrAppend(&entries, entries.empty() ? "" : "; ", e.dump().substr(0, 400));
        return absl::FailedPreconditionError(absl::StrCat(
            where, of_type == 0 ? absl::StrCat("no ", step.stats_type, " entry")
                                : absl::StrCat("none of the ", of_type, " ", step.stats_type, " entries matches ", match.dump(),
                                               " (first mismatch: ", first_why, "): ", entries)));
      }
      PumpFor(200, deadline);
    }
  }

  // No matching event may be queued now or arrive within forMs (events are left in the queue).
  absl::Status ExpectNoEvent(const Step& step) {
    int s = step.side;
    std::string handle;
    if (!step.channel.empty()) {
      auto h = Handle(s, step.channel);
      if (!h.ok()) return h.status();
      handle = *h;
    }
    json match = ResolveMatch(s, step.match);
    auto until = Deadline(step.for_ms);
    for (;;) {
      for (const Queued& q : sides_[s].events) {
        const json& e = q.ev;
        if (e.value("event", "") != step.name) continue;
        if (!handle.empty() && e.value("channel", "") != handle) continue;
        if (!JsonMatches(e, match, nullptr)) continue;
        return absl::FailedPreconditionError(absl::StrCat("unexpected '", step.name, "' on ", SideName(s), ": ", e.dump().substr(0, 300)));
      }
      if (auto st = BackgroundStatus(); !st.ok()) return st;
      if (sides_[s].dead) return DeadStatus(s);
      if (Clock::now() >= until) return absl::OkStatus();
      Pump(until);
    }
  }

  // Each listed event in turn, each one arriving after the previous one. An event that matches the
  // current entry but arrived before the previous match fails the step at once (wrong order).
  absl::Status ExpectEvents(const Step& step) {
    int s = step.side;
    auto deadline = StepDeadline(step);
    uint64_t last = 0;
    std::string prev;
    for (size_t i = 0; i < step.events.size(); ++i) {
      const EventSpec& spec = step.events[i];
      std::string handle;
      if (!spec.channel.empty()) {
        auto h = Handle(s, spec.channel);
        if (!h.ok()) return h.status();
        handle = *h;
      }
      json match = ResolveMatch(s, spec.match);
      auto matches = [&](const json& e) {
        return e.value("event", "") == spec.name && (handle.empty() || e.value("channel", "") == handle) &&
               JsonMatches(e, match, nullptr);
      };
      std::string what = absl::StrCat("'", spec.name, "'", match.empty() ? "" : " matching " + match.dump());
      for (const Queued& q : sides_[s].events) {
        if (i > 0 && q.seq < last && matches(q.ev)) {
          return absl::FailedPreconditionError(absl::StrCat("event ", i, " ", what, " on ", SideName(s), " came before event ",
                                                            i - 1, " ", prev));
        }
      }
      uint64_t seq = 0;
      auto ev = WaitEvent(s, [&](const json& e) { return matches(e); }, absl::StrCat("event ", i, " ", what), deadline, &seq);
      if (!ev.ok()) return ev.status();
      last = seq;
      prev = what;
    }
    return absl::OkStatus();
  }

  // stream start: one message every intervalMs from `from` on `channel`; stop: no more sends, then
  // every message sent must arrive exactly once, in order, intact (the channel must be ordered and
  // reliable).
  absl::Status StreamStep(const Step& step) {
    int s = step.side, r = 1 - s;
    auto deadline = StepDeadline(step);
    std::string key = absl::StrCat(step.channel, SideName(s));
    if (step.action == "start") {
      if (streams_.count(key)) return absl::FailedPreconditionError(absl::StrCat("stream on ", step.channel, " already running"));
      auto hs = Handle(s, step.channel);
      if (!hs.ok()) return hs.status();
      auto hr = Handle(r, step.channel);
      if (!hr.ok()) return hr.status();
      Stream st;
      st.from = s;
      st.send_handle = *hs;
      st.recv_handle = *hr;
      st.interval_ms = step.interval_ms;
      st.size = step.size.get<int64_t>();
      st.next_due = Clock::now();
      streams_[key] = st;
      return absl::OkStatus();
    }
    auto it = streams_.find(key);
    if (it == streams_.end()) return absl::FailedPreconditionError(absl::StrCat("no stream running on ", step.channel, " from ", SideName(s)));
    Stream st = it->second;
    streams_.erase(it);
    Trace(absl::StrCat("stream ", key, " stopped after ", st.sent, " messages"));
    for (int64_t i = 0; i < st.sent; ++i) {
      auto ev = WaitChannelEvent(r, "message", st.recv_handle, deadline);
      if (!ev.ok()) return absl::Status(ev.status().code(), absl::StrCat("stream ", step.channel, ": message ", i, " of ", st.sent, ": ", ev.status().message()));
      auto got = DecodeMessage(*ev);
      if (!got.ok()) return got.status();
      if (auto c = CheckMessage(*got, StreamPayload(key, i, st.size), false); !c.ok()) {
        return absl::Status(c.code(), absl::StrCat("stream ", step.channel, ": message ", i, " of ", st.sent, ": ", c.message()));
      }
    }
    return absl::OkStatus();
  }

  // Receiver muted with notifyAfter; time from sendMany to the `received` event.
  absl::Status Throughput(const Step& step) {
    int s = step.side, r = 1 - s;
    auto deadline = StepDeadline(step);
    auto hs = Handle(s, step.channel);
    if (!hs.ok()) return hs.status();
    auto hr = Handle(r, step.channel);
    if (!hr.ok()) return hr.status();
    auto size = ResolveSize(step);
    if (!size.ok()) return size.status();
    auto before = Call(r, "getChannel", json{{"channel", *hr}}, deadline);
    if (!before.ok()) return before.status();
    int64_t base_messages = before->value("messagesReceived", int64_t{0});
    int64_t base_bytes = before->value("bytesReceived", int64_t{0});
    auto set = Call(r, "setChannel", json{{"channel", *hr}, {"mute", true}, {"notifyAfter", base_messages + step.count}}, deadline);
    if (!set.ok()) return set.status();
    auto t0 = Clock::now();
    int64_t id = Send(s, "sendMany", json{{"channel", *hs}, {"size", *size}, {"count", step.count}, {"binary", step.binary}});
    auto ev = WaitChannelEvent(r, "received", *hr, deadline);
    if (!ev.ok()) return ev.status();
    double ms = Ms(Clock::now() - t0).count();
    auto done = WaitReply(s, id, "sendMany", deadline, nullptr);
    if (!done.ok()) return done.status();
    int64_t bytes = ev->value("bytes", int64_t{-1}) - base_bytes;
    int64_t messages = ev->value("messages", int64_t{-1}) - base_messages;
    if (messages != step.count || bytes != *size * step.count) {
      return absl::FailedPreconditionError(absl::StrCat("received ", messages, " messages / ", bytes, " bytes, want ",
                                                        step.count, " / ", *size * step.count));
    }
    auto unmute = Call(r, "setChannel", json{{"channel", *hr}, {"mute", false}}, deadline);
    if (!unmute.ok()) return unmute.status();
    ThroughputResult t;
    t.direction = absl::StrCat(SideName(s), "→", SideName(r));
    t.label = step.label.empty() ? absl::StrCat(t.direction, " ", *size, "×", step.count) : step.label;
    t.size = *size;
    t.count = step.count;
    t.ms = ms;
    t.mbps = ms > 0 ? static_cast<double>(bytes) / (ms / 1000.0) / 1e6 : 0;
    Trace(absl::StrFormat("throughput %s: %.1f ms, %.2f MB/s", t.label, t.ms, t.mbps));
    result_.throughput.push_back(t);
    return absl::OkStatus();
  }

  const Scenario& sc_;
  const RunOptions& opts_;
  const DriverSpec* specs_[2];
  Side sides_[2];
  CellResult result_;
  Clock::time_point scenario_deadline_;
  Clock::time_point trace_start_ = Clock::now();
  std::map<std::string, std::array<std::string, 2>> channels_;
  std::map<std::string, std::array<MediaHandles, 2>> media_;  // media name → each side's handles
  std::map<std::string, json> vars_;
  std::string skip_reason_;  // a required protocol feature is missing (Start): the cell is a skip
  std::map<std::string, Stream> streams_;
  uint64_t next_seq_ = 1;
  std::vector<std::string> background_errors_;
  std::vector<std::string> protocol_errors_;
  std::ofstream log_;
  int current_step_ = -1;
  std::unique_ptr<Relay> relay_;  // with a "network" (relay.h); stopped after the drivers
  std::string keylog_path_;
};

}  // namespace

CellResult RunCell(const Scenario& scenario, const DriverSpec& a, const DriverSpec& b, const RunOptions& options) {
  Cell cell(scenario, a, b, options);
  return cell.Run();
}

}  // namespace refrtc::harness
