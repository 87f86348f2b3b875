// The one duration syntax used everywhere: "90s", "15m", "6h", "30d", "1w", "1h30m".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace housekeep {

using Seconds = std::chrono::seconds;

/// Parses a duration such as "1h30m"; throws UsageError naming the text when it is malformed.
/// Units: ms, s, m, h, d, w; parts add up ("1h30m"); a bare "0" is zero.
std::chrono::milliseconds parse_duration(std::string_view text);

/// Formats a duration in the same syntax, largest units first ("1h30m", "0s").
std::string format_duration(std::chrono::milliseconds duration);

/// Formats an elapsed time for people: "412ms", "3.2s", "4m05s", "2h10m".
std::string humanize_duration(std::chrono::milliseconds duration);

} // namespace housekeep
