#include "housekeep/report.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/files.hpp"
#include "housekeep/process.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace housekeep {

namespace {

std::string label_value(std::string_view text)
{
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string seconds_text(std::chrono::milliseconds d)
{
  return fmt::format("{:.3f}", static_cast<double>(d.count()) / 1000.0);
}

std::string unix_seconds(TimePoint t)
{
  return seconds_text(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()));
}

// statsd bucket names: letters, digits, '_' and '-' only.
std::string bucket(std::string_view text)
{
  std::string out;
  for (char c : text) {
    out += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' ? c : '_';
  }
  return out;
}

const TaskResult* first_failure(const RunReport& report)
{
  return report.first_failure();
}

} // namespace

std::string prometheus_text(const std::vector<ReportedRun>& runs)
{
  struct Family {
    const char* name;
    const char* help;
  };
  const Family families[] = {
    {"housekeep_last_run_timestamp_seconds", "When the task's last run finished, in Unix time."},
    {"housekeep_last_run_success", "1 if the task's last run ended ok, 0 if not."},
    {"housekeep_last_run_exit_code", "The exit status of the task's last run (0: ok)."},
    {"housekeep_last_run_duration_seconds", "How long the task's last run took."},
    {"housekeep_last_run_deleted_rows", "Rows the task's last run deleted (or would have, on a dry run), per table."},
    {"housekeep_last_run_stat", "The statistics of the last run of the stats task."},
  };
  std::string out;
  for (std::size_t f = 0; f < std::size(families); ++f) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", families[f].name, families[f].help, families[f].name);
    for (const auto& run : runs) {
      for (const auto& task : run.report.tasks) {
        const std::string labels = fmt::format("job=\"{}\",task=\"{}\"", label_value(run.job), label_value(task.task));
        switch (f) {
        case 0:
          out += fmt::format("{}{{{}}} {}\n", families[f].name, labels, unix_seconds(run.report.finished_at));
          break;
        case 1:
          out += fmt::format("{}{{{}}} {}\n", families[f].name, labels, task.status == TaskStatus::ok ? 1 : 0);
          break;
        case 2: out += fmt::format("{}{{{}}} {}\n", families[f].name, labels, static_cast<int>(task.code)); break;
        case 3: out += fmt::format("{}{{{}}} {}\n", families[f].name, labels, seconds_text(task.duration)); break;
        case 4:
          for (const auto& [table, rows] : task.deleted) {
            out += fmt::format("{}{{{},table=\"{}\"}} {}\n", families[f].name, labels, label_value(table), rows);
          }
          break;
        default:
          for (const auto& [name, value] : task.stats) {
            out += fmt::format("{}{{{},name=\"{}\"}} {}\n", families[f].name, labels, label_value(name), value);
          }
          break;
        }
      }
    }
  }
  return out;
}

std::vector<std::string> statsd_lines(const ReportedRun& run)
{
  std::vector<std::string> lines;
  for (const auto& task : run.report.tasks) {
    const std::string name = bucket(task.task);
    lines.push_back(fmt::format("housekeep.run.{}.{}:1|c", name, bucket(task_status_name(task.status))));
    lines.push_back(fmt::format("housekeep.run.{}.duration:{}|ms", name, task.duration.count()));
    if (!run.report.dry_run) {
      for (const auto& [table, rows] : task.deleted) {
        lines.push_back(fmt::format("housekeep.deleted.{}:{}|c", bucket(table), rows));
      }
    }
    for (const auto& [stat, value] : task.stats) {
      lines.push_back(fmt::format("housekeep.stats.{}:{}|g", bucket(stat), value));
    }
  }
  return lines;
}

void write_file_atomically(const std::string& path, const std::string& text)
{
  const std::string temporary = fmt::format("{}.tmp-{}", path, ::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    throw CantCreateError(fmt::format("cannot write metrics file '{}': {}", path, std::strerror(err)),
                          "check that its directory exists and is writable");
  }
  if (const int err = write_all(fd, text); err != 0) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw IoError(fmt::format("cannot write metrics file '{}': {}", path, std::strerror(err)));
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temporary.c_str());
    throw IoError(fmt::format("cannot replace metrics file '{}': {}", path, std::strerror(err)));
  }
}

namespace {

// The address of HOST:PORT; the caller frees it.
addrinfo* resolve_statsd(const std::string& target)
{
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) {
    throw UsageError(fmt::format("--statsd '{}' is not HOST:PORT", target), "for example: --statsd 127.0.0.1:8125");
  }
  std::string host = target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = target.substr(colon + 1);
  int number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (ec != std::errc{} || end != port.data() + port.size() || number < 1 || number > 65535) {
    throw UsageError(fmt::format("--statsd '{}': port '{}' is not a number from 1 to 65535", target, port),
                     "for example: --statsd 127.0.0.1:8125");
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    throw UsageError(fmt::format("--statsd '{}': cannot resolve it", target), "give HOST:PORT of a statsd server");
  }
  return found;
}

} // namespace

void check_statsd_target(const std::string& target)
{
  ::freeaddrinfo(resolve_statsd(target));
}

