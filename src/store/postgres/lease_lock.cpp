#include "store/postgres/lease_lock.hpp"

#include "housekeep/error.hpp"
#include "housekeep/periodic.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <set>

namespace housekeep {

namespace {

// --- Whose lease: a lease row's token begins with its process's identity ------------------
//
// "<boot id>/<pid namespace>/<pid>/<start time>": on the same machine (same boot) and in the
// same pid namespace, a process can tell that the holder is gone (no such pid, or a pid
// since reused by a process started at another time) without waiting for its lease to run
// out. Elsewhere (another host, another container) it cannot, and waits for the lease.

std::string first_line(const std::string& path)
{
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The process's start time in clock ticks since boot (/proc/PID/stat, field 22); empty when
// there is no such process.
std::string start_time(long pid)
{
  const std::string stat = first_line(fmt::format("/proc/{}/stat", pid));
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) {
    return {};
  }
  std::size_t at = paren + 2; // field 3 onwards
  for (int field = 3; field < 22 && at != std::string::npos; ++field) {
    at = stat.find(' ', at);
    at = at == std::string::npos ? at : at + 1;
  }
  return at == std::string::npos ? std::string{} : stat.substr(at, stat.find(' ', at) - at);
}

std::string pid_namespace()
{
  std::array<char, 128> target{};
  const ssize_t n = ::readlink("/proc/self/ns/pid", target.data(), target.size() - 1);
  return n > 0 ? std::string(target.data(), static_cast<std::size_t>(n)) : std::string{};
}

const std::string& boot_id()
{
  static const std::string id = first_line("/proc/sys/kernel/random/boot_id");
  return id;
}

std::string own_identity()
{
  const long pid = ::getpid();
  return fmt::format("{}/{}/{}/{}", boot_id(), pid_namespace(), pid, start_time(pid));
}

// The tokens of the leases this process holds now.
std::mutex g_held_mutex;
std::set<std::string> g_held;

// True when the lease of `token` can be known to have no holder any more: its process is gone
// from this machine, or it is this process's own, left by a connection that was lost.
bool holder_gone(const std::string& token)
{
  const auto bar = token.find('|');
  const std::string identity = token.substr(0, bar);
  const std::string mine = own_identity();
  if (bar == std::string::npos || boot_id().empty() || identity.empty()) {
    return false;
  }
  if (identity == mine) {
    const std::lock_guard guard(g_held_mutex);
    return g_held.count(token) == 0;
  }
  // Same boot and namespace: the rest is "<pid>/<start>".
  const std::string prefix = fmt::format("{}/{}/", boot_id(), pid_namespace());
  if (!identity.starts_with(prefix)) {
    return false;
  }
  const std::string rest = identity.substr(prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string::npos) {
    return false;
  }
  const long pid = std::strtol(rest.c_str(), nullptr, 10);
  return pid > 0 && start_time(pid) != rest.substr(slash + 1);
}

std::string scope_name(LockScope scope)
{
  switch (scope) {
  case LockScope::purge: break;
  }
  return "purge";
}

// housekeep_locks as SQL names it: in `schema`, or unqualified.
std::string locks_table(const std::string& schema)
{
  return schema.empty() ? "housekeep_locks" : schema + ".housekeep_locks";
}

void create_locks_table(PgConnection& connection, const std::string& schema)
{
  if (!schema.empty()) {
    connection.run(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", schema), {},
                   fmt::format("cannot create the schema {} for housekeep's tables", schema));
  }
  connection.run(
    fmt::format("CREATE TABLE IF NOT EXISTS {} (scope TEXT PRIMARY KEY, pid BIGINT NOT NULL, host TEXT NOT "
                "NULL, what TEXT NOT NULL, since TEXT NOT NULL, token TEXT NOT NULL, lease_until "
                "TIMESTAMPTZ NOT NULL)",
                locks_table(schema)),
    {}, "cannot create housekeep_locks");
}

bool locks_table_exists(PgConnection& connection, const std::string& schema)
{
  bool exists = false;
  connection.each_row(
    "SELECT to_regclass($1) IS NOT NULL", {locks_table(schema)},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) { exists = std::get<bool>(row.at(0)); },
    "cannot read housekeep_locks");
  return exists;
}

LockHolder holder_of(const std::vector<Value>& row)
{
  return LockHolder{std::get<std::int64_t>(row.at(0)), std::get<std::string>(row.at(1)),
                    std::get<std::string>(row.at(2)), std::get<std::string>(row.at(3))};
}

// A held lease, renewed on its own connection (whatever transaction the store's connection
// is in) every quarter of its lease until released.
class LeaseLock final : public Lock {
public:
  LeaseLock(const DatabaseUrl& url, std::string table, std::string scope, std::string token,
            std::chrono::milliseconds lease)
      : m_connection(url, OpenOptions{}), m_table(std::move(table)), m_scope(std::move(scope)),
        m_token(std::move(token)), m_lease(lease)
  {
    m_renewer.emplace(m_lease / 4, [this] {
      renew();
      return true;
    });
    const std::lock_guard guard(g_held_mutex);
    g_held.insert(m_token);
  }

