#include "store/postgres/pg.hpp"

#include "housekeep/error.hpp"
#include "store/backend.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>

namespace housekeep {

namespace {

// Type OIDs (pg_type.dat), stable across versions.
constexpr Oid k_bool = 16;
constexpr Oid k_bytea = 17;
constexpr Oid k_int8 = 20;
constexpr Oid k_int2 = 21;
constexpr Oid k_int4 = 23;
constexpr Oid k_oid = 26;
constexpr Oid k_float4 = 700;
constexpr Oid k_float8 = 701;
constexpr Oid k_date = 1082;
constexpr Oid k_timestamp = 1114;
constexpr Oid k_timestamptz = 1184;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// "2026-06-15 12:00:00[.123456][+00[:00]]" or "2026-06-15" as the server writes them in ISO
// DateStyle; an offset moves the instant, no offset means UTC. Nothing for other text
// ("infinity", BC dates).
std::optional<Timestamp> parse_pg_time(std::string_view text)
{
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int consumed = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%d-%u-%u%n", &year, &month, &day, &consumed) != 3) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
  if (!date.ok()) {
    return std::nullopt;
  }
  Timestamp t = std::chrono::time_point_cast<Timestamp::duration>(std::chrono::sys_days{date});
  std::size_t at = static_cast<std::size_t>(consumed);
  if (at == s.size()) {
    return t;
  }
  if (std::sscanf(s.c_str() + at, " %d:%d:%d%n", &hour, &minute, &second, &consumed) != 3) {
    return std::nullopt;
  }
  at += static_cast<std::size_t>(consumed);
  t += std::chrono::hours(hour) + std::chrono::minutes(minute) + std::chrono::seconds(second);
  if (at < s.size() && s[at] == '.') {
    std::int64_t fraction = 0;
    int digits = 0;
    for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, ++digits) {
      if (digits < 6) {
        fraction = fraction * 10 + (s[at] - '0');
      }
    }
    for (; digits < 6; ++digits) {
      fraction *= 10;
    }
    t += std::chrono::microseconds(fraction);
  }
  if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const int sign = s[at] == '-' ? -1 : 1;
    int offset_hours = 0;
    int offset_minutes = 0;
    std::sscanf(s.c_str() + at + 1, "%d:%d", &offset_hours, &offset_minutes);
    t -= sign * (std::chrono::hours(offset_hours) + std::chrono::minutes(offset_minutes));
  }
  return t;
}

int hex_digit(char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0;
}

// What mask_secrets() hides in the URL (the password of its user information, password-like
// parameters), and the pieces of each around '@', '/', ':' and '?': libpq, reading a URL
// whose password holds those unescaped, may quote a piece back as a host or a database.
// Aligns the URL with its masked form: each "****" stands for the longest text that lets the
// rest align (mask_secrets() ends a password at the last '@'). Collects what they stand for.
bool align(std::string_view text, std::string_view masked, std::vector<std::string>& hidden)
{
  const auto star = masked.find("****");
  if (star == std::string_view::npos) {
    return text == masked;
  }
  if (text.substr(0, star) != masked.substr(0, star)) {
    return false;
  }
  for (std::size_t length = text.size() - star + 1; length-- > 0;) {
    std::vector<std::string> rest;
    if (align(text.substr(star + length), masked.substr(star + 4), rest)) {
      hidden.emplace_back(text.substr(star, length));
      hidden.insert(hidden.end(), rest.begin(), rest.end());
      return true;
    }
  }
  return false;
}

