// Asking a run to stop between batches: a signal handler or a deadline sets the reason, the
// purge loop reads it after each committed batch, so a stop never cuts a batch in half.
#pragma once

#include <atomic>

namespace housekeep {

/// Why a run stops early.
enum class StopReason : int { none = 0, interrupted = 1, timed_out = 2 };

/// A stop request shared between whoever asks (a signal handler) and the run. request() is
/// async-signal-safe. A flag made to follow another (a run's, following the process's
/// signals) is requested when either is: its own reason first.
class StopFlag {
public:
  StopFlag() = default;
  explicit StopFlag(const StopFlag* follows) noexcept : m_follows(follows) {}
  StopFlag(const StopFlag&) = delete;
  StopFlag& operator=(const StopFlag&) = delete;

  void request(StopReason reason) noexcept { m_reason.store(static_cast<int>(reason)); }
  StopReason reason() const noexcept
  {
    const auto own = static_cast<StopReason>(m_reason.load());
    return own == StopReason::none && m_follows != nullptr ? m_follows->reason() : own;
  }
  bool requested() const noexcept { return reason() != StopReason::none; }
  /// Clears this flag's own request (not the one it follows).
  void clear() noexcept { m_reason.store(0); }

private:
  static_assert(std::atomic<int>::is_always_lock_free);
  std::atomic<int> m_reason{0};
  const StopFlag* m_follows = nullptr;
};

} // namespace housekeep
