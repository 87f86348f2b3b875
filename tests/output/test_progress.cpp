#include "housekeep/progress.hpp"

#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

using namespace housekeep;
using namespace std::chrono;

TEST_CASE("progress line: rows of the expected total, rate and time left", "[progress]")
{
  CHECK(progress_line("conversations", 12340, 66458, seconds(2)) ==
        "conversations: 12,340 of ~66,458 rows (18%), 6,170 rows/s, about 8.8s left");
  CHECK(progress_line("messages", 500, 0, seconds(1)) == "messages: 500 rows, 500 rows/s");
  CHECK(progress_line("users", 0, 10, milliseconds(0)) == "users: 0 of ~10 rows (0%)");
  // More than the count expected (rows aged past the cutoff meanwhile): never above 100%.
  CHECK(progress_line("users", 12, 10, seconds(1)) == "users: 12 of ~12 rows (100%), 12 rows/s");
}

TEST_CASE("progress on a terminal: drawn in place, at most 4 times a second, erased at the end", "[progress]")
{
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  test::FakeClock clock(test::test_now());
  TerminalProgress progress(out, clock);
  progress.advance("conversations", 100, 1000); // starts the clock; draws nothing yet
  clock.sleep_for(milliseconds(100));
  progress.advance("conversations", 200, 1000); // too soon
  clock.sleep_for(milliseconds(200));
  progress.advance("conversations", 300, 1000); // drawn
  clock.sleep_for(milliseconds(10));
  progress.advance("conversations", 400, 1000); // too soon again
  progress.finish("conversations");
  progress.advance("messages", 5, 0); // a short task never draws
  progress.finish("messages");
  std::rewind(out);
  std::string text;
  for (int c = std::fgetc(out); c != EOF; c = std::fgetc(out)) {
    text += static_cast<char>(c);
  }
  std::fclose(out);
  CHECK(text == "\rconversations: 300 of ~1,000 rows (30%), 1,000 rows/s, about 700ms left\033[K\r\033[K");
}
