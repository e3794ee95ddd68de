#include "driver_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace refrtc::harness {
namespace {

constexpr size_t kMaxStderrLog = 4 << 20;  // keep at most 4 MiB of a driver's log
constexpr size_t kMaxLine = 64 << 20;      // a protocol line larger than this is a broken driver

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DriverProcess>> DriverProcess::Start(const std::vector<std::string>& argv,
                                                                     const std::string& cwd) {
  if (argv.empty()) return absl::InvalidArgumentError("empty driver command line");
  // Writes to a dead driver must give EPIPE, not kill the harness.
  signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2], exec_status[2];
  if (pipe2(in, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(out, O_CLOEXEC) != 0) { close(in[0]); close(in[1]); return absl::InternalError("pipe failed"); }
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(in[0]); close(in[1]); close(out[0]); close(out[1]);
    return absl::InternalError("pipe failed");
  }
  if (pipe2(exec_status, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    return absl::InternalError("pipe failed");
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1], exec_status[0], exec_status[1]}) close(fd);
    return absl::InternalError(absl::StrCat("fork failed: ", strerror(errno)));
  }
  if (pid == 0) {
    // Child: own process group (so Kill() reaches grandchildren), dies with the harness.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    signal(SIGPIPE, SIG_DFL);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
      int e = errno;
      (void)!write(exec_status[1], &e, sizeof e);
      _exit(127);
    }
    execvp(args[0], args.data());
    int e = errno;
    (void)!write(exec_status[1], &e, sizeof e);
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent, so Kill() works even before the child ran
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(exec_status[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(exec_status[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(exec_status[0]);
  std::unique_ptr<DriverProcess> p(new DriverProcess());
  p->pid_ = pid;
  p->stdin_fd_ = in[1];
  p->stdout_fd_ = out[0];
  p->stderr_fd_ = err[0];
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    p->Kill();
    return absl::NotFoundError(absl::StrCat("cannot execute ", argv[0], ": ", strerror(child_errno)));
  }
  for (int fd : {p->stdin_fd_, p->stdout_fd_, p->stderr_fd_}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return p;
}

DriverProcess::~DriverProcess() { Kill(); }

void DriverProcess::QueueLine(const std::string& line) {
  if (stdin_fd_ < 0) return;
  out_.append(line);
  out_.push_back('\n');
  OnWritable();
}

bool DriverProcess::OnWritable() {
  while (!out_.empty() && stdin_fd_ >= 0) {
    ssize_t n = write(stdin_fd_, out_.data(), out_.size());
    if (n > 0) {
      out_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    CloseFd(&stdin_fd_);
    out_.clear();
    return false;
  }
  return true;
}

bool DriverProcess::OnStdoutReadable(std::vector<std::string>* lines) {
  if (stdout_fd_ < 0) return false;
  char buf[65536];
  for (;;) {
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = in_.find('\n', start)) != std::string::npos; start = nl + 1) {
        lines->push_back(in_.substr(start, nl - start));
      }
      in_.erase(0, start);
      if (in_.size() > kMaxLine) {
        stderr_log_.append("\n[harness] driver wrote an over-long protocol line; closing its stdout\n");
        CloseFd(&stdout_fd_);
        return false;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    CloseFd(&stdout_fd_);  // EOF or error
    return false;
  }
}

bool DriverProcess::OnStderrReadable() {
  if (stderr_fd_ < 0) return false;
  char buf[16384];
  for (;;) {
    ssize_t n = read(stderr_fd_, buf, sizeof buf);
    if (n > 0) {
      if (stderr_log_.size() < kMaxStderrLog) stderr_log_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    CloseFd(&stderr_fd_);
    return false;
  }
}

void DriverProcess::CloseStdin() { CloseFd(&stdin_fd_); }

std::string DriverProcess::StderrTail(size_t n) const {
  if (stderr_log_.size() <= n) return stderr_log_;
  return "…" + stderr_log_.substr(stderr_log_.size() - n);
}

bool DriverProcess::Exited(std::string* description) {
  if (!exited_ && pid_ > 0) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      status_ = status;
    }
  }
  if (exited_ && description) {
    if (WIFEXITED(status_)) *description = absl::StrCat("exited with status ", WEXITSTATUS(status_));
    else if (WIFSIGNALED(status_)) *description = absl::StrCat("killed by signal ", WTERMSIG(status_), " (", strsignal(WTERMSIG(status_)), ")");
    else *description = "ended";
  }
  return exited_;
}

void DriverProcess::Kill() {
  // The group may outlive the driver itself (a browser it started): always signal it.
  if (pid_ > 0) kill(-pid_, SIGKILL);
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exited_ = true;
    status_ = status;
  }
  CloseFd(&stdin_fd_);
  CloseFd(&stdout_fd_);
  CloseFd(&stderr_fd_);
}

}  // namespace refrtc::harness
