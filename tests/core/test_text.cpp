#include "housekeep/text.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <limits>

using namespace housekeep;

TEST_CASE("with_thousands groups digits by three", "[text]")
{
  CHECK(with_thousands(0) == "0");
  CHECK(with_thousands(7) == "7");
  CHECK(with_thousands(40) == "40");
  CHECK(with_thousands(999) == "999");
  CHECK(with_thousands(1000) == "1,000");
  CHECK(with_thousands(12340) == "12,340");
  CHECK(with_thousands(1234567) == "1,234,567");
  CHECK(with_thousands(-1234) == "-1,234");
  CHECK(with_thousands(std::numeric_limits<std::int64_t>::min()) == "-9,223,372,036,854,775,808");
}

TEST_CASE("closest_match suggests plausible typos only", "[text]")
{
  constexpr std::array<std::string_view, 4> names{"conversations", "messages", "users", "stats"};
  CHECK(closest_match("conversation", names) == "conversations");
  CHECK(closest_match("mesages", names) == "messages");
  CHECK(closest_match("usres", names) == "users");
  CHECK(closest_match("backup", names).empty());
}

TEST_CASE("one_line escapes control characters and cuts long words", "[text]")
{
  CHECK(one_line("plain message, kept as is") == "plain message, kept as is");
  CHECK(one_line("cannot open 'a\nb.db'") == "cannot open 'a\\nb.db'");
  CHECK(one_line("tab\there\r\x01\x7f") == "tab\\there\\r\\x01\\x7f");
  CHECK(one_line("two  spaces and a trailing one ") == "two  spaces and a trailing one ");
  const std::string huge(1 << 20, 'x');
  const std::string cut = one_line("unknown task '" + huge + "' (see --help)");
  CHECK(cut.size() < 300);
  CHECK_THAT(cut, Catch::StartsWith("unknown task 'xxx"));
  CHECK_THAT(cut, Catch::EndsWith("…[1,048,578 bytes] (see --help)"));
  // A cut never splits a UTF-8 character: 'é' is two bytes.
  std::string accents;
  for (int i = 0; i < 200; ++i) {
    accents += "é";
  }
  const std::string cut_accents = one_line(accents);
  const std::string kept = cut_accents.substr(0, cut_accents.find("…"));
  CHECK(kept.size() % 2 == 0);
  CHECK(kept.size() <= k_longest_word);
}
