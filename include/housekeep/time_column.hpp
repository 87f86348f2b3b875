// Comparing a time column with an instant, in the column's own representation, so that the
// bare indexed column is compared with a bound value (never wrapped in a function).
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/config.hpp"
#include "housekeep/store.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace housekeep {

/// How the instants of one column are written.
struct TimeEncoding {
  TimeFormat format = TimeFormat::iso8601; // never auto_detect once detected
  bool date_only = false;                  // "2026-01-31"
  char separator = 'T';                    // between date and time: 'T' or ' '
  bool has_seconds = true;                 // "10:00:00" rather than "10:00"
  std::string suffix;                      // "", "Z" or "+00:00"
  /// The column has a time type of its own (PostgreSQL's timestamptz, timestamp, date): its
  /// values are read as instants and compared with one (timestamp without a zone as UTC).
  bool native = false;
  /// The zone whose wall-clock times the column holds (a task's `time_zone`); null: UTC.
  const date::time_zone* zone = nullptr;

  /// The instant as a value comparable with the column's values (whole seconds). In a zone,
  /// a wall-clock time that happens twice (the hour after clocks go back) is read as its
  /// later instant, so a value sorts before the encoded cutoff only when it is older however
  /// it is read: an instant in the first pass of such an hour is written as the hour's start.
  Value encode(TimePoint t) const;
  /// "iso8601 (2026-01-31 10:00:00)", "unix seconds", ... for logs.
  std::string describe() const;
};

/// Reads one column value as an instant; throws DataError when it is not one.
TimePoint decode_time(const Value& value, const TimeEncoding& encoding);

/// How a task reads the times of a column: `time_format` and `time_zone` as configured.
struct TimeSettings {
  TimeFormat format = TimeFormat::auto_detect;
  const date::time_zone* zone = nullptr; // null: UTC
};

/// A task's `time_format` and `time_zone`.
TimeSettings time_settings(const TaskConfig& task);

/// Samples the lowest and highest values of `table.column` and works out their encoding.
/// A `configured` format other than auto_detect is checked against the data. Returns nothing
/// when the column holds no value. Throws DataError (naming `what`, e.g. "tasks.users") for
/// mixed or unparseable layouts, non-UTC offsets, values before 1990 or more than a day in
/// the future, numbers whose size only makes sense in the other unix unit, and a zone set
/// for a column whose times carry their own (unix times, "Z" or "+00:00" suffixes, a type
/// with a zone). `future` is how far ahead of `now` a value may lie (expiry columns look
/// years ahead).
std::optional<TimeEncoding> detect_time_encoding(Store& store, std::string_view table, std::string_view column,
                                                 TimeSettings configured, TimePoint now, std::string_view what,
                                                 Millis future = std::chrono::hours(24));

/// Checks every value of `table.column` that sorts before `cutoff` (what a purge with that
/// cutoff could delete: a value in another layout sorts by its text, not its time), read in
/// short stretches in the order of the column and `key_column`, so by the column's index
/// where there is one. Each must be in `encoding`'s layout, plausible, and truly before the
/// cutoff. Throws DataError naming the first offending key and value. Returns how many
/// values it read.
std::int64_t check_old_side(Store& store, std::string_view table, std::string_view column, std::string_view key_column,
                            const TimeEncoding& encoding, TimePoint cutoff, std::string_view what);

/// What `stats` counts of one time column.
struct RecentCount {
  std::int64_t recent = 0;      // rows whose time lies in [since, now + 1 day]
  std::int64_t unparseable = 0; // rows on the recent side whose value is no plausible time
  std::string first_problem;    // the first of them, or why the column could not be read
};

/// Counts the rows of `table` whose `column` lies at or after `since`, never failing on bad
/// values: when every sampled value is a plausible time, one count by the index; otherwise
/// the recent side (in the layout of the column's lowest values) is read in stretches and
/// each value that is not a plausible time counts as unparseable.
RecentCount count_recent(Store& store, std::string_view table, std::string_view column, std::string_view key_column,
                         TimeSettings configured, TimePoint since, TimePoint now, std::string_view what);

} // namespace housekeep
