// `housekeep demo`: a sample database with the classic chat schema and realistic data, so
// that every task has something to do on a newcomer's first try: a SQLite file, or the same
// tables in an existing PostgreSQL database.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/store.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace housekeep {

/// How the demo's keys and times relate: the shapes real tables take.
enum class DemoLayout {
  time,        // ids follow creation time; a conversation's messages within 3 hours of it
  shuffled,    // ids in random order against creation time, in every table (imported or
               // merged rows, keys from a hash); rows still written in time order
  interleaved, // ids follow time, but a conversation's messages spread over 3 weeks,
               // among everyone else's (conversations that stay open)
};

/// Every layout, the default first.
constexpr std::array<DemoLayout, 3> k_demo_layouts{DemoLayout::time, DemoLayout::shuffled, DemoLayout::interleaved};
/// "time", "shuffled", "interleaved".
std::string_view demo_layout_name(DemoLayout layout);
/// The layout called `name`, or nothing.
std::optional<DemoLayout> find_demo_layout(std::string_view name);

/// What to create.
struct DemoOptions {
  std::int64_t messages = 10000; // users and conversations scale with it
  bool force = false;            // replace an existing file (never tables on a server)
  DemoLayout layout = DemoLayout::time;
};

/// The demo's rows, as every engine writes them, in the order they are written (creation
/// time). Times are UTC; each table's ids are 1..n, in an order the layout decides.
struct DemoData {
  struct User {
    std::int64_t id = 0;
    bool active = false;
    TimePoint joined;
  };
  struct Conversation {
    std::int64_t id = 0;
    std::int64_t user = 0;
    TimePoint created;
  };
  struct Message {
    std::int64_t id = 0;
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
/// The same seed for every layout: the layouts differ in keys and message times only.
DemoData generate_demo(std::int64_t messages, TimePoint now, DemoLayout layout = DemoLayout::time);

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
