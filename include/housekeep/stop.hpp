// Asking a run to stop between batches: a signal handler or a deadline sets the reason, the
// purge loop reads it after each committed batch, so a stop never cuts a batch in half.
#pragma once

#include <atomic>

namespace housekeep {

/// Why a run stops early.
enum class StopReason : int { none = 0, interrupted = 1, timed_out = 2 };

/// A stop request shared between whoever asks (a signal handler) and the run. request() is
/// async-signal-safe.
class StopFlag {
public:
  void request(StopReason reason) noexcept { m_reason.store(static_cast<int>(reason)); }
  StopReason reason() const noexcept { return static_cast<StopReason>(m_reason.load()); }
  bool requested() const noexcept { return reason() != StopReason::none; }
  void clear() noexcept { m_reason.store(0); }

private:
  static_assert(std::atomic<int>::is_always_lock_free);
  std::atomic<int> m_reason{0};
};

} // namespace housekeep
