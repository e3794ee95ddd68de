// refrtc_relay: the WebSocket ↔ UDP relay for the browser host of the WASM package.
//   refrtc_relay [--listen ADDR:PORT] [--token T] [--udp-bind ADDR]... [--max-clients N] [-v]
// Prints one JSON line to stdout ({"listen":…,"token":…,"udp":[…]}), then logs only to stderr.
// Protocol: wasm/relay/PROTOCOL.md.
#include <sys/random.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "relay_server.h"

namespace {

refrtc::relay::RelayServer* g_server = nullptr;

void OnSignal(int) {
  if (g_server) g_server->Stop();  // eventfd write: async-signal-safe
}

void Usage(FILE* f) {
  std::fprintf(f,
               "usage: refrtc_relay [--listen ADDR:PORT] [--token T] [--udp-bind ADDR]... [--max-clients N] [-v]\n"
               "  --listen ADDR:PORT  WebSocket listen address (default 127.0.0.1:8787; IPv6 as [::1]:8787;\n"
               "                      port 0 picks a free port, shown in the start line)\n"
               "  --token T           the access token (default $REFRTC_RELAY_TOKEN, else 128 random bits)\n"
               "  --udp-bind ADDR     address for each connection's UDP sockets, repeatable (default 127.0.0.1)\n"
               "  --max-clients N     concurrent WebSocket connections (default 16)\n"
               "  -v                  log every connection on stderr\n"
               "Prints {\"listen\":\"ADDR:PORT\",\"token\":\"T\",\"udp\":[\"ADDR\",...]} on stdout once listening.\n"
               "Protocol: wasm/relay/PROTOCOL.md\n");
}

std::string RandomToken() {
  unsigned char bytes[16];
  size_t have = 0;
  while (have < sizeof bytes) {
    const ssize_t n = getrandom(bytes + have, sizeof bytes - have, 0);
    if (n <= 0) {
      std::fprintf(stderr, "refrtc_relay: getrandom failed: %s\n", std::strerror(errno));
      std::exit(1);
    }
    have += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : bytes) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  refrtc::relay::RelayOptions options;
  options.udp_bind.clear();
  bool have_token = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool inline_value = false;
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {  // --name=value
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    auto take = [&](const char* name) -> std::string {
      if (inline_value) return value;
      if (i + 1 >= argc) {
        std::fprintf(stderr, "refrtc_relay: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--listen") {
      options.listen = take("--listen");
    } else if (arg == "--token") {
      options.token = take("--token");
      have_token = true;
    } else if (arg == "--udp-bind") {
      options.udp_bind.push_back(take("--udp-bind"));
    } else if (arg == "--max-clients") {
      const std::string v = take("--max-clients");
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 100000) {
        std::fprintf(stderr, "refrtc_relay: --max-clients: expected a positive number, got '%s'\n", v.c_str());
        return 2;
      }
      options.max_clients = static_cast<int>(n);
    } else if (arg == "-v" || arg == "--verbose") {
      options.verbose = true;
    } else if (arg == "-h" || arg == "--help") {
      Usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "refrtc_relay: unknown argument '%s'\n", argv[i]);
      Usage(stderr);
      return 2;
    }
  }
  // PROTOCOL.md: --token, else $REFRTC_RELAY_TOKEN, else 128 random bits in hex.
  if (!have_token) {
    const char* env = std::getenv("REFRTC_RELAY_TOKEN");
    options.token = env && *env ? env : RandomToken();
  }
  if (options.token.empty()) {
    std::fprintf(stderr, "refrtc_relay: the token must not be empty\n");
    return 2;
  }

  refrtc::relay::RelayServer server(options);
  std::string error;
  if (!server.Start(&error)) {
    std::fprintf(stderr, "refrtc_relay: %s\n", error.c_str());
    return 1;
  }
  g_server = &server;
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::printf("%s\n", server.StartupLine().c_str());
  std::fflush(stdout);
  const int rc = server.Run();
  g_server = nullptr;
  const auto& s = server.stats();
  if (options.verbose || s.dropped_to_client > 0) {
    std::fprintf(stderr,
                 "refrtc_relay: stopped: %llu connections, %llu refused, %llu datagrams to UDP, %llu to clients, "
                 "%llu dropped (slow clients), %llu send failures\n",
                 static_cast<unsigned long long>(s.connections), static_cast<unsigned long long>(s.rejected),
                 static_cast<unsigned long long>(s.datagrams_to_udp),
                 static_cast<unsigned long long>(s.datagrams_to_client),
                 static_cast<unsigned long long>(s.dropped_to_client),
                 static_cast<unsigned long long>(s.send_failures));
  }
  return rc;
}
