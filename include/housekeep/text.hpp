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

} // namespace housekeep
