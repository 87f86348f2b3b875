// The demo's rows, generated once for every engine (each engine's writer is in its own
// directory, chosen by the engine table).
#include "housekeep/demo.hpp"

#include <date/date.h>

#include <algorithm>
#include <random>

namespace housekeep {

DemoData generate_demo(std::int64_t messages, TimePoint now)
{
  DemoData data;
  const std::int64_t users = std::max<std::int64_t>(10, messages / 50);
  const std::int64_t conversations = std::max<std::int64_t>(20, messages / 10);

  std::mt19937_64 random(20261124);
  auto uniform = [&](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random);
  };
  const std::int64_t span_seconds = 90LL * 24 * 3600;
  auto age = [&]() { return now - std::chrono::seconds(uniform(0, span_seconds)); };

  std::vector<TimePoint> joined(static_cast<std::size_t>(users));
  for (auto& when : joined) {
    when = age();
  }
  std::sort(joined.begin(), joined.end());
  for (const auto& when : joined) {
    data.users.push_back({uniform(0, 99) >= 15, when});
  }

  // Ids follow creation time, as they do in a live application's tables: the oldest rows
  // have the lowest ids, and a conversation's messages come after it.
  std::vector<TimePoint> started(static_cast<std::size_t>(conversations));
  for (auto& created : started) {
    created = age();
  }
  std::sort(started.begin(), started.end());
  for (const auto& created : started) {
    data.conversations.push_back({uniform(1, users), created});
  }

  data.messages.resize(static_cast<std::size_t>(messages));
  for (auto& m : data.messages) {
    const std::int64_t kind = uniform(0, 99);
    if (kind < 3) {
      // Orphans as left by an application that deleted conversations without cascading
      // (a dangling reference) or never set one (NULL).
      m.conversation = kind == 0 ? 0 : conversations + uniform(1, 1000);
      m.created = age();
    } else {
      m.conversation = uniform(1, conversations);
      m.created = std::min(now, started[static_cast<std::size_t>(m.conversation - 1)] +
                                  std::chrono::seconds(uniform(0, 3 * 3600)));
    }
  }
  std::stable_sort(data.messages.begin(), data.messages.end(),
                   [](const DemoData::Message& a, const DemoData::Message& b) { return a.created < b.created; });
  for (auto& m : data.messages) {
    m.expires = uniform(0, 9) != 0;
  }
  return data;
}

DemoSummary summarize_demo(const DemoData& data)
{
  DemoSummary summary;
  summary.users = static_cast<std::int64_t>(data.users.size());
  summary.conversations = static_cast<std::int64_t>(data.conversations.size());
  summary.messages = static_cast<std::int64_t>(data.messages.size());
  for (const auto& user : data.users) {
    summary.inactive_users += user.active ? 0 : 1;
  }
  for (const auto& message : data.messages) {
    summary.orphan_messages += message.conversation == 0 || message.conversation > summary.conversations ? 1 : 0;
  }
  return summary;
}

std::string_view demo_indexes()
{
  return R"sql(
CREATE INDEX users_date_joined ON users (date_joined);
CREATE INDEX conversations_user_id ON conversations (user_id);
CREATE INDEX conversations_created_at ON conversations (created_at);
CREATE INDEX messages_conversation_id ON messages (conversation_id);
CREATE INDEX messages_created_at ON messages (created_at);
CREATE INDEX messages_expires_at ON messages (expires_at);
)sql";
}

std::string demo_timestamp(TimePoint t)
{
  return date::format("%F %T", std::chrono::floor<std::chrono::seconds>(t));
}

} // namespace housekeep
