// An advisory lock on a file beside the database (private to the core library). The kernel
// drops it when the holder dies, so a crashed run never leaves a stale lock behind.
#pragma once

#include "housekeep/store.hpp"

namespace housekeep {

/// Takes an exclusive flock() on `path` (created if missing, mode 0600) and writes `me` into
/// it; when another process holds it, returns who that is as read from the file. A holder
/// still written in a file nobody locks died without releasing it: returned as `stale`.
LockAttempt try_file_lock(const std::string& path, const LockHolder& me);

/// Who holds the lock on `path`, without taking it (and without creating the file).
std::optional<LockHolder> file_lock_holder(const std::string& path);

} // namespace housekeep