// What mask_secrets() hides in the URL (the password of its user information, password-like
// parameters), and the pieces of each around '@', '/', ':' and '?': libpq, reading a URL
// whose password holds those unescaped, may quote a piece back as a host or a database.
std::vector<std::string> secrets_of(const DatabaseUrl& url)
{
  std::vector<std::string> out;
  align(url.text, url.redacted(), out);
  std::vector<std::string> pieces;
  for (const auto& secret : out) {
    std::size_t start = 0;
    while (true) {
      const auto cut = secret.find_first_of("@/:?", start);
      const std::string piece = secret.substr(start, (cut == std::string::npos ? secret.size() : cut) - start);
      if (piece.size() >= 4) {
        pieces.push_back(piece);
      }
      if (cut == std::string::npos) {
        break;
      }
      start = cut + 1;
    }
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
  // Longest first, so that a piece never breaks up a longer secret before it is replaced.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

// The message with every secret of the URL replaced by "****".
std::string scrub(std::string message, const std::vector<std::string>& secrets)
{
  for (const auto& secret : secrets) {
    if (secret.empty()) {
      continue;
    }
    for (auto at = message.find(secret); at != std::string::npos; at = message.find(secret, at + 4)) {
      message.replace(at, secret.size(), "****");
    }
  }
  return message;
}

// Adds the session settings housekeep needs to the URL's own `options`.
std::string session_options(const DatabaseUrl& url, const OpenOptions& options)
{
  std::string out;
  if (const auto own = url.params.find("options"); own != url.params.end()) {
    out = own->second + " ";
  }
  // UTC and ISO whatever the database's defaults; a row lock held by the application makes
  // a statement give up after busy_timeout instead of waiting without end. (The planner's
  // settings depend on the engine, known once connected: choose_planner_settings().)
  out += fmt::format("-c TimeZone=UTC -c DateStyle=ISO -c lock_timeout={}", options.busy_timeout.count());
  if (options.mode == AccessMode::read_only) {
    out += " -c default_transaction_read_only=on";
  }
  return out;
}

} // namespace

// Their server_version is the PostgreSQL they emulate, not what they are.
PgEngine engine_of_version(std::string_view version)
{
  if (version.find("CockroachDB") != std::string_view::npos) {
    return PgEngine::cockroachdb;
  }
  if (version.find("-YB-") != std::string_view::npos || version.find("YugabyteDB") != std::string_view::npos) {
    return PgEngine::yugabytedb;
  }
  return PgEngine::postgresql;
}

Value pg_value(const char* text, int length, Oid type)
{
  const std::string_view s(text, static_cast<std::size_t>(length));
  switch (type) {
  case k_bool: return Value{s == "t"};
  case k_int2:
  case k_int4:
  case k_int8:
  case k_oid: return Value{static_cast<std::int64_t>(std::strtoll(text, nullptr, 10))};
  case k_float4:
  case k_float8: return Value{std::strtod(text, nullptr)};
  case k_date:
  case k_timestamp:
  case k_timestamptz:
    if (const auto t = parse_pg_time(s)) {
      return Value{*t};
    }
    return Value{std::string(s)};
  case k_bytea: {
    Blob blob;
    if (s.starts_with("\\x")) {
      for (std::size_t i = 2; i + 1 < s.size(); i += 2) {
        blob.bytes.push_back(static_cast<char>(hex_digit(s[i]) * 16 + hex_digit(s[i + 1])));
      }
    }
    return Value{std::move(blob)};
  }
  default: return Value{std::string(s)};
  }
}

PgConnection::PgConnection(const DatabaseUrl& url, const OpenOptions& options)
    : m_label(url.redacted()), m_secrets(secrets_of(url))
{
  const std::string session = session_options(url, options);
  const char* keywords[] = {"dbname", "application_name", "options", "connect_timeout", nullptr};
  const char* values[] = {url.text.c_str(), "housekeep", session.c_str(), "10", nullptr};
  const auto connect = [&] {
    m_conn = PQconnectdbParams(keywords, values, 1);
    if (m_conn == nullptr) {
      throw UnavailableError(fmt::format("database '{}': cannot connect: out of memory", m_label));
    }
  };
  connect();
  if (PQstatus(m_conn) != CONNECTION_OK &&
      std::string_view(PQerrorMessage(m_conn)).find("unsupported startup parameter") != std::string_view::npos) {
    // A pooler (PgBouncer) in front of the server takes no `options`: connect without them
    // and set what it passes on to every server connection it lends (TimeZone, DateStyle).
    // lock_timeout is set per write transaction (begin_write), read-only is kept by this
    // side (execute refuses), since a pooler keeps neither.
    PQfinish(m_conn);
    values[2] = nullptr;
    keywords[2] = nullptr;
    connect();
    m_pooled = true;
  }
  if (PQstatus(m_conn) == CONNECTION_OK) {
    // The server's notices ("already exists, skipping") are no news to the operator.
    PQsetNoticeProcessor(
      m_conn, [](void*, const char*) {}, nullptr);
    if (m_pooled) {
      run_script("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'", "cannot set the session's time zone");
    }
    each_row(
      "SELECT version()", {},
      [&](const std::vector<std::string>&, const std::vector<Value>& row) {
        m_version = std::get<std::string>(row.at(0));
      },
      "cannot read the server's version");
    m_engine = engine_of_version(m_version);
    m_planner = choose_planner_settings();
    if (!m_pooled && !m_planner.empty()) {
      run_script(fmt::format("SET {}", fmt::join(m_planner, "; SET ")), "cannot set the session's planner settings");
    }
    return;
  }
  std::string why = PQerrorMessage(m_conn);
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
    why.pop_back();
  }
  PQfinish(m_conn);
  m_conn = nullptr;
  why = scrub(why, m_secrets);
  const std::string what = fmt::format("database '{}': cannot connect: {}", m_label, why);
  if (why.find("does not exist") != std::string::npos && why.find("database") != std::string::npos) {
    throw NotFoundError(what, "check the database name in the URL (or PGDATABASE)");
  }
  if (why.find("authentication failed") != std::string::npos || why.find("no password supplied") != std::string::npos ||
      why.find("pg_hba.conf") != std::string::npos || why.find("permission denied") != std::string::npos) {
    throw PermissionError(what, "check the user and password (the URL, PGPASSWORD or ~/.pgpass) and pg_hba.conf");
  }
  if (why.starts_with("invalid") || why.find("missing \"=\"") != std::string::npos) {
    throw UsageError(what, "see libpq's connection URIs: postgresql://user@host:port/dbname?sslmode=require");
  }
  throw UnavailableError(what, "is the server running and accepting connections there? retry later");
}

