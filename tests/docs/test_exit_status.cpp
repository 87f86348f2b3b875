// The exit-status tables of the README and the man page against the code's own table
// (k_exit_codes): every status the code ends with is documented, and nothing else is.
#include "housekeep/error.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

using namespace housekeep;

namespace {

std::string read_file(const std::string& path)
{
  std::ifstream in(path);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The text from the line `from` to the next line starting with `until`.
std::string section(const std::string& text, const std::string& from, const std::string& until)
{
  const auto start = text.find(from);
  REQUIRE(start != std::string::npos);
  const auto end = text.find(until, start + from.size());
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The numbers that begin the rows of a table, matched line by line.
std::set<int> row_codes(const std::string& table, const std::regex& row)
{
  std::set<int> codes;
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_search(line, match, row)) {
      codes.insert(std::stoi(match[1]));
    }
  }
  return codes;
}

std::set<int> code_table()
{
  std::set<int> codes;
  for (const ExitCode code : k_exit_codes) {
    codes.insert(static_cast<int>(code));
  }
  return codes;
}

} // namespace

TEST_CASE("the README's exit-status table is the code's", "[docs]")
{
  const std::string readme = read_file(std::string(HOUSEKEEP_TESTS_DIR) + "/../README.md");
  const std::string table = section(readme, "\n## Exit status", "\n## ");
  CHECK(row_codes(table, std::regex(R"(^\| (\d+) \|)")) == code_table());
}

TEST_CASE("the man page's exit-status table is the code's", "[docs]")
{
  const std::string man = read_file(std::string(HOUSEKEEP_TESTS_DIR) + "/../man/housekeep.1");
  const std::string table = section(section(man, "\n.SH EXIT STATUS", "\n.SH "), ".TS", ".TE");
  CHECK(row_codes(table, std::regex(R"(^(\d+)\t)")) == code_table());
}

TEST_CASE("every exit status has a kind and a summary of its own", "[docs]")
{
  std::set<std::string_view> kinds;
  for (const ExitCode code : k_exit_codes) {
    CHECK(!exit_code_summary(code).empty());
    kinds.insert(exit_code_kind(code));
  }
  CHECK(kinds.size() == k_exit_codes.size());
}
