// The one duration syntax used everywhere: "90s", "15m", "6h", "30d", "1w", "1h30m".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace housekeep {

using Seconds = std::chrono::seconds;

/// The longest duration accepted anywhere: 100 years. Every sum of a duration and an instant
/// (a cutoff, a next fire time, a deadline) then stays far inside 64-bit milliseconds.
inline constexpr std::chrono::milliseconds k_max_duration{100LL * 366 * 24 * 3600 * 1000};

/// Parses a duration such as "1h30m"; throws UsageError naming the text when it is malformed
/// or longer than k_max_duration. Units: ms, s, m, h, d, w; parts add up ("1h30m"); a bare
/// "0" is zero.
std::chrono::milliseconds parse_duration(std::string_view text);

/// Formats a duration in the same syntax, largest units first ("1h30m", "0s").
std::string format_duration(std::chrono::milliseconds duration);

/// Formats an elapsed time for people: "412ms", "3.2s", "4m05s", "2h10m".
std::string humanize_duration(std::chrono::milliseconds duration);

} // namespace housekeep