// Every statement housekeep runs walks a short range of an index, or looks rows up one by
// one through one, over pages the walk has just read: that an index lookup costs four
// sequential page reads (random_page_cost's default, for disks that seek) makes the planner
// hash a whole parent table for a few hundred rows of a stretch (an orphan check of 1M
// messages took 10 s so; at 1.1, 1.9 s). And JIT compiling (PostgreSQL 11 and later) costs
// a short statement more than it runs, and so does starting parallel workers (which also
// take CPUs from the application). All for housekeep's session only; a lower
// random_page_cost the server already has stays.
std::vector<std::string> PgConnection::choose_planner_settings()
{
  if (m_engine != PgEngine::postgresql) {
    return {}; // the engines that speak the protocol have planners of their own
  }
  constexpr double k_random_page_cost = 1.1;
  double random_page_cost = 0;
  each_row(
    "SELECT current_setting('random_page_cost')::float8", {},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) {
      random_page_cost = std::get<double>(row.at(0));
    },
    "cannot read the session's planner settings");
  std::vector<std::string> settings{"max_parallel_workers_per_gather = 0"};
  if (random_page_cost > k_random_page_cost) {
    settings.push_back(fmt::format("random_page_cost = {}", k_random_page_cost));
  }
  if (server_version() >= 110000) {
    settings.emplace_back("jit = off");
  }
  return settings;
}

PgConnection::~PgConnection()
{
  if (m_conn != nullptr) {
    PQfinish(m_conn);
  }
}

std::string PgConnection::database() const
{
  return PQdb(m_conn);
}

int PgConnection::server_version() const
{
  return PQserverVersion(m_conn);
}

std::string PgConnection::conninfo() const
{
  std::string out;
  PQconninfoOption* options = PQconninfo(m_conn);
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    const std::string_view keyword = o->keyword;
    if (o->val == nullptr || *o->val == '\0' || keyword == "password" || keyword == "options" ||
        keyword == "application_name") {
      continue;
    }
    std::string value;
    for (const char* c = o->val; *c != '\0'; ++c) {
      if (*c == '\\' || *c == '\'') {
        value += '\\';
      }
      value += *c;
    }
    out += fmt::format("{}{}='{}'", out.empty() ? "" : " ", keyword, value);
  }
  PQconninfoFree(options);
  return out;
}

std::string PgConnection::password() const
{
  const char* password = PQpass(m_conn);
  return password != nullptr ? password : "";
}

bool PgConnection::lost() const
{
  return PQstatus(m_conn) == CONNECTION_BAD;
}

void PgConnection::rollback_quietly() noexcept
{
  if (PQtransactionStatus(m_conn) != PQTRANS_IDLE && PQstatus(m_conn) == CONNECTION_OK) {
    PQclear(PQexec(m_conn, "ROLLBACK"));
  }
}

PGresult* PgConnection::exec(const std::string& sql, const std::vector<Value>& binds, std::string_view doing)
{
  std::vector<std::string> texts(binds.size());
  std::vector<const char*> values(binds.size(), nullptr);
  std::vector<int> lengths(binds.size(), 0);
  std::vector<int> formats(binds.size(), 0);
  for (std::size_t i = 0; i < binds.size(); ++i) {
    std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return;
        } else if constexpr (std::is_same_v<T, std::string>) {
          texts[i] = v;
        } else if constexpr (std::is_same_v<T, bool>) {
          texts[i] = v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          texts[i] = format_timestamp(v);
        } else if constexpr (std::is_same_v<T, Blob>) {
          texts[i] = v.bytes;
          formats[i] = 1; // binary: the bytes as they are
        } else {
          texts[i] = fmt::format("{}", v);
        }
        values[i] = texts[i].c_str();
        lengths[i] = static_cast<int>(texts[i].size());
      },
      binds[i]);
  }
  PGresult* result = PQexecParams(m_conn, sql.c_str(), static_cast<int>(binds.size()), nullptr, values.data(),
                                  lengths.data(), formats.data(), 0);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail(result, doing);
  }
  return result;
}

