// `housekeep demo`: a sample database with the classic chat schema and realistic data, so
// that every task has something to do on a newcomer's first try: a SQLite file, or the same
// tables in an existing PostgreSQL database.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/store.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace housekeep {

/// What to create.
struct DemoOptions {
  std::int64_t messages = 10000; // users and conversations scale with it
  bool force = false;            // replace an existing file (never tables on a server)
};

/// The demo's rows, as every engine writes them. Times are UTC; ids count from 1 and follow
/// creation time, as in a live application's tables.
struct DemoData {
  struct User {
    bool active = false;
    TimePoint joined;
  };
  struct Conversation {
    std::int64_t user = 0;
    TimePoint created;
  };
  struct Message {
    std::int64_t conversation = 0; // 0: NULL; beyond the last conversation: a dangling reference
    TimePoint created;
    bool expires = false; // expires_at is created + 48 h, or NULL
  };
  std::vector<User> users;
  std::vector<Conversation> conversations;
  std::vector<Message> messages;
};

/// What was created.
struct DemoSummary {
  std::int64_t users = 0;
  std::int64_t inactive_users = 0;
  std::int64_t conversations = 0;
  std::int64_t messages = 0;
  std::int64_t orphan_messages = 0;
};

/// The demo's rows: ages spread over the 90 days before `now`, about 15% of users never
/// activated, about 3% of messages orphaned (NULL, or naming a conversation that is gone).
DemoData generate_demo(std::int64_t messages, TimePoint now);

/// What `data` holds, counted.
DemoSummary summarize_demo(const DemoData& data);

/// Writes the demo into the database the URL names, all at once or not at all: a SQLite
/// file through a temporary file renamed into place (CantCreateError when it exists, unless
/// `force`); tables of a server's existing database in one transaction (CantCreateError
/// when one of them exists; `force` is refused there).
DemoSummary create_demo_database(const DatabaseUrl& url, const DemoOptions& options, TimePoint now);

/// The demo's indexes, as every engine creates them: ';'-separated CREATE INDEX statements.
std::string_view demo_indexes();

/// The demo's timestamps as written: "2026-01-31 10:00:00" (UTC).
std::string demo_timestamp(TimePoint t);

} // namespace housekeep
