#include "housekeep/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace housekeep {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b)
{
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

} // namespace

std::string closest_match(std::string_view word, std::span<const std::string_view> candidates)
{
  std::string_view best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (auto candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return std::string(best);
}

std::string with_thousands(std::int64_t number)
{
  const bool negative = number < 0;
  const std::uint64_t magnitude =
    negative ? 0 - static_cast<std::uint64_t>(number) : static_cast<std::uint64_t>(number);
  const std::string digits = std::to_string(magnitude);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

std::string one_line(std::string_view message)
{
  std::string out;
  out.reserve(std::min(message.size(), std::size_t{4096}));
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t end = pos;
    while (end < message.size() && message[end] != ' ') {
      ++end;
    }
    std::string_view word = message.substr(pos, end - pos);
    const std::size_t full = word.size();
    if (full > k_longest_word) {
      std::size_t cut = k_longest_word - 56;
      while (cut > 0 && (static_cast<unsigned char>(word[cut]) & 0xC0) == 0x80) {
        --cut; // not inside a UTF-8 sequence
      }
      word = word.substr(0, cut);
    }
    for (const char c : word) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\r') {
        out += "\\r";
      } else if (u < 0x20 || u == 0x7f) {
        out += fmt::format("\\x{:02x}", u);
      } else {
        out += c;
      }
    }
    if (full > k_longest_word) {
      out += fmt::format("…[{} bytes]", with_thousands(static_cast<std::int64_t>(full)));
    }
    if (end < message.size()) {
      out += ' ';
    }
    pos = end + 1;
  }
  return out;
}

} // namespace housekeep
