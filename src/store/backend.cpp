#include "store/backend.hpp"

namespace housekeep {

std::vector<std::vector<Value>> Backend::rows(const Sql& statement, std::string_view doing)
{
  std::vector<std::vector<Value>> out;
  query(
    statement, [&](const std::vector<std::string>&, const std::vector<Value>& row) { out.push_back(row); }, doing);
  return out;
}

std::vector<std::string> Backend::texts(const Sql& statement, std::size_t column, std::string_view doing)
{
  std::vector<std::string> out;
  for (const auto& row : rows(statement, doing)) {
    const auto* text = std::get_if<std::string>(&row.at(column));
    out.push_back(text != nullptr ? *text : std::string());
  }
  return out;
}

Value Backend::first_value(const Sql& statement, std::string_view doing)
{
  const auto found = rows(statement, doing);
  return found.empty() || found.front().empty() ? Value{} : found.front().front();
}

} // namespace housekeep
