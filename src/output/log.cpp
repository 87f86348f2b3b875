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

LogFields LogFields::merged(const LogFields& more) const
{
  LogFields out = *this;
  for (auto [into, from] : {std::pair{&out.task, &more.task}, std::pair{&out.job, &more.job},
                            std::pair{&out.table, &more.table}, std::pair{&out.status, &more.status}}) {
    if (!from->empty()) {
      *into = *from;
    }
  }
  out.rows = more.rows ? more.rows : rows;
  out.duration_ms = more.duration_ms ? more.duration_ms : duration_ms;
  out.code = more.code ? more.code : code;
  return out;
}

Logger Logger::with(const LogFields& fields) const
{
  Logger out = *this;
  out.m_fields = m_fields.merged(fields);
  return out;
}

void Logger::log(LogLevel level, std::string_view message, const LogFields& fields) const
{
  write(level, message, false, fields);
}

void Logger::hint(std::string_view message) const
{
  // A hint belongs to the error before it, so it is shown whenever errors are.
  write(LogLevel::error, message, true, {});
}

void Logger::write(LogLevel level, std::string_view message, bool is_hint, const LogFields& extra) const
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
    nlohmann::ordered_json object{
      {"time", format_utc(SystemClock{}.now())}, {"level", is_hint ? "hint" : level_name(level)}, {"message", message}};
    const LogFields fields = m_fields.merged(extra);
    for (const auto& [key, value] : {std::pair{"task", &fields.task}, std::pair{"job", &fields.job},
                                     std::pair{"table", &fields.table}, std::pair{"status", &fields.status}}) {
      if (!value->empty()) {
        object[key] = *value;
      }
    }
    for (const auto& [key, value] : {std::pair{"rows", fields.rows}, std::pair{"duration_ms", fields.duration_ms}}) {
      if (value) {
        object[key] = *value;
      }
    }
    if (fields.code) {
      object["code"] = *fields.code;
    }
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
