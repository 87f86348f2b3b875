#include "housekeep/periodic.hpp"

namespace housekeep {

Periodic::Periodic(std::chrono::milliseconds period, std::function<bool()> tick)
    : m_thread([this, period, tick = std::move(tick)](const std::stop_token& stop) {
        std::unique_lock lock(m_mutex);
        for (;;) {
          // Wakes when the period has passed, or at once when a stop is requested.
          m_wake.wait_for(lock, stop, period, [] { return false; });
          if (stop.stop_requested() || !tick()) {
            return;
          }
        }
      })
{
}

} // namespace housekeep
