// The demo's layouts: the same rows in the shapes real tables take, with every reference
// following its row.
#include "housekeep/demo.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

using namespace housekeep;

namespace {

template <typename Rows>
bool ids_are_one_to_n(const Rows& rows)
{
  std::vector<std::int64_t> ids;
  for (const auto& row : rows) {
    ids.push_back(row.id);
  }
  std::sort(ids.begin(), ids.end());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] != static_cast<std::int64_t>(i) + 1) {
      return false;
    }
  }
  return true;
}

// The share of rows (in creation order) whose id is above the previous row's.
template <typename Rows>
double ascending_share(const Rows& rows)
{
  std::size_t up = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    up += rows[i].id > rows[i - 1].id ? 1U : 0U;
  }
  return static_cast<double>(up) / static_cast<double>(rows.size() - 1);
}

} // namespace

TEST_CASE("demo layouts: ids 1..n, references follow their rows, shapes as named", "[demo]")
{
  using namespace std::chrono;
  const TimePoint now = test::test_now();
  const DemoData time = generate_demo(20000, now, DemoLayout::time);
  for (const DemoLayout layout : {DemoLayout::time, DemoLayout::shuffled, DemoLayout::interleaved}) {
    INFO(demo_layout_name(layout));
    CHECK(find_demo_layout(demo_layout_name(layout)) == layout);
    const DemoData data = generate_demo(20000, now, layout);
    REQUIRE(data.messages.size() == 20000);
    CHECK(ids_are_one_to_n(data.users));
    CHECK(ids_are_one_to_n(data.conversations));
    CHECK(ids_are_one_to_n(data.messages));
    // Every reference names a row of the right kind, made before it.
    std::map<std::int64_t, TimePoint> user_joined;
    std::map<std::int64_t, TimePoint> conversation_started;
    for (const auto& u : data.users) {
      user_joined[u.id] = u.joined;
    }
    for (const auto& c : data.conversations) {
      REQUIRE(user_joined.count(c.user) == 1);
      conversation_started[c.id] = c.created;
    }
    std::size_t orphans = 0;
    for (const auto& m : data.messages) {
      if (m.conversation == 0 || m.conversation > static_cast<std::int64_t>(data.conversations.size())) {
        ++orphans;
        continue;
      }
      REQUIRE(m.created >= conversation_started.at(m.conversation));
      REQUIRE(m.created <= now);
    }
    CHECK(static_cast<std::int64_t>(orphans) == summarize_demo(time).orphan_messages);
    // The same users and conversations as the time layout, under other keys.
    CHECK(data.users.size() == time.users.size());
    CHECK(data.conversations.size() == time.conversations.size());
    for (std::size_t i = 0; i < data.conversations.size(); ++i) {
      REQUIRE(data.conversations[i].created == time.conversations[i].created);
    }
    // Rows come in creation order.
    CHECK(std::is_sorted(data.messages.begin(), data.messages.end(),
                         [](const auto& a, const auto& b) { return a.created < b.created; }));
  }

  const DemoData shuffled = generate_demo(20000, now, DemoLayout::shuffled);
  CHECK(ascending_share(time.messages) == 1.0);
  CHECK(ascending_share(shuffled.messages) == Approx(0.5).margin(0.05));
  CHECK(ascending_share(shuffled.conversations) == Approx(0.5).margin(0.05));
  CHECK(ascending_share(shuffled.users) == Approx(0.5).margin(0.2));
  for (std::size_t i = 0; i < shuffled.messages.size(); ++i) {
    REQUIRE(shuffled.messages[i].created == time.messages[i].created);
  }

  // Interleaved: ids follow time, but a conversation's messages are weeks apart, where the
  // time layout keeps them within 3 hours.
  const DemoData interleaved = generate_demo(20000, now, DemoLayout::interleaved);
  CHECK(ascending_share(interleaved.messages) == 1.0);
  auto widest = [](const DemoData& data) {
    std::map<std::int64_t, std::pair<TimePoint, TimePoint>> span;
    for (const auto& m : data.messages) {
      if (m.conversation == 0 || m.conversation > static_cast<std::int64_t>(data.conversations.size())) {
        continue;
      }
      auto [it, fresh] = span.try_emplace(m.conversation, m.created, m.created);
      it->second.first = std::min(it->second.first, m.created);
      it->second.second = std::max(it->second.second, m.created);
    }
    std::vector<Millis> widths;
    for (const auto& [id, range] : span) {
      widths.push_back(range.second - range.first);
    }
    std::sort(widths.begin(), widths.end());
    return widths[widths.size() / 2]; // the median conversation
  };
  CHECK(widest(time) <= hours(3));
  CHECK(widest(interleaved) >= hours(24 * 7));
}
