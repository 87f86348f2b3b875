// kind = "exec": a command with a timeout, in its own process group, skipped when what it
// needs is unset (only_if_env).
#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"
#include "housekeep/process.hpp"
#include "housekeep/task_kind.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace housekeep {

namespace {

void run_exec(TaskContext& context, TaskResult& result)
{
  const TaskConfig& t = *context.task;
  const struct {
    const std::string& name;
    const std::vector<std::string>& command;
    bool shell;
    Millis timeout;
    const std::vector<std::string>& env;
    const std::vector<std::string>& only_if_env;
  } c{t.name, t.strings("command"), t.flag("shell"), t.duration("timeout"), t.strings("env"), t.strings("only_if_env")};
  std::vector<std::string> missing;
  for (const auto& name : c.only_if_env) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') {
      missing.push_back(name);
    }
  }
  if (!missing.empty()) {
    result.status = TaskStatus::skipped;
    result.reason = fmt::format("{} not set (only_if_env)", fmt::join(missing, ", "));
    return;
  }
  const std::vector<std::string> argv =
    c.shell ? std::vector<std::string>{"/bin/sh", "-c", c.command.front()} : c.command;
  if (context.options.dry_run) {
    context.log.info("{}: dry run: would run {}", c.name, fmt::join(c.command, " "));
    return;
  }
  std::vector<std::string> names{"PATH", "HOME", "LANG", "TZ"};
  names.insert(names.end(), c.env.begin(), c.env.end());
  const ProcessResult ran = run_process(argv, pass_environment(names), c.timeout, true);
  result.output = ran.output_tail;
  result.stats = {{"exit_status", ran.status}};
  std::string last_line = ran.output_tail;
  while (!last_line.empty() && (last_line.back() == '\n' || last_line.back() == '\r')) {
    last_line.pop_back();
  }
  if (const auto newline = last_line.rfind('\n'); newline != std::string::npos) {
    last_line = last_line.substr(newline + 1);
  }
  if (ran.timed_out) {
    throw Stopped(StopReason::timed_out,
                  fmt::format("{}: '{}' was still running after {}; killed with its process group", c.name,
                              c.command.front(), format_duration(c.timeout)));
  }
  if (ran.status == 127 || ran.status < 0) {
    throw TaskError(
      fmt::format("{}: cannot run '{}'{}", c.name, c.command.front(), last_line.empty() ? "" : ": " + last_line),
      "check the command's path and permissions in tasks." + c.name + ".command");
  }
  if (ran.status != 0) {
    throw TaskError(fmt::format("{}: '{}' exited {}{}", c.name, c.command.front(), ran.status,
                                last_line.empty() ? "" : ": " + last_line),
                    "its output's last lines are in the run record (housekeep history)");
  }
}

// A single command string runs through /bin/sh, as one command line.
void check_exec(const TaskConfig& task, const KeyProblem& problem)
{
  if (task.flag("shell") && task.strings("command").size() != 1) {
    problem("command", fmt::format("tasks.{}.command: with shell = true, give one command line", task.name), "");
  }
}

} // namespace

const TaskKind& exec_kind()
{
  static const TaskKind kind{"exec",
                             "run a command with a timeout",
                             false,
                             &run_exec,
                             {{"command", KeyType::command, std::vector<std::string>{}, true},
                              {"shell", KeyType::boolean, false},
                              {"timeout", KeyType::duration, Duration{std::chrono::minutes(10), "10m"}, false, 1},
                              {"env", KeyType::strings, std::vector<std::string>{}},
                              {"only_if_env", KeyType::strings, std::vector<std::string>{}}},
                             nullptr,
                             &check_exec};
  return kind;
}

} // namespace housekeep
