// Logs and progress go to stderr, one line per event, so stdout stays for results.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace housekeep {

/// Severity, most severe first.
enum class LogLevel { error, warning, notice, info, debug };

/// Plain text lines, or one JSON object per line.
enum class LogFormat { text, json };

/// What a line is about, for machines: with --log-format json each field that is set becomes
/// a key of the line's object beside time, level and message. Text lines carry the same facts
/// in their message and ignore these.
struct LogFields {
  std::string task;
  std::string job;
  std::string table;
  std::optional<std::int64_t> rows;
  std::optional<std::int64_t> duration_ms;
  std::string status;
  std::optional<int> code;

  /// These fields, with those of `more` that are set taking precedence.
  LogFields merged(const LogFields& more) const;
};

/// Writes log lines to a stream (stderr in the program, a temporary file in tests).
class Logger {
public:
  /// Lines above `threshold` are dropped; `journal` adds journald's "<N>" priority prefixes.
  Logger(LogLevel threshold, LogFormat format, bool journal, std::FILE* out = stderr)
      : m_threshold(threshold), m_format(format), m_journal(journal), m_out(out)
  {
  }

  /// True when a line of this level would be written.
  bool enabled(LogLevel level) const { return level <= m_threshold; }

  /// A logger writing to the same stream whose every line also carries `fields` (a task's
  /// name for everything logged while it runs, a job's for a daemon firing).
  Logger with(const LogFields& fields) const;

  /// Writes one line, with `fields` added to this logger's own.
  void log(LogLevel level, std::string_view message, const LogFields& fields = {}) const;

  /// Writes the "hint: ..." line that follows an error, telling the operator what to do.
  void hint(std::string_view message) const;

  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... args) const
  {
    log(LogLevel::error, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void warning(fmt::format_string<Args...> f, Args&&... args) const
  {
    log(LogLevel::warning, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void notice(fmt::format_string<Args...> f, Args&&... args) const
  {
    log(LogLevel::notice, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... args) const
  {
    log(LogLevel::info, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) const
  {
    if (enabled(LogLevel::debug)) {
      log(LogLevel::debug, fmt::format(f, std::forward<Args>(args)...));
    }
  }

private:
  void write(LogLevel level, std::string_view message, bool is_hint, const LogFields& fields) const;

  LogFields m_fields;
  LogLevel m_threshold;
  LogFormat m_format;
  bool m_journal;
  std::FILE* m_out;
};

} // namespace housekeep
