// refrtc_driver_native: DRIVER_PROTOCOL v1 on stdin/stdout for the native stack.
// Environment: REFRTC_INTERFACES = "all" (default: every up interface incl. loopback, IPv4 and
// IPv6, no link-local), "loopback", or a comma list of interface names.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_split.h"
#include "native_driver.h"

int main() {
  refrtc::io::InterfaceFilter filter;
  if (const char* env = std::getenv("REFRTC_INTERFACES")) {
    std::string v = env;
    if (v == "loopback") filter.allow_names = {"lo"};
    else if (v != "all" && !v.empty())
      for (auto name : absl::StrSplit(v, ',')) filter.allow_names.emplace_back(name);
  }
  refrtc::io::EventLoop loop;
  refrtc::driver::NativeDriver driver(loop, filter);
  ::fcntl(0, F_SETFL, ::fcntl(0, F_GETFL) | O_NONBLOCK);
  std::string buffer;
  bool eof = false;
  loop.WatchFd(0, [&] {
    char chunk[65536];
    while (true) {
      ssize_t n = ::read(0, chunk, sizeof chunk);
      if (n > 0) {
        buffer.append(chunk, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) eof = true;
      break;
    }
    size_t pos;
    while ((pos = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, pos);
      buffer.erase(0, pos + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      driver.HandleLine(line);
      if (driver.shutdown_requested()) break;
    }
    if (eof || driver.shutdown_requested()) {
      loop.UnwatchFd(0);
      loop.Stop();
    }
  });
  loop.AddAfterIterationHook([&] { driver.DrainEvents(); });
  loop.Run();
  return 0;
}
