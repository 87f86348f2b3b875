// `housekeep demo`: a sample SQLite database with the classic schema and realistic data,
// so that every task has something to do on a newcomer's first try.
#pragma once

#include "housekeep/clock.hpp"

#include <cstdint>
#include <string>

namespace housekeep {

/// What to create.
struct DemoOptions {
  std::string path;
  std::int64_t messages = 10000; // users and conversations scale with it
  bool force = false;            // replace an existing file
};

/// What was created.
struct DemoSummary {
  std::int64_t users = 0;
  std::int64_t inactive_users = 0;
  std::int64_t conversations = 0;
  std::int64_t messages = 0;
  std::int64_t orphan_messages = 0;
};

/// Writes the database to a temporary file beside `path` and renames it into place, so a
/// half-written demo never appears. Ages spread over the 90 days before `now`. Throws
/// CantCreateError when `path` exists (without force) or cannot be written.
DemoSummary create_demo_database(const DemoOptions& options, TimePoint now);

} // namespace housekeep