void PgConnection::fail(PGresult* result, std::string_view doing)
{
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  std::string why = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(m_conn);
  if (result != nullptr) {
    PQclear(result);
  }
  if (why.empty()) {
    why = PQerrorMessage(m_conn);
  }
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
    why.pop_back();
  }
  if (const auto prefix = why.find("ERROR:  "); prefix == 0) {
    why.erase(0, 8);
  }
  why = scrub(why, m_secrets);
  const std::string what = fmt::format("database '{}': {}: {}", m_label, doing, why);
  if (PQstatus(m_conn) == CONNECTION_BAD || sqlstate.starts_with("08") || sqlstate == "57P01") {
    // Connected once, the server is there: a restart, a failover, a network blip. Temporary.
    throw TempFailError(fmt::format("database '{}': {}: the connection was lost: {}", m_label, doing, why),
                        "the open batch was rolled back; the next run continues where this one stopped");
  }
  if (sqlstate.starts_with("23")) {
    throw ConstraintError(why, sqlstate == "23503");
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    throw ConflictError(what, "another transaction held what this one needed; retry later or raise "
                              "database.busy_timeout");
  }
  if (sqlstate == "57014") {
    throw TempFailError(what, "a statement ran past database.statement_timeout (or was cancelled); retry "
                              "later, or raise it");
  }
  if (sqlstate == "42501" || sqlstate == "25006") {
    throw PermissionError(what, sqlstate == "25006" ? "the database is read-only here (a standby, or ?mode=ro)"
                                                    : "grant this role the privilege named, or use another role");
  }
  if (sqlstate.starts_with("42") || sqlstate.starts_with("22")) {
    throw DataError(what);
  }
  if (sqlstate == "53100" || sqlstate.starts_with("58")) {
    throw IoError(what);
  }
  throw TaskError(what);
}

void PgConnection::run_script(const std::string& sql, std::string_view doing)
{
  PGresult* result = PQexec(m_conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail(result, doing);
  }
  PQclear(result);
}

PgOutcome PgConnection::run(const std::string& sql, const std::vector<Value>& binds, std::string_view doing)
{
  const Result result(exec(sql, binds, doing));
  const char* tuples = PQcmdTuples(result.get());
  return PgOutcome{tuples != nullptr && *tuples != '\0' ? std::strtoll(tuples, nullptr, 10) : 0};
}

std::int64_t PgConnection::copy_in(const std::string& sql, const std::function<bool(std::string& buffer)>& fill,
                                   std::string_view doing)
{
  PGresult* started = PQexec(m_conn, sql.c_str());
  if (PQresultStatus(started) != PGRES_COPY_IN) {
    fail(started, doing);
  }
  PQclear(started);
  std::string buffer;
  bool more = true;
  while (more) {
    buffer.clear();
    more = fill(buffer);
    if (!buffer.empty() && PQputCopyData(m_conn, buffer.data(), static_cast<int>(buffer.size())) != 1) {
      fail(nullptr, doing);
    }
  }
  if (PQputCopyEnd(m_conn, nullptr) != 1) {
    fail(nullptr, doing);
  }
  PGresult* ended = PQgetResult(m_conn);
  while (PGresult* extra = PQgetResult(m_conn)) {
    PQclear(extra);
  }
  if (PQresultStatus(ended) != PGRES_COMMAND_OK) {
    fail(ended, doing);
  }
  const Result result(ended);
  const char* tuples = PQcmdTuples(result.get());
  return tuples != nullptr && *tuples != '\0' ? std::strtoll(tuples, nullptr, 10) : 0;
}

void PgConnection::each_row(const std::string& sql, const std::vector<Value>& binds, const RowVisitor& each,
                            std::string_view doing)
{
  const Result result(exec(sql, binds, doing));
  const int columns = PQnfields(result.get());
  std::vector<std::string> names;
  std::vector<Oid> types;
  for (int c = 0; c < columns; ++c) {
    names.emplace_back(PQfname(result.get(), c));
    types.push_back(PQftype(result.get(), c));
  }
  std::vector<Value> values(names.size());
  const int rows = PQntuples(result.get());
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < columns; ++c) {
      values[static_cast<std::size_t>(c)] =
        PQgetisnull(result.get(), r, c) != 0 ? Value{}
                                             : pg_value(PQgetvalue(result.get(), r, c), PQgetlength(result.get(), r, c),
                                                        types[static_cast<std::size_t>(c)]);
    }
    each(names, values);
  }
}

} // namespace housekeep
