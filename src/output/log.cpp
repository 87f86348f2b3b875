#include "housekeep/log.hpp"

#include "housekeep/clock.hpp"
#include "housekeep/text.hpp"

#include <nlohmann/json.hpp>

namespace housekeep {

namespace {

std::string_view level_name(LogLevel level)
{
  switch (level) {
  case LogLevel::error: return "error";
  case LogLevel::warning: return "warning";
  case LogLevel::notice: return "notice";
  case LogLevel::info: return "info";
  case LogLevel::debug: return "debug";
  }
  return "info";
}

// syslog(3) priorities, as journald reads them from a "<N>" line prefix.
int journal_priority(LogLevel level)
{
  switch (level) {
  case LogLevel::error: return 3;
  case LogLevel::warning: return 4;
  case LogLevel::notice: return 5;
  case LogLevel::info: return 6;
  case LogLevel::debug: return 7;
  }
  return 6;
}

} // namespace

void Logger::log(LogLevel level, std::string_view message) const
{
  write(level, message, false);
}

void Logger::hint(std::string_view message) const
{
  // A hint belongs to the error before it, so it is shown whenever errors are.
  write(LogLevel::error, message, true);
}

void Logger::write(LogLevel level, std::string_view message, bool is_hint) const
{
  if (!enabled(level)) {
    return;
  }
  // One event, one line: a newline in an echoed path or expression must not split it, and a
  // megabyte-long value must not bury it.
  const std::string safe = one_line(message);
  message = safe;
  std::string line;
  if (m_format == LogFormat::json) {
    // Log timestamps are output, not logic: the one place the wall clock is read directly.
    line = nlohmann::json{{"time", format_utc(SystemClock{}.now())},
                          {"level", is_hint ? "hint" : level_name(level)},
                          {"message", message}}
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (is_hint) {
    line = fmt::format("hint: {}", message);
  } else if (level == LogLevel::info || level == LogLevel::debug) {
    line = fmt::format("housekeep: {}", message);
  } else {
    line = fmt::format("housekeep: {}: {}", level_name(level), message);
  }
  if (m_journal) {
    line = fmt::format("<{}>{}", journal_priority(is_hint ? LogLevel::notice : level), line);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), m_out);
  std::fflush(m_out);
}

} // namespace housekeep
