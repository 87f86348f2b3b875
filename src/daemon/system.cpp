#include "housekeep/system.hpp"

#include "housekeep/error.hpp"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace housekeep {

namespace {

// What the handlers reach: async-signal-safe objects only.
int g_pipe[2] = {-1, -1};
StopFlag* g_stop = nullptr;
std::atomic<bool> g_installed{false};

void write_all(int fd, const char* text)
{
  const auto ignored = ::write(fd, text, std::strlen(text));
  (void)ignored;
}

extern "C" void on_stop_signal(int signo)
{
  if (g_stop->requested()) {
    write_all(STDERR_FILENO, "housekeep: second stop signal: exiting now; the open batch rolls back\n");
    ::_exit(128 + signo);
  }
  g_stop->request(StopReason::interrupted);
  const char byte = 'T';
  const auto ignored = ::write(g_pipe[1], &byte, 1);
  (void)ignored;
}

extern "C" void on_reload_signal(int)
{
  const char byte = 'H';
  const auto ignored = ::write(g_pipe[1], &byte, 1);
  (void)ignored;
}

void install(int signo, void (*handler)(int))
{
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(signo, &action, nullptr);
}

void restore(int signo)
{
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(signo, &action, nullptr);
}

[[noreturn]] void system_error(const char* what)
{
  throw InternalError(fmt::format("{}: {}", what, std::strerror(errno)));
}

} // namespace

SystemWaiter::SystemWaiter(StopFlag& stop, bool reload) : m_reload(reload)
{
  if (g_installed.exchange(true)) {
    throw InternalError("signal handling is already installed");
  }
  if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    system_error("cannot create the signal pipe");
  }
  m_timer = ::timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
  if (m_timer < 0) {
    system_error("cannot create a timer");
  }
  g_stop = &stop;
  install(SIGTERM, on_stop_signal);
  install(SIGINT, on_stop_signal);
  if (m_reload) {
    install(SIGHUP, on_reload_signal);
  }
}

SystemWaiter::~SystemWaiter()
{
  restore(SIGTERM);
  restore(SIGINT);
  if (m_reload) {
    restore(SIGHUP);
  }
  ::close(m_timer);
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
  g_stop = nullptr;
  g_installed = false;
}

Wake SystemWaiter::wait_until(TimePoint deadline)
{
  if (g_stop->requested()) {
    return Wake::stop;
  }
  const auto since_epoch = deadline.time_since_epoch();
  itimerspec spec{};
  if (deadline == TimePoint::max()) {
    // Nothing scheduled: wait for a signal only (a zero it_value disarms the timer).
  } else {
    const auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
    spec.it_value.tv_sec = std::max<time_t>(0, static_cast<time_t>(secs.count()));
    spec.it_value.tv_nsec = static_cast<long>(std::chrono::nanoseconds(since_epoch - secs).count());
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) {
      spec.it_value.tv_nsec = 1;
    }
  }
  if (::timerfd_settime(m_timer, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, nullptr) != 0) {
    system_error("cannot arm the timer");
  }
  pollfd fds[2] = {{g_pipe[0], POLLIN, 0}, {m_timer, POLLIN, 0}};
  while (true) {
    const int ready = ::poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) {
      if (g_stop->requested()) {
        break;
      }
      continue;
    }
    if (ready < 0) {
      system_error("cannot wait");
    }
    break;
  }
  Wake wake = Wake::deadline;
  if ((fds[0].revents & POLLIN) != 0) {
    char bytes[64];
    ssize_t n = 0;
    while ((n = ::read(g_pipe[0], bytes, sizeof bytes)) > 0) {
      for (ssize_t i = 0; i < n; ++i) {
        if (bytes[i] == 'H' && wake != Wake::stop) {
          wake = Wake::reload;
        }
      }
    }
  } else if ((fds[1].revents & POLLIN) != 0) {
    std::uint64_t expirations = 0;
    if (::read(m_timer, &expirations, sizeof expirations) < 0 && errno == ECANCELED) {
      wake = Wake::clock_changed;
    }
  }
  return g_stop->requested() ? Wake::stop : wake;
}

SystemdNotifier::SystemdNotifier()
{
  std::uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    m_watchdog = std::chrono::duration_cast<Millis>(std::chrono::microseconds(usec));
  }
}

void SystemdNotifier::ready()
{
  ::sd_notify(0, "READY=1");
}

void SystemdNotifier::status(std::string_view text)
{
  ::sd_notify(0, fmt::format("STATUS={}", text).c_str());
}

void SystemdNotifier::watchdog()
{
  ::sd_notify(0, "WATCHDOG=1");
}

void SystemdNotifier::stopping()
{
  ::sd_notify(0, "STOPPING=1");
}

} // namespace housekeep
