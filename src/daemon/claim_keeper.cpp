#include "daemon/claim_keeper.hpp"

#include "housekeep/duration.hpp"
#include "housekeep/error.hpp"

#include <nlohmann/json.hpp>

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
                         StopFlag& run_stop, RunProgress& progress, const Logger& log,
                         std::function<Store*()> run_store)
    : m_claim(std::move(claim)), m_log(log), m_progress(progress)
{
  renewed();
  const bool in_line = run_store && run_store() != nullptr && run_store()->traits().quiet_batch_time.has_value();
  if (in_line) {
    m_progress.between_batches([this, run_store, lease, &run_stop] {
      Store* store = run_store();
      if (store == nullptr || since_renewed() < lease / 4 || run_stop.requested()) {
        return;
      }
      try {
        if (store->history().renew_claim(m_claim, lease, m_progress.json())) {
          renewed();
        } else {
          lost(run_stop);
        }
      } catch (const Error&) {
        // Left to the keeper's thread, which renews on a connection of its own.
      }
    });
  }
  // Renewed in line, the keeper's thread steps in once half a lease passed without it.
  const Millis step_in = in_line ? lease / 2 : Millis(0);
  m_keeper.emplace(lease / 4, [this, open, lease, step_in, &run_stop] {
    if (since_renewed() < step_in) {
      return true;
    }
    try {
      if (!m_store) {
        m_store = open();
      }
      if (m_store->history().renew_claim(m_claim, lease, m_progress.json())) {
        renewed();
        return true;
      }
      lost(run_stop);
    } catch (const Error& e) {
      m_store.reset();
      if (since_renewed() < lease) {
        m_log.warning("{}: cannot renew the claim of the slot due {}: {}", m_claim.job, m_claim.slot, e.what());
        return true;
      }
      m_log.error("{}: the claim of the slot due {} could not be renewed for {} and may be taken over; stopping "
                  "after this batch: {}",
                  m_claim.job, m_claim.slot, humanize_duration(lease), e.what());
      run_stop.request(StopReason::interrupted);
    }
    return false;
  });
}

ClaimKeeper::~ClaimKeeper()
{
  m_progress.between_batches({});
}

void ClaimKeeper::lost(StopFlag& run_stop) const
{
  m_log.error("{}: the claim of the slot due {} was taken over by another daemon; stopping after this batch",
              m_claim.job, m_claim.slot);
  run_stop.request(StopReason::interrupted);
}

} // namespace housekeep
