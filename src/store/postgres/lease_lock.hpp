// The database's locks on a server: leased rows of housekeep_locks, never session advisory
// locks (a transaction-mode pooler such as PgBouncer hands the session to others, and some
// engines that speak PostgreSQL's protocol only pretend to take them). Private to the
// PostgreSQL backend.
#pragma once

#include "housekeep/store.hpp"
#include "store/postgres/pg.hpp"

#include <chrono>
#include <optional>

namespace housekeep {

/// Takes the lock of `scope` for `lease` (OpenOptions::lease) with one conditional upsert (free, its lease expired, or its
/// holder known to be gone: a process of this machine and pid namespace that no longer runs,
/// or this process's own lease left by a lost connection); the lock renews its lease on a
/// connection of its own, every quarter of the lease, until it is released.
/// The table is housekeep_locks in `schema` (created with the table when missing), or where a
/// table named without a schema goes when `schema` is empty.
LockAttempt try_lease_lock(PgConnection& connection, const DatabaseUrl& url, const std::string& schema,
                           const LockHolder& me, LockScope scope, std::chrono::milliseconds lease);

/// Who holds the lock of `scope` with a lease still running; nothing when it is free.
std::optional<LockHolder> lease_holder(PgConnection& connection, const std::string& schema, LockScope scope);

} // namespace housekeep
