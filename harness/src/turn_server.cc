#include "turn_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace refrtc::harness {
namespace {

using json = nlohmann::json;

std::string RandomToken(std::mt19937_64& rng, size_t n) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s(n, 'x');
  for (auto& c : s) c = kChars[rng() % (sizeof kChars - 1)];
  return s;
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A port free for both UDP and TCP on 127.0.0.1 right now (the kernel picks it for UDP).
absl::StatusOr<uint16_t> FreePort() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (u < 0) return absl::InternalError("socket failed");
    sockaddr_in a = Loopback(0);
    socklen_t len = sizeof a;
    if (bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      close(u);
      continue;
    }
    uint16_t port = ntohs(a.sin_port);
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in b = Loopback(port);
    bool ok = t >= 0 && bind(t, reinterpret_cast<sockaddr*>(&b), sizeof b) == 0;
    if (t >= 0) close(t);
    close(u);
    if (ok) return port;
  }
  return absl::UnavailableError("no free UDP+TCP port on 127.0.0.1");
}

// RFC 8489 Binding request over UDP; true if a Binding success response comes back in time.
bool StunAnswers(uint16_t port, std::chrono::milliseconds wait) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  uint8_t req[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
  for (int i = 8; i < 20; ++i) req[i] = static_cast<uint8_t>(i * 7);
  sockaddr_in to = Loopback(port);
  sendto(fd, req, sizeof req, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  pollfd p{fd, POLLIN, 0};
  bool ok = false;
  if (poll(&p, 1, static_cast<int>(wait.count())) == 1) {
    uint8_t buf[1500];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    ok = n >= 20 && buf[0] == 0x01 && buf[1] == 0x01 && std::memcmp(buf + 8, req + 8, 12) == 0;
  }
  close(fd);
  return ok;
}

bool TcpAccepts(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in to = Loopback(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  close(fd);
  return ok;
}

std::string Tail(const std::string& path, size_t n) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > n ? s.substr(s.size() - n) : s;
}

bool UsesServers(const json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    return s.find("${turn.") != std::string::npos || s.find("${stun.") != std::string::npos;
  }
  if (j.is_object() || j.is_array())
    for (const auto& v : j) if (UsesServers(v)) return true;
  return false;
}

}  // namespace

std::map<std::string, std::string> TurnServerInfo::Placeholders() const {
  return {{"turn.host", host},         {"turn.port", std::to_string(port)},
          {"turn.username", username}, {"turn.credential", credential},
          {"stun.host", host},         {"stun.port", std::to_string(port)}};
}

std::string TurnServerProcess::FindBinary() {
  if (const char* env = getenv("REFRTC_TURNSERVER"); env && *env) return access(env, X_OK) == 0 ? env : "";
  const char* path = getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(p, ':', absl::SkipEmpty())) {
    std::string f = absl::StrCat(dir, "/turnserver");
    if (access(f.c_str(), X_OK) == 0) return f;
  }
  if (access("/usr/bin/turnserver", X_OK) == 0) return "/usr/bin/turnserver";
  return "";
}

