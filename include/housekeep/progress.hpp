// The live progress line of a purge on a terminal: rows done of the expected total, rate
// and time left, redrawn in place on stderr at most a few times a second, and erased when
// the task ends so that the log lines stay clean.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/task.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace housekeep {

/// The text of one progress line, e.g.
/// "conversations: 12,340 of ~66,458 rows (18%), 5,210 rows/s, about 10s left".
std::string progress_line(std::string_view task, std::int64_t done, std::int64_t total,
                          std::chrono::milliseconds elapsed);

/// Draws progress_line() on a terminal. The caller decides whether `out` is one.
class TerminalProgress final : public ProgressSink {
public:
  TerminalProgress(std::FILE* out, const Clock& clock) : m_out(out), m_clock(clock) {}

  void advance(std::string_view task, std::int64_t done, std::int64_t total) override;
  void paused(std::string_view task, std::string_view why) override;
  void finish(std::string_view task) override;

private:
  std::FILE* m_out;
  const Clock& m_clock;
  std::string m_task;
  TimePoint m_started{};
  TimePoint m_drawn{};
  bool m_visible = false;
};

} // namespace housekeep
