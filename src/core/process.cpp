#include "housekeep/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace housekeep {

namespace {

using Steady = std::chrono::steady_clock;

// Grace between SIGTERM and SIGKILL at a timeout.
constexpr std::chrono::milliseconds k_kill_grace{500};

void keep_tail(std::string& tail, const char* data, std::size_t size, std::size_t limit)
{
  tail.append(data, size);
  if (tail.size() > limit) {
    tail.erase(0, tail.size() - limit);
  }
}

} // namespace

std::vector<std::pair<std::string, std::string>> pass_environment(const std::vector<std::string>& names)
{
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& name : names) {
    if (const char* value = std::getenv(name.c_str())) {
      out.emplace_back(name, value);
    }
  }
  return out;
}

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::pair<std::string, std::string>>& environment, Millis timeout,
                          bool capture, std::size_t tail_bytes)
{
  ProcessResult result;
  if (argv.empty()) {
    return result;
  }
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> entries;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& [name, value] : environment) {
    entries.push_back(name + "=" + value);
    if (name == "PATH") {
      path = value;
    }
  }
  std::vector<char*> envp;
  for (auto& entry : entries) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& arg : args) {
    argp.push_back(arg.data());
  }
  argp.push_back(nullptr);
  std::vector<std::string> candidates;
  if (argv.front().find('/') != std::string::npos) {
    candidates.push_back(argv.front());
  } else {
    std::size_t start = 0;
    while (start <= path.size()) {
      const auto end = path.find(':', start);
      const std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
      candidates.push_back((dir.empty() ? "." : dir) + "/" + argv.front());
      if (end == std::string::npos) {
        break;
      }
      start = end + 1;
    }
  }

  int pipe_fds[2] = {-1, -1};
  if (capture && ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return result;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (capture) {
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
    }
    return result;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) {
      ::dup2(null, STDIN_FILENO);
    }
    if (capture) {
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      ::dup2(pipe_fds[1], STDERR_FILENO);
    } else {
      // Our stdout carries results only (`--json | jq`); what the program says is a log.
      ::dup2(STDERR_FILENO, STDOUT_FILENO);
    }
    for (auto& candidate : candidates) {
      ::execve(candidate.c_str(), argp.data(), envp.data());
    }
    ::_exit(127);
  }
  ::setpgid(pid, pid); // both sides, so the group exists whichever runs first
  if (capture) {
    ::close(pipe_fds[1]);
  }
  const auto deadline = Steady::now() + timeout;
  bool open = capture;
  int status = 0;
  bool exited = false;
  bool termed = false;
  Steady::time_point killed_at{};
  while (!exited) {
    if (open) {
      pollfd p{pipe_fds[0], POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) {
        char buffer[4096];
        const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
        if (n > 0) {
          keep_tail(result.output_tail, buffer, static_cast<std::size_t>(n), tail_bytes);
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          open = false;
        }
      }
    } else {
      ::usleep(20000);
    }
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      exited = true;
    } else if (done < 0 && errno != EINTR) {
      break;
    }
    const auto now = Steady::now();
    if (!exited && !termed && now >= deadline) {
      ::kill(-pid, SIGTERM);
      termed = true;
      killed_at = now;
      result.timed_out = true;
    } else if (!exited && termed && now >= killed_at + k_kill_grace) {
      ::kill(-pid, SIGKILL);
    }
  }
  if (result.timed_out) {
    ::kill(-pid, SIGKILL); // whatever of the group is left
  }
  if (capture) {
    // What is left in the pipe, without waiting for grandchildren that still hold it.
    const int flags = ::fcntl(pipe_fds[0], F_GETFL);
    ::fcntl(pipe_fds[0], F_SETFL, flags | O_NONBLOCK);
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
      keep_tail(result.output_tail, buffer, static_cast<std::size_t>(n), tail_bytes);
    }
    ::close(pipe_fds[0]);
  }
  if (!exited) {
    return result;
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  return result;
}

} // namespace housekeep
