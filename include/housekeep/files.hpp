// Small file-system helpers shared by archives, backups and the metrics file. They return
// errno (0 on success) so that each caller words its own error.
#pragma once

#include <string>
#include <string_view>

namespace housekeep {

/// Writes all of `data` to `fd`, retrying short writes and EINTR.
int write_all(int fd, std::string_view data);

/// Opens `path` (a file or a directory) and fsyncs it: for a directory, this makes the
/// entries created or renamed in it durable.
int sync_to_disk(const std::string& path);

} // namespace housekeep
