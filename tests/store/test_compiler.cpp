// The shared SQL compiler under two dialects: SQLite's, and one written the way PostgreSQL
// wants it ($n placeholders, boolean tests), which no backend uses yet.
#include "store/sql/compiler.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

using namespace housekeep;

namespace {

std::string numbered(std::size_t n)
{
  return fmt::format("${}", n);
}

std::string question(std::size_t)
{
  return "?";
}

const Dialect k_numbered{&numbered, "{} IS FALSE", "{} IS TRUE", "TRUE", "FALSE"};
const Dialect k_questions{&question, "{} = 0", "({0} IS NOT NULL AND {0} <> 0)", "1", "0"};

RowSet sample_rows()
{
  return RowSet{"users",
                {Before{"date_joined", std::string("2026-01-01")}, IsFalse{"is_active"},
                 KeyIn{"id", {std::int64_t{3}, std::int64_t{5}}},
                 Within{{"date_joined", "id"}, {std::string("2025-01-01"), std::int64_t{7}}, {}}}};
}

} // namespace

TEST_CASE("compiler: the same row set in two dialects", "[store][sql]")
{
  SqlCompiler numbered_sql(k_numbered);
  numbered_sql.sql = "SELECT count(*) FROM \"users\" AS t0";
  numbered_sql.where(sample_rows(), "t0");
  CHECK(numbered_sql.sql == "SELECT count(*) FROM \"users\" AS t0 WHERE t0.\"date_joined\" < $1 AND "
                            "t0.\"is_active\" IS FALSE AND t0.\"id\" IN ($2,$3) AND (t0.\"date_joined\", t0.\"id\") "
                            "> ($4, $5)");
  CHECK(numbered_sql.binds.size() == 5);
  CHECK(numbered_sql.binds[4] == Value{std::int64_t{7}});

  SqlCompiler question_sql(k_questions);
  question_sql.where(sample_rows(), "t0");
  CHECK(question_sql.sql == " WHERE t0.\"date_joined\" < ? AND t0.\"is_active\" = 0 AND t0.\"id\" IN (?,?) AND "
                            "(t0.\"date_joined\", t0.\"id\") > (?, ?)");
}

TEST_CASE("compiler: an empty key list and an open range never hold or always hold", "[store][sql]")
{
  SqlCompiler sql(k_numbered);
  sql.where(RowSet{"t", {KeyIn{"id", {}}, Within{{"id"}, {}, {}}}}, "t0");
  CHECK(sql.sql == " WHERE FALSE AND TRUE");
  CHECK(sql.binds.empty());
}

TEST_CASE("compiler: identifiers are quoted whatever they hold", "[store][sql]")
{
  CHECK(quote("main.conversations") == "\"main\".\"conversations\"");
  CHECK(quote_name("odd\"name.x") == "\"odd\"\"name.x\"");
}

TEST_CASE("compiler: subqueries over other tables' rows", "[store][sql]")
{
  const auto recent = std::make_shared<RowSet>(RowSet{"messages", {AtOrAfter{"created_at", std::string("x")}}});
  SqlCompiler sql(k_numbered);
  sql.where(RowSet{"conversations", {ReferencedBy{"id", recent, "conversation_id", true}, NotAmong{"id", recent}}},
            "t0");
  CHECK(sql.sql == " WHERE NOT EXISTS (SELECT 1 FROM \"messages\" AS t1 WHERE t1.\"conversation_id\" = t0.\"id\" AND "
                   "t1.\"created_at\" >= $1) AND NOT EXISTS (SELECT 1 FROM \"messages\" AS t2 WHERE t2.\"id\" = "
                   "t0.\"id\" AND t2.\"created_at\" >= $2)");
}
