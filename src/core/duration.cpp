#include "housekeep/duration.hpp"

#include "housekeep/error.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace housekeep {

namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t millis;
};

// Longest suffixes first so that "ms" is not read as "m".
constexpr std::array<Unit, 6> k_units{{
  {"ms", 1},
  {"w", 7LL * 24 * 3600 * 1000},
  {"d", 24LL * 3600 * 1000},
  {"h", 3600LL * 1000},
  {"m", 60LL * 1000},
  {"s", 1000},
}};

[[noreturn]] void bad_duration(std::string_view text, std::string_view why)
{
  throw UsageError(fmt::format("invalid duration '{}': {}", text, why),
                   "durations look like 90s, 15m, 6h, 30d, 1w or 1h30m");
}

} // namespace

std::chrono::milliseconds parse_duration(std::string_view text)
{
  if (text.empty()) {
    bad_duration(text, "it is empty");
  }
  if (text == "0") {
    return std::chrono::milliseconds{0}; // zero needs no unit ("--sleep 0")
  }
  std::int64_t total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::int64_t number = 0;
    const char* begin = text.data() + pos;
    const char* end = text.data() + text.size();
    auto [next, ec] = std::from_chars(begin, end, number);
    if (ec == std::errc::result_out_of_range) {
      bad_duration(text, "the number is too large");
    }
    if (ec != std::errc{} || number < 0) {
      bad_duration(text, "expected a number followed by a unit (ms, s, m, h, d, w)");
    }
    pos = static_cast<std::size_t>(next - text.data());
    const Unit* unit = nullptr;
    for (const auto& candidate : k_units) {
      if (text.substr(pos, candidate.suffix.size()) == candidate.suffix) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr) {
      bad_duration(text, "missing or unknown unit (use ms, s, m, h, d or w)");
    }
    pos += unit->suffix.size();
    if (number > (k_max_duration.count() - total) / unit->millis) {
      bad_duration(text, "it is longer than 100 years");
    }
    total += number * unit->millis;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds duration)
{
  std::int64_t rest = duration.count();
  if (rest == 0) {
    return "0s";
  }
  std::string out;
  for (const auto& unit : k_units) {
    // Weeks only when they are exact: "30d" reads better than "4w2d".
    if (unit.suffix == "ms" || (unit.suffix == "w" && rest % unit.millis != 0)) {
      continue;
    }
    if (rest >= unit.millis) {
      out += fmt::format("{}{}", rest / unit.millis, unit.suffix);
      rest %= unit.millis;
    }
  }
  if (rest > 0) {
    out += fmt::format("{}ms", rest);
  }
  return out;
}

std::string humanize_duration(std::chrono::milliseconds duration)
{
  const std::int64_t ms = duration.count();
  if (ms < 1000) {
    return fmt::format("{}ms", ms);
  }
  if (ms < 60'000) {
    return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  }
  const std::int64_t s = ms / 1000;
  if (s < 3600) {
    return fmt::format("{}m{:02}s", s / 60, s % 60);
  }
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

} // namespace housekeep
