// A driver child process (docs/DRIVER_PROTOCOL.md): fork/exec with pipes on stdin/stdout/stderr.
// All pipes are non-blocking; the owner polls the fds and calls the On* methods, so a driver that
// stops reading or writing can never block the harness.
#pragma once
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace refrtc::harness {

class DriverProcess {
 public:
  // Starts argv[0] (PATH lookup) in its own process group; it is SIGKILLed if the harness dies.
  // Fails if the program cannot be executed.
  static absl::StatusOr<std::unique_ptr<DriverProcess>> Start(const std::vector<std::string>& argv,
                                                              const std::string& cwd = "");
  ~DriverProcess();  // Kill() + reap

  DriverProcess(const DriverProcess&) = delete;
  DriverProcess& operator=(const DriverProcess&) = delete;

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return stdin_fd_; }
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }

  // Appends "line\n" to the outgoing buffer; written as the pipe accepts it.
  void QueueLine(const std::string& line);
  bool WantsWrite() const { return stdin_fd_ >= 0 && !out_.empty(); }
  // Writes what the pipe accepts. Returns false if stdin is broken (driver gone).
  bool OnWritable();
  // Reads what is available on stdout and appends complete lines. Returns false at EOF or error.
  bool OnStdoutReadable(std::vector<std::string>* lines);
  // Reads stderr into the log buffer (and the sink, if set). Returns false at EOF.
  bool OnStderrReadable();
  // Closes the driver's stdin (a polite way to ask it to exit).
  void CloseStdin();

  // Everything the driver wrote to stderr (whole), and its last `n` bytes.
  const std::string& stderr_log() const { return stderr_log_; }
  std::string StderrTail(size_t n = 2000) const;

  // Non-blocking reap. Returns true once the process has exited; *description says how.
  bool Exited(std::string* description = nullptr);
  // SIGKILL to the process group; reaps it.
  void Kill();

 private:
  DriverProcess() = default;

  pid_t pid_ = -1;
  int stdin_fd_ = -1, stdout_fd_ = -1, stderr_fd_ = -1;
  std::string out_;
  std::string in_;
  std::string stderr_log_;
  bool exited_ = false;
  int status_ = 0;
};

}  // namespace refrtc::harness
