#include "housekeep/progress.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/text.hpp"

#include <fmt/format.h>

namespace housekeep {

namespace {

// Redraws at most this often; a purge commits far more batches than anyone can read.
constexpr std::chrono::milliseconds k_redraw{250};

} // namespace

std::string progress_line(std::string_view task, std::int64_t done, std::int64_t total,
                          std::chrono::milliseconds elapsed)
{
  std::string line = fmt::format("{}: {}", task, with_thousands(done));
  if (total > 0) {
    const std::int64_t shown_total = std::max(total, done);
    line += fmt::format(" of ~{} rows ({}%)", with_thousands(shown_total), done * 100 / shown_total);
  } else {
    line += " rows";
  }
  if (elapsed.count() > 0 && done > 0) {
    const std::int64_t rate = done * 1000 / elapsed.count();
    line += fmt::format(", {} rows/s", with_thousands(rate));
    if (total > done && rate > 0) {
      const auto left = std::chrono::milliseconds((total - done) * 1000 / rate);
      line += fmt::format(", about {} left", humanize_duration(left));
    }
  }
  return line;
}

void TerminalProgress::advance(std::string_view task, std::int64_t done, std::int64_t total)
{
  const TimePoint now = m_clock.now();
  if (task != m_task) {
    m_task = std::string(task);
    m_started = now;
    m_drawn = now; // the first line waits a moment: short purges never draw one
    return;
  }
  if (now - m_drawn < k_redraw) {
    return;
  }
  m_drawn = now;
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - m_started);
  // \r and "erase to end of line" redraw in place.
  std::fprintf(m_out, "\r%s\033[K", progress_line(task, done, total, elapsed).c_str());
  std::fflush(m_out);
  m_visible = true;
}

void TerminalProgress::paused(std::string_view task, std::string_view why)
{
  std::fprintf(m_out, "\r%.*s: paused: %.*s\033[K", static_cast<int>(task.size()), task.data(),
               static_cast<int>(why.size()), why.data());
  std::fflush(m_out);
  m_visible = true;
  m_drawn = m_clock.now();
}

void TerminalProgress::finish(std::string_view /*task*/)
{
  if (m_visible) {
    std::fputs("\r\033[K", m_out);
    std::fflush(m_out);
  }
  m_visible = false;
  m_task.clear();
}

} // namespace housekeep