bool send_statsd(const std::string& target, const std::vector<std::string>& lines)
{
  addrinfo* found = resolve_statsd(target);
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  bool sent = fd >= 0;
  for (const auto& line : lines) {
    if (sent && ::sendto(fd, line.data(), line.size(), 0, found->ai_addr, found->ai_addrlen) < 0) {
      sent = false;
    }
  }
  if (fd >= 0) {
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return sent;
}

std::vector<std::pair<std::string, std::string>> hook_environment(const ReportedRun& run, const std::string& database)
{
  const RunReport& report = run.report;
  const TaskResult* failure = first_failure(report);
  std::string tasks;
  TableCounts per_table; // each table once, over every task, in first-seen order
  std::vector<std::pair<std::string, std::string>> per_task;
  std::int64_t total = 0;
  const auto counts_text = [](const TableCounts& counts) {
    std::string out;
    for (const auto& [table, rows] : counts) {
      out += fmt::format("{}{}={}", out.empty() ? "" : " ", table, rows);
    }
    return out;
  };
  for (const auto& task : report.tasks) {
    tasks += (tasks.empty() ? "" : " ") + task.task;
    for (const auto& [table, rows] : task.deleted) {
      const auto seen =
        std::find_if(per_table.begin(), per_table.end(), [&](const auto& e) { return e.first == table; });
      if (seen == per_table.end()) {
        per_table.emplace_back(table, rows);
      } else {
        seen->second += rows;
      }
      total += rows;
    }
    std::string name = "HOUSEKEEP_DELETED_" + task.task;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    per_task.emplace_back(std::move(name), counts_text(task.deleted));
  }
  std::vector<std::pair<std::string, std::string>> out{
    {"HOUSEKEEP_JOB", run.job},
    {"HOUSEKEEP_TASKS", tasks},
    {"HOUSEKEEP_STATUS", failure == nullptr ? "ok" : std::string(task_status_name(failure->status))},
    {"HOUSEKEEP_EXIT_CODE", std::to_string(failure == nullptr ? 0 : static_cast<int>(failure->code))},
    {"HOUSEKEEP_ERROR", failure == nullptr ? "" : failure->error},
    {"HOUSEKEEP_DELETED", counts_text(per_table)},
    {"HOUSEKEEP_DELETED_TOTAL", std::to_string(total)},
    {"HOUSEKEEP_DURATION_MS",
     std::to_string(
       std::chrono::duration_cast<std::chrono::milliseconds>(report.finished_at - report.started_at).count())},
    {"HOUSEKEEP_DATABASE", database},
  };
  out.insert(out.end(), per_task.begin(), per_task.end());
  return out;
}

// The output is captured because, written raw, it would break --log-format json (and,
// through stdout, --json): Reporter logs each of its lines as a line of its own.
ProcessResult run_hook(const std::string& command, const std::vector<std::pair<std::string, std::string>>& environment,
                       Millis timeout)
{
  auto env = pass_environment({"PATH", "HOME", "LANG", "TZ", "USER", "LOGNAME"});
  env.insert(env.end(), environment.begin(), environment.end());
  return run_process({"/bin/sh", "-c", command}, env, timeout, true);
}

void Reporter::finished(const Config& config, const std::string& job, const RunReport& report)
{
  ReportedRun run{job, report};
  if (!m_targets.metrics_file.empty()) {
    m_latest[job] = run;
    std::vector<ReportedRun> runs;
    for (const auto& [name, latest] : m_latest) {
      runs.push_back(latest);
    }
    try {
      write_file_atomically(m_targets.metrics_file, prometheus_text(runs));
    } catch (const Error& e) {
      m_log.warning("{}", e.what());
    }
  }
  if (!m_targets.statsd.empty()) {
    try {
      if (!send_statsd(m_targets.statsd, statsd_lines(run))) {
        m_log.warning("could not send statsd packets to {}: {}", m_targets.statsd, std::strerror(errno));
      }
    } catch (const Error& e) {
      m_log.warning("{}", e.what());
    }
  }
  std::string on_failure = config.defaults.on_failure;
  std::string on_success = config.defaults.on_success;
  for (const auto& j : config.jobs) {
    if (j.name == job) {
      on_failure = j.on_failure.value_or(on_failure);
      on_success = j.on_success.value_or(on_success);
    }
  }
  const bool ok = report.ok();
  const std::string& hook = ok ? on_success : on_failure;
  if (hook.empty() || report.dry_run) {
    return;
  }
  const char* which = ok ? "on_success" : "on_failure";
  const ProcessResult result = run_hook(hook, hook_environment(run, m_database), config.defaults.hook_timeout);
  const Logger hook_log = m_log.with({.job = job});
  std::size_t start = 0;
  while (start < result.output_tail.size()) {
    std::size_t end = result.output_tail.find('\n', start);
    end = end == std::string::npos ? result.output_tail.size() : end;
    if (end > start) {
      hook_log.info("{} hook: {}", which, std::string_view(result.output_tail).substr(start, end - start));
    }
    start = end + 1;
  }
  const int status = result.status;
  if (status == 0) {
    m_log.debug("{} hook finished", which);
  } else if (status > 128) {
    m_log.warning("{} hook '{}' ended by signal {} (killed after {} if it timed out); the run's own status "
                  "stands",
                  which, hook, status - 128, format_duration(config.defaults.hook_timeout));
  } else {
    m_log.warning("{} hook '{}' exited {}; the run's own status stands", which, hook, status);
  }
}

} // namespace housekeep
