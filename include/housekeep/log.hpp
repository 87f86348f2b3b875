// Logs and progress go to stderr, one line per event, so stdout stays for results.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string_view>

namespace housekeep {

/// Severity, most severe first.
enum class LogLevel { error, warning, notice, info, debug };

/// Plain text lines, or one JSON object per line.
enum class LogFormat { text, json };

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

  /// Writes one line.
  void log(LogLevel level, std::string_view message) const;

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
  void write(LogLevel level, std::string_view message, bool is_hint) const;

  LogLevel m_threshold;
  LogFormat m_format;
  bool m_journal;
  std::FILE* m_out;
};

} // namespace housekeep
