// Small text helpers shared by messages and output.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace housekeep {

/// The candidate closest to `word` by edit distance, or empty when none is close enough to
/// be a plausible typo.
std::string closest_match(std::string_view word, std::span<const std::string_view> candidates);

/// "1234567" -> "1,234,567".
std::string with_thousands(std::int64_t number);

/// Words longer than this (in bytes) are cut by one_line().
inline constexpr std::size_t k_longest_word = 256;

/// A message made safe to print as one line, whatever values it echoes: control characters
/// written as escapes (\n, \t, \r, \xNN), and any word (a run without spaces) longer than
/// k_longest_word cut at a character boundary, with "…" and its full length.
std::string one_line(std::string_view message);

} // namespace housekeep