  ~LeaseLock() override
  {
    m_renewer.reset();
    {
      const std::lock_guard guard(g_held_mutex);
      g_held.erase(m_token);
    }
    try {
      m_connection.run(fmt::format("DELETE FROM {} WHERE scope = $1 AND token = $2", m_table), {m_scope, m_token},
                       "cannot release the lock");
    } catch (const Error&) {
      // The lease runs out by itself.
    }
  }
  LeaseLock(const LeaseLock&) = delete;
  LeaseLock& operator=(const LeaseLock&) = delete;

private:
  PgConnection m_connection;
  std::string m_table;
  std::string m_scope;
  std::string m_token;
  std::chrono::milliseconds m_lease;
  std::optional<Periodic> m_renewer; // last: stopped before the members it uses go

  void renew()
  {
    try {
      m_connection.run(fmt::format("UPDATE {} SET lease_until = now() + interval '{} milliseconds' "
                                   "WHERE scope = $1 AND token = $2",
                                   m_table, m_lease.count()),
                       {m_scope, m_token}, "cannot renew the lock");
    } catch (const Error&) {
      // The next renewal tries again; a lease that ran out is taken over, and said so.
    }
  }
};

} // namespace

LockAttempt try_lease_lock(PgConnection& connection, const DatabaseUrl& url, const std::string& schema,
                           const LockHolder& me, LockScope scope, std::chrono::milliseconds lease)
{
  const std::string name = scope_name(scope);
  const std::string table = locks_table(schema);
  // Created when missing only: CREATE ... IF NOT EXISTS asks for the CREATE privilege even
  // when the table is there, which an application's role often lacks.
  if (!locks_table_exists(connection, schema)) {
    try {
      create_locks_table(connection, schema);
    } catch (const Error&) {
      // Another process created it at the same instant (the catalog's unique index refused
      // this one's CREATE ... IF NOT EXISTS): made is made.
      if (!locks_table_exists(connection, schema)) {
        throw;
      }
    }
  }
  std::optional<LockHolder> previous;
  bool expired = false;
  std::string previous_token;
  connection.each_row(
    fmt::format("SELECT pid, host, what, since, lease_until < now(), token FROM {} WHERE scope = $1", table), {name},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) {
      previous = holder_of(row);
      expired = std::get<bool>(row.at(4));
      previous_token = std::get<std::string>(row.at(5));
    },
    "cannot read housekeep_locks");
  // A holder known to be gone (killed on this machine, or this process's own lease left by a
  // lost connection) is taken over at once; the statement still checks that the row is the
  // one read, so that a lease taken meanwhile by another process stands.
  const bool gone = previous && !expired && holder_gone(previous_token);
  std::random_device random;
  const std::string token =
    fmt::format("{}|{:x}", own_identity(), std::uniform_int_distribution<std::uint64_t>()(random));
  bool taken = false;
  connection.each_row(
    fmt::format(
      "INSERT INTO {0} AS held (scope, pid, host, what, since, token, lease_until) VALUES ($1, $2, $3, $4, "
      "$5, $6, now() + interval '{1} milliseconds') ON CONFLICT (scope) DO UPDATE SET pid = excluded.pid, host = "
      "excluded.host, what = excluded.what, since = excluded.since, token = excluded.token, lease_until = "
      "excluded.lease_until WHERE held.lease_until < now() OR held.token = $7 "
      "RETURNING token",
      table, lease.count()),
    {name, me.pid, me.host, me.what, me.since, token, gone ? Value{previous_token} : Value{}},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) {
      taken = std::get<std::string>(row.at(0)) == token;
    },
    "cannot take the lock in housekeep_locks");
  LockAttempt attempt;
  if (taken) {
    attempt.lock = std::make_unique<LeaseLock>(url, table, name, token, lease);
    if (previous && (expired || gone)) {
      attempt.stale = previous;
    }
    return attempt;
  }
  attempt.holder = lease_holder(connection, schema, scope);
  if (!attempt.holder) {
    attempt.holder = previous.value_or(LockHolder{});
  }
  return attempt;
}

std::optional<LockHolder> lease_holder(PgConnection& connection, const std::string& schema, LockScope scope)
{
  if (!locks_table_exists(connection, schema)) {
    return std::nullopt;
  }
  std::optional<LockHolder> holder;
  connection.each_row(
    fmt::format("SELECT pid, host, what, since FROM {} WHERE scope = $1 AND lease_until >= now()", locks_table(schema)),
    {scope_name(scope)},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) { holder = holder_of(row); },
    "cannot read housekeep_locks");
  return holder;
}

} // namespace housekeep
