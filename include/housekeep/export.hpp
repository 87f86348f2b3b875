// The same jobs for other schedulers: crontab lines and systemd timer/service pairs that
// call `housekeep run --job NAME`, so one configuration drives cron, systemd or the daemon.
#pragma once

#include "housekeep/scheduler.hpp"

#include <string>
#include <vector>

namespace housekeep {

/// How the exported commands call housekeep.
struct ExportTarget {
  std::string binary;      // absolute path of the housekeep binary
  std::string config_path; // absolute path of the configuration file, or empty (defaults)
  std::string database;    // URL for --db, or empty when it holds a secret (then the
                           // environment must provide it)
};

/// A crontab: one commented line per job (CRON_TZ for zones other than the system's).
std::string export_crontab(const std::vector<JobPlan>& plans, const ExportTarget& target);

/// systemd units: for each job a `housekeep-<job>.service` (Type=oneshot) and a
/// `housekeep-<job>.timer` (OnCalendar= in the job's zone, Persistent=true), each preceded by
/// a "# FILE" comment line naming the file to write.
std::string export_systemd(const std::vector<JobPlan>& plans, const ExportTarget& target);

/// Quotes a word for a POSIX shell (or systemd's ExecStart=) when it needs it.
std::string shell_quote(const std::string& word);

} // namespace housekeep