absl::StatusOr<std::unique_ptr<TurnServerProcess>> TurnServerProcess::Start(const std::string& binary,
                                                                             const std::string& log_path,
                                                                             const std::string& work_dir) {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(getpid()));
  mkdir(work_dir.c_str(), 0755);
  absl::Status last = absl::UnavailableError("turnserver did not start");
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = FreePort();
    if (!port.ok()) return port.status();
    std::unique_ptr<TurnServerProcess> p(new TurnServerProcess());
    p->info_.port = *port;
    p->info_.username = absl::StrCat("u", RandomToken(rng, 10));
    p->info_.credential = RandomToken(rng, 20);
    std::vector<std::string> args = {
        binary, "-n",  // no configuration file
        "--no-cli", "--no-tls", "--no-dtls", "--lt-cred-mech",
        "--user", absl::StrCat(p->info_.username, ":", p->info_.credential),
        "--realm", p->info_.realm,
        "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
        "--listening-port", std::to_string(*port),
        "--allow-loopback-peers",  // the peers are on 127.0.0.1 too
        "--log-file", log_path, "--simple-log", "--no-stdout-log",
        "--pidfile", absl::StrCat(work_dir, "/turnserver.pid"),
        "--userdb", absl::StrCat(work_dir, "/turndb"),
        "--no-software-attribute"};
    pid_t pid = fork();
    if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
    if (pid == 0) {
      int devnull = open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
      }
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlives the harness (crash, SIGKILL)
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    p->pid_ = pid;
    // Ready when it answers STUN over UDP and accepts TCP on the same port (up to ~5 s).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool ready = false;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        p->pid_ = -1;
        break;
      }
      if (StunAnswers(*port, std::chrono::milliseconds(100)) && TcpAccepts(*port)) {
        ready = true;
        break;
      }
    }
    if (ready) return p;
    last = absl::UnavailableError(absl::StrCat("turnserver on 127.0.0.1:", *port, " did not become ready; log tail: ",
                                               Tail(log_path, 600)));
    p->Stop();
  }
  return last;
}

TurnServerProcess::~TurnServerProcess() { Stop(); }

void TurnServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool ScenarioUsesServers(const Scenario& sc) {
  if (UsesServers(sc.config)) return true;
  for (const Step& st : sc.steps) {
    if (UsesServers(st.config) || UsesServers(st.args) || UsesServers(st.match)) return true;
    for (const auto& r : st.rewrite)
      if (UsesServers(json(r.match)) || UsesServers(json(r.replace))) return true;
  }
  return false;
}

absl::Status SubstitutePlaceholders(std::string* s, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t i = 0;
  while (i < s->size()) {
    size_t open = s->find("${", i);
    if (open == std::string::npos) break;
    size_t close = s->find('}', open + 2);
    if (close == std::string::npos) break;
    std::string name = s->substr(open + 2, close - open - 2);
    auto it = values.find(name);
    out.append(*s, i, open - i);
    if (it != values.end()) {
      out += it->second;
    } else if (absl::StartsWith(name, "turn.") || absl::StartsWith(name, "stun.")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown placeholder ${", name, "}"));
    } else {
      out.append(*s, open, close + 1 - open);  // someone else's ${...}: left alone
    }
    i = close + 1;
  }
  out.append(*s, i, std::string::npos);
  *s = std::move(out);
  return absl::OkStatus();
}

absl::Status SubstitutePlaceholders(json* j, const std::map<std::string, std::string>& values) {
  if (j->is_string()) {
    std::string s = j->get<std::string>();
    if (auto st = SubstitutePlaceholders(&s, values); !st.ok()) return st;
    *j = s;
    return absl::OkStatus();
  }
  if (j->is_object() || j->is_array()) {
    for (auto& v : *j)
      if (auto st = SubstitutePlaceholders(&v, values); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status SubstituteServers(Scenario* sc, const std::map<std::string, std::string>& values) {
  auto fail = [&](const absl::Status& st, size_t step) {
    return absl::InvalidArgumentError(absl::StrCat(sc->name, step == SIZE_MAX ? ": config" : absl::StrCat(": step ", step + 1),
                                                   ": ", st.message()));
  };
  if (auto st = SubstitutePlaceholders(&sc->config, values); !st.ok()) return fail(st, SIZE_MAX);
  for (size_t i = 0; i < sc->steps.size(); ++i) {
    Step& step = sc->steps[i];
    for (json* j : {&step.config, &step.args, &step.match})
      if (auto st = SubstitutePlaceholders(j, values); !st.ok()) return fail(st, i);
    for (auto& r : step.rewrite) {
      if (auto st = SubstitutePlaceholders(&r.match, values); !st.ok()) return fail(st, i);
      if (auto st = SubstitutePlaceholders(&r.replace, values); !st.ok()) return fail(st, i);
    }
  }
  return absl::OkStatus();
}

}  // namespace refrtc::harness
