// Cron expressions: parsed once into bit sets, matched against local wall-clock fields.
//
// Syntax: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first;
// `*`, lists, ranges, steps (`*/15`, `1-10/3`, `5/10`), month and weekday names in any case,
// 0 and 7 both Sunday; macros @yearly @annually @monthly @weekly @daily @midnight @hourly.
// When both day fields are restricted a day matches if either does (the classic rule).
#pragma once

#include "housekeep/error.hpp"

#include <date/date.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace housekeep {

/// A malformed expression; the message names the field and the offending text
/// ("minute: 61 is out of range 0-59"). Callers add where the expression came from.
class CronError : public Error {
public:
  explicit CronError(const std::string& message, std::string hint = {})
      : Error(ExitCode::usage, message, std::move(hint))
  {
  }
};

/// A parsed calendar expression.
class CronExpr {
public:
  /// Parses an expression (not `@every`, which is a Schedule of its own); throws CronError.
  static CronExpr parse(std::string_view text);

  /// The expression as written.
  const std::string& text() const { return m_text; }

  /// True when the local wall time given by the fields matches (second-level).
  bool matches(int year, unsigned month, unsigned day, unsigned weekday, unsigned hour, unsigned minute,
               unsigned second) const;

  /// The smallest local time in [from, until) whose fields match, jumping field by field.
  std::optional<date::local_seconds> first_match(date::local_seconds from, date::local_seconds until) const;

  /// True when the hour field allows every hour: such expressions follow real time across
  /// daylight-saving changes (nothing in a gap, twice in a repeated hour).
  bool every_hour() const { return m_hours == k_all_hours; }

  /// The expression in words: "At 02:00, only on Sunday".
  std::string describe() const;

  /// The five classic fields for a crontab line, or nothing when a seconds field other than
  /// 0 makes that impossible.
  std::optional<std::string> crontab_fields() const;

  /// Equivalent systemd OnCalendar= specifications without the time zone: one, or two when
  /// both day fields are restricted (systemd ANDs them, cron ORs them; a timer ORs its
  /// OnCalendar= lines).
  std::vector<std::string> on_calendar() const;

private:
  static constexpr std::uint32_t k_all_hours = (1U << 24) - 1;

  bool day_matches(int year, unsigned month, unsigned day, unsigned weekday) const;
  /// Whether a day matches on either day field (both restricted) rather than on both.
  bool or_days() const { return m_days_restricted && m_weekdays_restricted; }
  static constexpr std::uint32_t k_all_days = ((1U << 31) - 1) << 1; // bits 1-31

  std::string m_text;
  std::uint64_t m_seconds = 1; // bit n: second n
  std::uint64_t m_minutes = 0;
  std::uint32_t m_hours = 0;
  std::uint32_t m_days = 0;           // bits 1-31
  std::uint16_t m_months = 0;         // bits 1-12
  std::uint8_t m_weekdays = 0;        // bits 0-6, Sunday = 0
  bool m_days_restricted = false;     // the day-of-month field does not start with '*'
  bool m_weekdays_restricted = false; // the day-of-week field does not start with '*'
  bool m_has_seconds = false;
  std::string m_field_text[6]; // second, minute, hour, day-of-month, month, day-of-week
};

} // namespace housekeep
