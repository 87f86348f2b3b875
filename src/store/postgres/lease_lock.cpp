#include "store/postgres/lease_lock.hpp"

#include "housekeep/error.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

namespace housekeep {

namespace {

std::string scope_name(LockScope scope)
{
  return scope == LockScope::purge ? "purge" : "daemon";
}

const std::string k_create = "CREATE TABLE IF NOT EXISTS housekeep_locks (scope TEXT PRIMARY KEY, pid BIGINT NOT NULL, "
                             "host TEXT NOT NULL, what TEXT NOT NULL, since TEXT NOT NULL, token TEXT NOT NULL, "
                             "lease_until TIMESTAMPTZ NOT NULL)";

bool locks_table_exists(PgConnection& connection)
{
  bool exists = false;
  connection.each_row(
    "SELECT to_regclass('housekeep_locks') IS NOT NULL", {},
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
// is in) every k_lease_renewal until released.
class LeaseLock final : public Lock {
public:
  LeaseLock(const DatabaseUrl& url, std::string scope, std::string token)
      : m_connection(url, OpenOptions{}), m_scope(std::move(scope)), m_token(std::move(token)),
        m_renewer([this](std::stop_token stop) { renew_until(stop); })
  {
  }

  ~LeaseLock() override
  {
    m_renewer.request_stop();
    m_wake.notify_all();
    m_renewer.join();
    try {
      m_connection.run("DELETE FROM housekeep_locks WHERE scope = $1 AND token = $2", {m_scope, m_token},
                       "cannot release the lock");
    } catch (const Error&) {
      // The lease runs out by itself.
    }
  }
  LeaseLock(const LeaseLock&) = delete;
  LeaseLock& operator=(const LeaseLock&) = delete;

private:
  PgConnection m_connection;
  std::string m_scope;
  std::string m_token;
  std::mutex m_mutex;
  std::condition_variable_any m_wake;
  std::jthread m_renewer;

  void renew_until(const std::stop_token& stop)
  {
    std::unique_lock lock(m_mutex);
    while (!m_wake.wait_for(lock, stop, k_lease_renewal, [] { return false; })) {
      if (stop.stop_requested()) {
        return;
      }
      try {
        m_connection.run(fmt::format("UPDATE housekeep_locks SET lease_until = now() + interval '{} seconds' "
                                     "WHERE scope = $1 AND token = $2",
                                     k_lease.count()),
                         {m_scope, m_token}, "cannot renew the lock");
      } catch (const Error&) {
        // The next renewal tries again; a lease that ran out is taken over, and said so.
      }
    }
  }
};

} // namespace

LockAttempt try_lease_lock(PgConnection& connection, const DatabaseUrl& url, const LockHolder& me, LockScope scope)
{
  const std::string name = scope_name(scope);
  connection.run(k_create, {}, "cannot create housekeep_locks");
  std::optional<LockHolder> previous;
  bool expired = false;
  connection.each_row(
    "SELECT pid, host, what, since, lease_until < now() FROM housekeep_locks WHERE scope = $1", {name},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) {
      previous = holder_of(row);
      expired = std::get<bool>(row.at(4));
    },
    "cannot read housekeep_locks");
  std::random_device random;
  const std::string token =
    fmt::format("{}:{}:{:x}", me.host, me.pid, std::uniform_int_distribution<std::uint64_t>()(random));
  bool taken = false;
  connection.each_row(
    fmt::format(
      "INSERT INTO housekeep_locks (scope, pid, host, what, since, token, lease_until) VALUES ($1, $2, $3, $4, "
      "$5, $6, now() + interval '{} seconds') ON CONFLICT (scope) DO UPDATE SET pid = excluded.pid, host = "
      "excluded.host, what = excluded.what, since = excluded.since, token = excluded.token, lease_until = "
      "excluded.lease_until WHERE housekeep_locks.lease_until < now() RETURNING token",
      k_lease.count()),
    {name, me.pid, me.host, me.what, me.since, token},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) {
      taken = std::get<std::string>(row.at(0)) == token;
    },
    "cannot take the lock in housekeep_locks");
  LockAttempt attempt;
  if (taken) {
    attempt.lock = std::make_unique<LeaseLock>(url, name, token);
    if (previous && expired) {
      attempt.stale = previous;
    }
    return attempt;
  }
  attempt.holder = lease_holder(connection, scope);
  if (!attempt.holder) {
    attempt.holder = previous.value_or(LockHolder{});
  }
  return attempt;
}

std::optional<LockHolder> lease_holder(PgConnection& connection, LockScope scope)
{
  if (!locks_table_exists(connection)) {
    return std::nullopt;
  }
  std::optional<LockHolder> holder;
  connection.each_row(
    "SELECT pid, host, what, since FROM housekeep_locks WHERE scope = $1 AND lease_until >= now()", {scope_name(scope)},
    [&](const std::vector<std::string>&, const std::vector<Value>& row) { holder = holder_of(row); },
    "cannot read housekeep_locks");
  return holder;
}

} // namespace housekeep
