// Archives: every row a purge deletes, written as JSON Lines and flushed to disk before its
// batch commits, so that the archive always holds at least what was deleted; and restore,
// which puts archived rows back.
//
// One file per task and table, DIR/<task>-<table>-<UTC time>.jsonl, mode 0600. Its first
// line describes it:
//   {"housekeep_archive":1,"task":"conversations","table":"messages","key":"id","depth":1,
//    "database":"sqlite:///...","created_at":"2026-11-25T02:00:00.000Z"}
// and every other line is one row, its columns in table order:
//   {"id":7,"conversation_id":3,"content":"hi","created_at":"2026-01-01 10:00:00"}
// Integers, reals, text and NULL keep their JSON types; a BLOB is {"$blob":"<base64>"}, and
// text that is not valid UTF-8 is {"$text":"<base64 of its bytes>"}.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/log.hpp"
#include "housekeep/stop.hpp"
#include "housekeep/store.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace housekeep {

struct Config;

/// One archive file: what its header says, and how many rows it holds.
struct ArchiveFile {
  std::string path;
  std::string task;
  std::string table;
  std::string key_column;
  int depth = 0; // 0: the task's own table; 1: its children; ...
  std::int64_t rows = 0;
};

/// Writes the rows a run deletes into one directory.
class ArchiveWriter {
public:
  /// Throws CantCreateError (73) unless `directory` is an existing, writable directory.
  ArchiveWriter(std::string directory, std::string database, TimePoint started);
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  /// Appends one row of `table`, deleted by `task`, creating its file on first use.
  void append(std::string_view task, const std::string& table, const std::string& key_column, int depth,
              const std::vector<std::string>& columns, const std::vector<Value>& values);
  /// Writes what is buffered and fsyncs every file (and, after a new file, the directory).
  /// Throws IoError (74) when the disk refuses; the caller then rolls its batch back.
  void sync();
  /// Takes back what `task` appended since its last sync (its batch rolled back): a file with
  /// nothing durable is removed, another cut back to its last sync.
  void discard(std::string_view task);

  /// Every file written so far, in creation order.
  std::vector<ArchiveFile> files() const;

private:
  struct Open;
  /// Throws the IoError of a failed write to `open`, after taking back what its task has not
  /// synced: a file with nothing durable is removed, another is cut back to its last sync.
  [[noreturn]] void fail(Open& open, int err);
  Open& file_for(std::string_view task, const std::string& table, const std::string& key_column, int depth);

  std::string m_directory;
  std::string m_database;
  std::string m_stamp;
  bool m_new_file = false;
  std::vector<std::unique_ptr<Open>> m_files;
};

/// What restore put back from one file.
struct RestoredFile {
  ArchiveFile file;          // file.rows: rows read from it
  std::int64_t restored = 0; // rows inserted
  std::int64_t skipped = 0;  // rows whose key was already in the table
};

/// What restore put back, file by file in the order they were restored.
struct RestoreReport {
  bool dry_run = false;
  std::vector<RestoredFile> files;
};

/// Reads the archive files' headers (NotFoundError 66, PermissionError 77, DataError 65 for
/// a file that is not a housekeep archive) and returns them in restore order: parents before
/// children, by the configured cascades and the schema's foreign keys, then by depth.
std::vector<ArchiveFile> plan_restore(Store& store, const Config& config, const std::vector<std::string>& paths);

/// Puts the rows of the archive files back, parents before children, in batches of one
/// write transaction each; a row whose key is already in its table is skipped. With
/// `dry_run`, counts what would go back and writes nothing.
RestoreReport restore_archives(Store& store, const Config& config, const std::vector<std::string>& paths, bool dry_run,
                               const Logger& log);

} // namespace housekeep
