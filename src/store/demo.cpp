// The demo's rows, generated once for every engine (each engine's writer is in its own
// directory, chosen by the engine table).
#include "housekeep/demo.hpp"

#include <date/date.h>

#include <algorithm>
#include <random>

namespace housekeep {

std::string_view demo_layout_name(DemoLayout layout)
{
  switch (layout) {
  case DemoLayout::time: return "time";
  case DemoLayout::shuffled: return "shuffled";
  case DemoLayout::interleaved: return "interleaved";
  }
  return "time";
}

std::optional<DemoLayout> find_demo_layout(std::string_view name)
{
  for (const DemoLayout layout : k_demo_layouts) {
    if (demo_layout_name(layout) == name) {
      return layout;
    }
  }
  return std::nullopt;
}

namespace {

// The ids 1..n in random order: ids[i] is the id of the i-th row created.
std::vector<std::int64_t> shuffled_ids(std::size_t n, std::mt19937_64& random)
{
  std::vector<std::int64_t> ids(n);
  for (std::size_t i = 0; i < n; ++i) {
    ids[i] = static_cast<std::int64_t>(i) + 1;
  }
  std::shuffle(ids.begin(), ids.end(), random);
  return ids;
}

} // namespace

DemoData generate_demo(std::int64_t messages, TimePoint now, DemoLayout layout)
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
  // How long after its conversation began a message may come.
  const std::int64_t spread_seconds = layout == DemoLayout::interleaved ? 21LL * 24 * 3600 : 3LL * 3600;

  std::vector<TimePoint> joined(static_cast<std::size_t>(users));
  for (auto& when : joined) {
    when = age();
  }
  std::sort(joined.begin(), joined.end());
  for (const auto& when : joined) {
    data.users.push_back({0, uniform(0, 99) >= 15, when});
  }

  // Rows are made in creation order: the oldest first, and a conversation's messages after
  // it. References are by creation rank (1-based) until the ids are given out.
  std::vector<TimePoint> started(static_cast<std::size_t>(conversations));
  for (auto& created : started) {
    created = age();
  }
  std::sort(started.begin(), started.end());
  for (const auto& created : started) {
    data.conversations.push_back({0, uniform(1, users), created});
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
      const TimePoint start = started[static_cast<std::size_t>(m.conversation - 1)];
      if (layout == DemoLayout::interleaved) {
        // Spread evenly over the weeks the conversation has been open so far.
        const auto open = std::chrono::duration_cast<std::chrono::seconds>(now - start).count();
        m.created = start + std::chrono::seconds(uniform(0, std::min(spread_seconds, open)));
      } else {
        m.created = std::min(now, start + std::chrono::seconds(uniform(0, spread_seconds)));
      }
    }
  }
  std::stable_sort(data.messages.begin(), data.messages.end(),
                   [](const DemoData::Message& a, const DemoData::Message& b) { return a.created < b.created; });
  for (auto& m : data.messages) {
    m.expires = uniform(0, 9) != 0;
  }

  // Ids: in creation order, or shuffled in every table (references follow their rows).
  std::vector<std::int64_t> user_ids;
  std::vector<std::int64_t> conversation_ids;
  std::vector<std::int64_t> message_ids;
  if (layout == DemoLayout::shuffled) {
    user_ids = shuffled_ids(data.users.size(), random);
    conversation_ids = shuffled_ids(data.conversations.size(), random);
    message_ids = shuffled_ids(data.messages.size(), random);
  }
  auto id_of = [](const std::vector<std::int64_t>& ids, std::int64_t rank) {
    return ids.empty() ? rank : ids[static_cast<std::size_t>(rank - 1)];
  };
  for (std::size_t i = 0; i < data.users.size(); ++i) {
    data.users[i].id = id_of(user_ids, static_cast<std::int64_t>(i) + 1);
  }
  for (std::size_t i = 0; i < data.conversations.size(); ++i) {
    auto& c = data.conversations[i];
    c.id = id_of(conversation_ids, static_cast<std::int64_t>(i) + 1);
    c.user = id_of(user_ids, c.user);
  }
  for (std::size_t i = 0; i < data.messages.size(); ++i) {
    auto& m = data.messages[i];
    m.id = id_of(message_ids, static_cast<std::int64_t>(i) + 1);
    if (m.conversation >= 1 && m.conversation <= conversations) {
      m.conversation = id_of(conversation_ids, m.conversation);
    }
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
