// Time is a parameter: core code takes a Clock& or a TimePoint, never reads the clock itself.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace housekeep {

/// An instant in UTC with millisecond precision.
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

/// The source of "now" for everything that depends on it.
class Clock {
public:
  virtual ~Clock() = default;
  /// The current instant.
  virtual TimePoint now() const = 0;
  /// Waits for `duration` (a fake clock just advances).
  virtual void sleep_for(std::chrono::milliseconds duration) const = 0;
};

/// The real wall clock.
class SystemClock final : public Clock {
public:
  TimePoint now() const override;
  void sleep_for(std::chrono::milliseconds duration) const override;
};

/// Formats an instant as ISO-8601 UTC with milliseconds: "2026-03-08T07:00:00.000Z".
std::string format_utc(TimePoint t);

/// The UTC time to the second for file names: "20261125T020000Z".
std::string format_utc_stamp(TimePoint t);

/// Parses what format_utc_stamp() writes; nothing for any other text.
std::optional<TimePoint> parse_utc_stamp(std::string_view text);

/// Parses what format_utc() writes (milliseconds optional); throws DataError otherwise.
TimePoint parse_utc(std::string_view text);

} // namespace housekeep
