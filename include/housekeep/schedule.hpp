// When a job fires: a cron expression in a time zone, or a fixed interval (`@every DUR`).
//
// Daylight saving time (SPEC §7): a local time that does not exist fires once, at the first
// instant after the gap; a local time that occurs twice fires once, at its first occurrence.
// Expressions whose hour field allows every hour follow real time instead: nothing in a gap,
// twice in a repeated hour. So a daily job runs exactly once per local day.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/cron.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace date {
class time_zone;
}

namespace housekeep {

/// A parsed schedule: a calendar expression, or an interval.
class Schedule {
public:
  /// Parses a cron expression, a macro, or `@every DUR`; throws CronError.
  static Schedule parse(std::string_view text);

  /// The schedule as written.
  const std::string& text() const { return m_text; }
  /// The calendar expression, or nullptr for an interval.
  const CronExpr* cron() const { return m_cron ? &*m_cron : nullptr; }
  /// The interval of `@every`, or zero for a calendar expression.
  std::chrono::milliseconds every() const { return m_every; }

private:
  std::string m_text;
  std::optional<CronExpr> m_cron;
  std::chrono::milliseconds m_every{0};
};

/// A time zone by IANA name, "UTC", or "local" (the system's zone); throws UsageError naming
/// the zone when it is unknown.
const date::time_zone* find_zone(std::string_view name);

/// The first fire time strictly after `after`. For `@every`, `after` is the last fire (or
/// the start) and the answer is `after` plus the interval. Nothing when a calendar
/// expression does not fire within 30 years.
std::optional<TimePoint> next_fire(const Schedule& schedule, const date::time_zone* zone, TimePoint after);

/// One daylight-saving change that affects an expression.
struct DstNote {
  TimePoint at;     // the instant of the change
  std::string text; // "2027-03-14: 02:30 does not exist in America/New_York; fires at 03:00 EDT"
};

/// The daylight-saving changes in [from, until) during which the expression would fire, and
/// what happens to those firings.
std::vector<DstNote> dst_preview(const CronExpr& cron, const date::time_zone* zone, std::string_view zone_name,
                                 TimePoint from, TimePoint until);

/// An instant in ISO-8601 with its UTC offset in `zone`, seconds always shown, UTC written
/// "+00:00": "2026-03-08T03:00:00-04:00".
std::string format_in_zone(TimePoint t, const date::time_zone* zone);

/// Reads ISO-8601 with an offset ("Z", "+02:00", "-0500") or without one (then wall time in
/// `zone`: a repeated time means its first occurrence, a time in a gap the end of the gap);
/// seconds and the time itself are optional. Throws UsageError.
TimePoint parse_time_in_zone(std::string_view text, const date::time_zone* zone);

} // namespace housekeep
