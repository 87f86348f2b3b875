#include "store/backends.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace housekeep::test {

namespace {

std::string env(const char* name)
{
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// A superuser connection to the database `dbname` of the test server.
PGconn* connect_to(const std::string& dbname)
{
  const std::string info = fmt::format("host={} port={} user=postgres dbname={}", env("HOUSEKEEP_TEST_PG_HOST"),
                                       env("HOUSEKEEP_TEST_PG_PORT"), dbname);
  PGconn* conn = PQconnectdb(info.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("test server: " + why);
  }
  PQsetNoticeProcessor(
    conn, [](void*, const char*) {}, nullptr);
  return conn;
}

void run_on(PGconn* conn, const std::string& sql)
{
  PGresult* result = PQexec(conn, sql.c_str());
  const auto status = PQresultStatus(result);
  const std::string why = PQresultErrorMessage(result);
  PQclear(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("test SQL failed: " + why + " in: " + sql);
  }
}

} // namespace

bool PostgresDatabase::available()
{
  return !env("HOUSEKEEP_TEST_PG_HOST").empty() && !env("HOUSEKEEP_TEST_PG_PORT").empty();
}

PostgresDatabase::PostgresDatabase()
{
  static std::atomic<int> counter{0};
  m_name = fmt::format("hk_contract_{}_{}", ::getpid(), counter++);
  PGconn* admin = connect_to("postgres");
  try {
    run_on(admin, fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", m_name));
    run_on(admin, fmt::format("CREATE DATABASE {}", m_name));
  } catch (...) {
    PQfinish(admin);
    throw;
  }
  PQfinish(admin);
  m_conn = connect_to(m_name);
  m_url = fmt::format("postgresql://postgres@/{}?host={}&port={}", m_name, env("HOUSEKEEP_TEST_PG_HOST"),
                      env("HOUSEKEEP_TEST_PG_PORT"));
}

PostgresDatabase::~PostgresDatabase()
{
  PQfinish(m_conn);
  try {
    PGconn* admin = connect_to("postgres");
    run_on(admin, fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", m_name));
    PQfinish(admin);
  } catch (const std::exception&) {
    // The test server is thrown away with everything on it.
  }
}

void PostgresDatabase::exec(const std::string& sql)
{
  run_on(m_conn, sql);
}

std::int64_t PostgresDatabase::integer(const std::string& sql)
{
  PGresult* result = PQexec(m_conn, sql.c_str());
  if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) < 1) {
    const std::string why = PQresultErrorMessage(result);
    PQclear(result);
    throw std::runtime_error("test query failed: " + why + " in: " + sql);
  }
  const std::int64_t value = std::strtoll(PQgetvalue(result, 0, 0), nullptr, 10);
  PQclear(result);
  return value;
}

std::set<std::int64_t> PostgresDatabase::ids(const std::string& sql)
{
  PGresult* result = PQexec(m_conn, sql.c_str());
  std::set<std::int64_t> out;
  for (int r = 0; r < PQntuples(result); ++r) {
    out.insert(std::strtoll(PQgetvalue(result, r, 0), nullptr, 10));
  }
  PQclear(result);
  return out;
}

bool PostgresDatabase::table_exists(const std::string& table)
{
  return integer(fmt::format("SELECT count(*) FROM pg_tables WHERE tablename = '{}'", table)) == 1;
}

std::unique_ptr<Store> PostgresDatabase::open(AccessMode mode)
{
  return open_store(parse_database_url(m_url), OpenOptions{mode, std::chrono::milliseconds(200)});
}

} // namespace housekeep::test
