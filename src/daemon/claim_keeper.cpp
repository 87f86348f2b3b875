#include "daemon/claim_keeper.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>

namespace housekeep {

std::string RunProgress::json() const
{
  const std::lock_guard guard(m_mutex);
  if (m_task.empty()) {
    return {};
  }
  const double seconds = std::chrono::duration<double>(m_clock.now() - m_since).count();
  nlohmann::json out{{"task", m_task},
                     {"done", m_done},
                     {"total", m_total},
                     {"rate", seconds > 0 ? static_cast<double>(m_done) / seconds : 0.0},
                     {"since", format_utc(m_since)}};
  out["paused"] = m_paused.empty() ? nlohmann::json(nullptr) : nlohmann::json(m_paused);
  return out.dump();
}

ClaimKeeper::ClaimKeeper(const std::function<std::unique_ptr<Store>()>& open, SlotClaim claim, Millis lease,
                         StopFlag& run_stop, const RunProgress& progress, const Logger& log)
    : m_claim(std::move(claim)), m_log(log)
{
  m_thread = std::jthread([this, open, lease, &run_stop, &progress](std::stop_token token) {
    std::unique_ptr<Store> store;
    auto renewed = std::chrono::steady_clock::now();
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    while (!token.stop_requested()) {
      wake.wait_for(lock, token, lease / 4, [] { return false; });
      if (token.stop_requested()) {
        return;
      }
      try {
        if (!store) {
          store = open();
        }
        if (store->history().renew_claim(m_claim, lease, progress.json())) {
          renewed = std::chrono::steady_clock::now();
          continue;
        }
        m_log.error("{}: the claim of the slot due {} was taken over by another daemon; stopping after this "
                    "batch",
                    m_claim.job, m_claim.slot);
      } catch (const Error& e) {
        store.reset();
        if (std::chrono::steady_clock::now() - renewed < lease) {
          m_log.warning("{}: cannot renew the claim of the slot due {}: {}", m_claim.job, m_claim.slot, e.what());
          continue;
        }
        m_log.error("{}: the claim of the slot due {} could not be renewed for {} and may be taken over; stopping "
                    "after this batch: {}",
                    m_claim.job, m_claim.slot, humanize_duration(lease), e.what());
      }
      run_stop.request(StopReason::interrupted);
      return;
    }
  });
}

} // namespace housekeep
